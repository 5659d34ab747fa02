/**
 * Adversarial attacks, in the manner of Foolbox 3: FGSM, PGD and TGSM are configurations of one
 * gradient core (gradientCore.ts, L∞ and L2, best iterate, restarts) that APGD builds on too; JSMA,
 * DeepFool, SPSA and Square are small modules. This file is the one registry: which parameters
 * each attack takes, their defaults and their validation.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import { UserError } from '../errors';
import { ATTACK_LIMITS } from '../limits';
import { apgdCe, apgdDlr, apgdTargeted } from './apgd';
import { ATTACK_LOSSES, Attack, AttackCancelled, AttackOutput, AttackParams, ResolvedParams, THREAT_MODELS } from './common';
import { deepfool } from './deepfool';
import { fgsm } from './fgsm';
import { jsma } from './jsma';
import { pgd } from './pgd';
import { spsa } from './spsa';
import { square } from './square';
import { tgsm } from './tgsm';

export { AttackCancelled } from './common';
export type { AttackLoss, AttackOutput, AttackParams, ResolvedParams, TargetRule, ThreatModel } from './common';

const ATTACKS = { fgsm, pgd, tgsm, jsma, deepfool, spsa, 'apgd-ce': apgdCe, 'apgd-dlr': apgdDlr, 'apgd-t': apgdTargeted, square };

export type AttackName = keyof typeof ATTACKS;
export const ATTACK_NAMES = Object.keys(ATTACKS) as AttackName[];

/** The parameters attack N takes, defaults filled in. */
export type ResolvedAttackParams<N extends AttackName> = Pick<ResolvedParams, (typeof ATTACKS)[N]['keys'][number]>;

/**
 * Shared defaults (an attack's own `defaults` override them). stepSize defaults to 2.5ε/K and
 * overshoot to 0.02, as in the papers; ε has no single value there (it is swept), 0.1 is a start.
 */
const DEFAULTS: Omit<ResolvedParams, 'stepSize'> = {
  eps: 0.1,
  norm: 'linf',
  steps: 5,
  randomStart: false,
  restarts: 1,
  loss: 'crossentropy',
  muT: 70,
  target: 'next',
  maxIterations: 50,
  gamma: 0.1,
  overshoot: 0.02,
  iterations: 100,
  samples: 64,
  delta: 0.01,
  learningRate: 0.01,
  earlyStop: true,
  targetCount: 9,
  queries: 5000,
  pInit: 0.8,
};

const isCount = (v: unknown) => Number.isInteger(v) && (v as number) >= 1;
const isCountUpTo = (max: number) => (v: unknown) => isCount(v) && (v as number) <= max;
const isPositive = (v: unknown) => typeof v === 'number' && v > 0 && Number.isFinite(v);
const isBoolean = (v: unknown) => typeof v === 'boolean';

/** Each parameter's test and what it must be, for the error message. */
const CHECKS: { [K in keyof ResolvedParams]: [(value: unknown) => boolean, string] } = {
  eps: [(v) => typeof v === 'number' && v >= 0 && v <= 1, 'a number in [0, 1], relative to the image (‖n‖ ≤ ε·‖x‖ in the norm of the threat model)'],
  norm: [(v) => (THREAT_MODELS as readonly unknown[]).includes(v), THREAT_MODELS.join(' or ')],
  steps: [isCount, 'a whole number ≥ 1'],
  stepSize: [isPositive, 'a number > 0'],
  randomStart: [isBoolean, 'true or false'],
  restarts: [isCountUpTo(ATTACK_LIMITS.restarts), `a whole number from 1 to ${ATTACK_LIMITS.restarts}`],
  loss: [(v) => (ATTACK_LOSSES as readonly unknown[]).includes(v), ATTACK_LOSSES.join(', ')],
  muT: [isPositive, 'a number > 0'],
  target: [(v) => v === 'next' || v === 'least-likely' || (Number.isInteger(v) && (v as number) >= 0), 'next, least-likely or a class index ≥ 0'],
  maxIterations: [isCount, 'a whole number ≥ 1'],
  gamma: [(v) => typeof v === 'number' && v > 0 && v <= 1, 'a number in (0, 1]'],
  overshoot: [(v) => typeof v === 'number' && v >= 0 && Number.isFinite(v), 'a number ≥ 0'],
  iterations: [isCount, 'a whole number ≥ 1'],
  samples: [isCount, 'a whole number ≥ 1'],
  delta: [isPositive, 'a number > 0'],
  learningRate: [isPositive, 'a number > 0'],
  earlyStop: [isBoolean, 'true or false'],
  targetCount: [isCount, 'a whole number ≥ 1 (at most the number of classes − 1)'],
  queries: [isCountUpTo(ATTACK_LIMITS.queries), `a whole number from 1 to ${ATTACK_LIMITS.queries}`],
  pInit: [(v) => typeof v === 'number' && v > 0 && v <= 1, 'a number in (0, 1]'],
};

function attackOf(name: string): Attack<keyof ResolvedParams> {
  if (!Object.hasOwn(ATTACKS, name)) throw new UserError(`unknown attack "${name}": expected one of ${ATTACK_NAMES.join(', ')}`);
  return ATTACKS[name as AttackName] as Attack<keyof ResolvedParams>;
}

/**
 * The parameters `name` takes, the given ones over the defaults. Throws a one-line UserError for an
 * unknown attack, a parameter the attack does not take, or a value out of range.
 */
export function resolveAttackParams<N extends AttackName>(name: N, given: AttackParams = {}): ResolvedAttackParams<N> {
  const attack = attackOf(name);
  const stated = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) as AttackParams;
  for (const key of Object.keys(stated)) {
    if (!(attack.keys as string[]).includes(key)) throw new UserError(`${name} takes no parameter "${key}" (it takes ${attack.keys.join(', ')})`);
  }
  const merged = { ...DEFAULTS, ...attack.defaults, ...stated };
  const all: ResolvedParams = { ...merged, stepSize: stated.stepSize ?? (2.5 * merged.eps) / merged.steps };
  for (const key of attack.keys) {
    const [valid, expected] = CHECKS[key];
    if (!valid(all[key])) throw new UserError(`${name}: ${key} must be ${expected} (got ${JSON.stringify(all[key])})`);
  }
  return Object.fromEntries(attack.keys.map((key) => [key, all[key]])) as ResolvedAttackParams<N>;
}

/**
 * Attacks one batch x [B, H, W, C] (pixels in [0, 1]) with its true labels. The caller owns and
 * disposes the returned tensor; `seed` fixes every random draw (random starts, SPSA, Square).
 * An abort through `signal` stops the attack between two iterations with AttackCancelled.
 */
export async function attackBatch(
  model: tfl.LayersModel,
  name: AttackName,
  x: tf.Tensor4D,
  labels: Int32Array,
  params: AttackParams,
  seed: number,
  signal?: AbortSignal,
): Promise<AttackOutput> {
  const output = await attackOf(name).run(model, x, labels, resolveAttackParams(name, params), seed, signal);
  if (signal?.aborted) {
    output.adversarial.dispose();
    throw new AttackCancelled();
  }
  return output;
}

