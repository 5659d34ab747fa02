/** What every attack module shares: the parameter set, the attack shape, cancellation, row helpers. */
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';

/** What the gradient attacks differentiate, always on the raw outputs z (never a softmax of them). */
export const ATTACK_LOSSES = ['crossentropy', 'margin', 'dlr', 'latent'] as const;
export type AttackLoss = (typeof ATTACK_LOSSES)[number];

/** Target class of a targeted attack: y+1 mod D (the paper's), the clean least-likely class, or a fixed class. */
export type TargetRule = 'next' | 'least-likely' | number;

/**
 * The threat model: the ball the perturbation n must stay in, relative to each image x (as the
 * paper measures ε): linf ‖n‖∞ ≤ ε·‖x‖∞, l2 ‖n‖₂ ≤ ε·‖x‖₂. MNIST digits have ‖x‖∞ = 1, so there the
 * L∞ ε is AutoAttack's absolute one; their ‖x‖₂ is about 10, so an L2 ε of 0.2 is about 2 in
 * AutoAttack's absolute pixel units.
 */
export const THREAT_MODELS = ['linf', 'l2'] as const;
export type ThreatModel = (typeof THREAT_MODELS)[number];

/** Every attack parameter with its default filled in; each attack takes a subset (its `keys`). */
export interface ResolvedParams {
  /** Budget relative to each image in the norm of `norm`: ‖n‖ ≤ ε·‖x‖ (the paper's definition for L∞). */
  eps: number;
  /** The threat model, L∞ (the paper's) or L2. */
  norm: ThreatModel;
  /** Gradient steps K of PGD and TGSM. */
  steps: number;
  /** Size of each gradient step, in the units of ε (× ‖x‖ in the norm of `norm`); default 2.5ε/K. */
  stepSize: number;
  /** Start PGD/TGSM at a seeded uniform point of the ε-ball instead of at x. */
  randomStart: boolean;
  /** Runs from a fresh random start (PGD/TGSM: the first from x unless randomStart); each sample keeps its best. */
  restarts: number;
  loss: AttackLoss;
  /** μ_T of the GCCS model under attack, for the 'latent' loss. */
  muT: number;
  target: TargetRule;
  /** JSMA: changed pixels (one per iteration); DeepFool: linearisation steps. */
  maxIterations: number;
  /** JSMA: largest fraction of input values that may change. */
  gamma: number;
  /** DeepFool: the final perturbation is (1 + overshoot)·Σ r_i. */
  overshoot: number;
  /** SPSA: Adam steps; APGD: iterations per restart (and per target class for APGD-T). */
  iterations: number;
  /** APGD-T: attack the k classes with the highest clean outputs after the true one, one after the other. */
  targetCount: number;
  /** Square: the query budget, every forward pass of a sample counted (the first, at the start point, included). */
  queries: number;
  /** Square: initial fraction of the pixels a square covers (the schedule shrinks it). */
  pInit: number;
  /** SPSA: ±δ Rademacher pairs per gradient estimate. */
  samples: number;
  /** SPSA: finite-difference step, in pixel units. */
  delta: number;
  /** SPSA: Adam learning rate, in pixel units. */
  learningRate: number;
  /** SPSA: stop perturbing a sample once it is misclassified. */
  earlyStop: boolean;
}

export type AttackParams = Partial<ResolvedParams>;

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

/** One attack: the parameters it takes and how it perturbs a batch. */
export interface Attack<K extends keyof ResolvedParams> {
  keys: readonly K[];
  /** Defaults that differ from the shared ones. */
  defaults?: Partial<Pick<ResolvedParams, K>>;
  run(model: tfl.LayersModel, x: tf.Tensor4D, labels: Int32Array, params: Pick<ResolvedParams, K>, seed: number, signal?: AbortSignal): Promise<AttackOutput>;
}

/** Ties an attack's `keys` to the parameter type its `run` receives. */
export function defineAttack<K extends keyof ResolvedParams>(attack: Attack<K>): Attack<K> {
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

/** One-hot rows [B, D] of `classes`, as weights for inputGradient. */
export function oneHotRows(classes: ArrayLike<number>, dims: number): Float32Array {
  const rows = new Float32Array(classes.length * dims);
  for (let b = 0; b < classes.length; b++) rows[b * dims + classes[b]] = 1;
  return rows;
}
