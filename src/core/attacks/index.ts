/**
 * Adversarial attacks, in the manner of Foolbox 3: FGSM, PGD and TGSM are configurations of one
 * gradient core (gradientCore.ts, L∞ and L2, best iterate, restarts) that APGD builds on too; JSMA,
 * DeepFool, SPSA, Square and FAB-T are small modules. This file is the registry: it maps each attack of
 * the catalog (core/catalog: names, parameters, defaults, ranges) to its implementation.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type * as tf from '../tf';
import type { AttackName, ResolvedAttackParams } from '../catalog';
import { apgdCe, apgdDlr, apgdTargeted } from './apgd';
import { Attack, AttackCancelled, AttackOutput } from './common';
import { deepfool } from './deepfool';
import { fabTargeted } from './fab';
import { fgsm } from './fgsm';
import { jsma } from './jsma';
import { pgd } from './pgd';
import { spsa } from './spsa';
import { square } from './square';
import { tgsm } from './tgsm';

export { AttackCancelled } from './common';
export type { AttackOutput } from './common';
export { ATTACK_NAMES, resolveAttackParams } from '../catalog';
export type { AttackLoss, AttackName, AttackParams, ResolvedAttackParams, ResolvedParams, TargetRule, ThreatModel } from '../catalog';

/** Every catalog attack's implementation; the type makes the two lists the same. */
export const IMPLEMENTATIONS: { [N in AttackName]: Attack<N> } = {
  fgsm,
  pgd,
  tgsm,
  jsma,
  deepfool,
  spsa,
  'apgd-ce': apgdCe,
  'apgd-dlr': apgdDlr,
  'apgd-t': apgdTargeted,
  'fab-t': fabTargeted,
  square,
};

/**
 * Attacks one batch x [B, H, W, C] (pixels in [0, 1]) with its true labels. `params` are as
 * resolveAttackParams gives them: checked once where they came in (a sweep's plan, an evaluation's
 * preset), not again per batch. The caller owns and disposes the returned tensor; `seed` fixes
 * every random draw (random starts, SPSA, Square). An abort through `signal` stops the attack
 * between two iterations with AttackCancelled.
 */
export async function attackBatch<N extends AttackName>(
  model: tfl.LayersModel,
  name: N,
  x: tf.Tensor4D,
  labels: Int32Array,
  params: ResolvedAttackParams<N>,
  seed: number,
  signal?: AbortSignal,
): Promise<AttackOutput> {
  const output = await (IMPLEMENTATIONS[name] as Attack<N>).run(model, x, labels, params, seed, signal);
  if (signal?.aborted) {
    output.adversarial.dispose();
    throw new AttackCancelled();
  }
  return output;
}
