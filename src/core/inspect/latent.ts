/** The outputs z of a model's first samples, clean and after an attack: `gccs latent` and the worker's `latent` request. */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { AttackName, ResolvedAttackParams, attackBatch, resolveAttackParams } from '../attacks';
import { outputsOf } from '../attacks/common';
import { makeBatch } from '../data/batches';
import type { Examples } from '../data/types';
import { UserError } from '../errors';
import { computeOutputs } from '../metrics';
import { loadModelSplit } from './modelSplit';
import type { LatentOptions, LatentOutput } from './types';

/** Samples per attacked batch; batch i is attacked with seed + i (as in sweeps). */
const ATTACK_BATCH = 100;

/** z of every example after an attack with resolved parameters (also the reproduction's Figure 3). */
export async function attackedOutputs<N extends AttackName>(
  model: LayersModel,
  examples: Examples,
  attack: N,
  params: ResolvedAttackParams<N>,
  seed: number,
  signal?: AbortSignal,
): Promise<Float32Array> {
  const count = examples.labels.length;
  const dims = model.outputs[0].shape[1] as number;
  const z = new Float32Array(count * dims);
  for (let start = 0, batchIndex = 0; start < count; start += ATTACK_BATCH, batchIndex++) {
    const indices = Array.from({ length: Math.min(ATTACK_BATCH, count - start) }, (_, i) => start + i);
    const { x, y } = makeBatch(examples, indices);
    y.dispose();
    const { adversarial } = await attackBatch(model, attack, x, examples.labels.subarray(start, start + indices.length), params, seed + batchIndex, signal);
    x.dispose();
    z.set(outputsOf(model, adversarial), start * dims);
    adversarial.dispose();
  }
  return z;
}

export async function computeLatent(options: LatentOptions): Promise<LatentOutput> {
  if (!Number.isInteger(options.count) || options.count < 1) throw new UserError(`count must be a whole number ≥ 1 (got ${options.count})`);
  const { model, meta, modelJson, dataset, examples, splitName } = await loadModelSplit(options);
  try {
    const count = Math.min(options.count, examples.labels.length);
    const pixels = examples.pixels.subarray(0, count * examples.shape.reduce((a, b) => a * b, 1));
    const subset = { ...examples, labels: examples.labels.subarray(0, count), pixels };
    const { z, dims } = computeOutputs(model, subset);
    const { attack } = options;
    const params = attack && resolveAttackParams(attack.name, { eps: attack.eps });
    const attacked = attack ? await attackedOutputs(model, subset, attack.name, params!, options.seed ?? 0) : null;
    const row = (values: Float32Array, n: number) => Array.from(values.subarray(n * dims, (n + 1) * dims));
    return {
      model: modelJson,
      dims,
      classNames: dataset.classNames,
      muT: meta?.loss?.kind === 'gccs' ? meta.loss.muT : null,
      split: splitName,
      ...(attack && { attack: { name: attack.name, eps: attack.eps } }),
      samples: Array.from({ length: count }, (_, n) => ({ label: subset.labels[n], z: row(z, n), ...(attacked && { zAttacked: row(attacked, n) }) })),
    };
  } finally {
    model.dispose();
  }
}
