/** What every attack module shares: the attack shape, cancellation, row helpers (the parameters are in the catalog). */
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import type { AttackName, ResolvedAttackParams } from '../catalog';

export { ATTACK_LOSSES, THREAT_MODELS } from '../catalog';
export type { AttackLoss, AttackParams, ResolvedParams, TargetRule, ThreatModel } from '../catalog';

export interface AttackOutput {
  /** Same shape as x, pixels in [0, 1]. */
  adversarial: tf.Tensor4D;
  /** DeepFool: ‖x_adv − x‖₂ per sample. */
  perturbationNorms?: Float32Array;
  /** JSMA: fraction of the input values changed, per sample. */
  changedPixelFraction?: Float32Array;
  /** Square: forward passes spent on each sample. */
  queries?: Float32Array;
}

/** How attack N perturbs a batch; it takes the parameters the catalog lists for it, every one filled in. */
export interface Attack<N extends AttackName> {
  run(model: tfl.LayersModel, x: tf.Tensor4D, labels: Int32Array, params: ResolvedAttackParams<N>, seed: number, signal?: AbortSignal): Promise<AttackOutput>;
}

/** Types an implementation's `run` by its catalog name. */
export function defineAttack<N extends AttackName>(attack: Attack<N>): Attack<N> {
  return attack;
}

export class AttackCancelled extends Error {
  constructor() {
    super('attack cancelled');
    this.name = 'AttackCancelled';
  }
}

/**
 * Lets the event loop deliver an abort between two iterations; true once aborted. Attacks then stop
 * where they are (so their tensors are disposed as usual) and attackBatch throws AttackCancelled.
 */
export async function cancelled(signal?: AbortSignal): Promise<boolean> {
  await new Promise((resolve) => setImmediate(resolve));
  return signal?.aborted === true;
}

/** z [B, D] of a batch, in inference mode (apply, unlike predict, does not split the batch). */
export function logitsOf(model: tfl.LayersModel, x: tf.Tensor): tf.Tensor2D {
  return model.apply(x, { training: false }) as tf.Tensor2D;
}

/** z of a batch as an array. */
export function outputsOf(model: tfl.LayersModel, x: tf.Tensor4D): Float32Array {
  return tf.tidy(() => logitsOf(model, x).dataSync() as Float32Array);
}

/** D, the number of outputs. */
export function classCount(model: tfl.LayersModel): number {
  return model.outputs[0].shape[1] as number;
}

/** The rows `rows` of a [B, ...shape] array as a tensor: iterative attacks run only their unfinished samples. */
export function rowsTensor(data: Float32Array, rows: number[], shape: [number, number, number]): tf.Tensor4D {
  const size = shape[0] * shape[1] * shape[2];
  const out = new Float32Array(rows.length * size);
  rows.forEach((row, i) => out.set(data.subarray(row * size, (row + 1) * size), i * size));
  return tf.tensor4d(out, [rows.length, ...shape]);
}

/** z [rows.length, D] of the rows `rows` of a [B, ...shape] array. */
export function rowOutputs(model: tfl.LayersModel, data: Float32Array, rows: number[], shape: [number, number, number]): Float32Array {
  const input = rowsTensor(data, rows, shape);
  const z = outputsOf(model, input);
  input.dispose();
  return z;
}

/** ∇_x Σ_b Σ_j w_bj·z_bj for weights w [B, D]: with one-hot rows, each sample's gradient of one of its outputs. */
export function inputGradient(model: tfl.LayersModel, x: tf.Tensor4D, weights: Float32Array): Float32Array {
  return tf.tidy(() => {
    const w = tf.tensor2d(weights, [x.shape[0], weights.length / x.shape[0]]);
    return tf.grad((input: tf.Tensor) => tf.sum(tf.mul(logitsOf(model, input), w)))(x).dataSync() as Float32Array;
  });
}

/**
 * Each row's classes by output, highest first; equal outputs in class order and NaN last, so that
 * the order is the same on every run and platform.
 */
export function classesByOutput(z: ArrayLike<number>, dims: number): number[][] {
  const key = (v: number) => (Number.isNaN(v) ? -Infinity : v);
  return Array.from({ length: z.length / dims }, (_, b) => [...Array(dims).keys()].sort((i, j) => key(z[b * dims + j]) - key(z[b * dims + i]) || i - j));
}

/**
 * The targets of AutoAttack's targeted attacks (APGD-T, FAB-T): for each k < count, the class with
 * the (k + 1)-th highest clean output among those other than the true one, of every sample
 * (targets[k][b]). Ties as in classesByOutput.
 */
export function rankedTargets(z: ArrayLike<number>, labels: Int32Array, dims: number, count: number): Int32Array[] {
  if (count > dims - 1) throw new RangeError(`${count} targets asked of ${dims} classes`);
  const others = classesByOutput(z, dims).map((order, b) => order.filter((c) => c !== labels[b]));
  return Array.from({ length: count }, (_, k) => Int32Array.from(others, (order) => order[k]));
}

/** One-hot rows [B, D] of `classes`, as weights for inputGradient. */
export function oneHotRows(classes: ArrayLike<number>, dims: number): Float32Array {
  const rows = new Float32Array(classes.length * dims);
  for (let b = 0; b < classes.length; b++) rows[b * dims + classes[b]] = 1;
  return rows;
}
