/**
 * The three regularisation defences the paper compares GCCS with, as penalties added to a training
 * loss (cross-entropy or GCCS). Each penalises an input gradient of the network's outputs z, so its
 * own gradient with respect to the weights is a second-order one: exact double backpropagation
 * (TensorFlow.js records the inner backward pass on the outer tape; ./secondOrder.ts adds the one
 * missing op gradient and says which layers are supported).
 * - JR (Hoffman, Roberts & Yaida 2019): ½·‖J‖²_F, J = ∂z/∂x, estimated per sample with `projections`
 *   random unit directions v of the output space: ‖J‖²_F ≈ D·‖vᵀJ‖² (their Algorithm 1).
 * - IGR (Ross & Doshi-Velez 2018, double backpropagation): ‖∇_x CE(z, y)‖² per sample.
 * - CLR (Hein & Andriushchenko 2017): 1/D² · Σ over ordered class pairs (l, m) of ‖∇_x z_l − ∇_x z_m‖²
 *   = 1/D² · (2D·Σ_l ‖∇z_l‖² − 2‖Σ_l ∇z_l‖²), their normalisation; exact, D backward passes.
 * Every penalty is the mean over the batch's samples.
 */
import * as tf from '../tf';
import { Random } from '../random';
import { DEFENCE_LIMITS } from '../limits';
import './secondOrder';

export const DEFENCE_KINDS = ['jr', 'igr', 'clr'] as const;
export type DefenceKind = (typeof DEFENCE_KINDS)[number];

export interface DefenceConfig {
  kind: DefenceKind;
  /** λ: the penalty's weight in the loss. */
  weight: number;
  /** JR only: random projections per sample (Hoffman et al.: 1). */
  projections: number;
}

/** The network's outputs z for inputs x, as the training step computes them (training mode, seeded dropout). */
export type Forward = (x: tf.Tensor) => tf.Tensor2D;

/**
 * One forward pass of x and the defence's penalty on it: z (kept: the caller disposes it) and the
 * penalty (not weighted), both differentiable with respect to the weights. `seed` draws JR's directions.
 */
export function defenceForward(
  config: DefenceConfig,
  forward: Forward,
  x: tf.Tensor4D,
  labels: Int32Array,
  classes: number,
  seed: number,
): { z: tf.Tensor2D; penalty: tf.Scalar } {
  switch (config.kind) {
    case 'jr': {
      const [batch] = x.shape;
      let z: tf.Tensor2D | null = null;
      const terms: tf.Scalar[] = [];
      for (let p = 0; p < config.projections; p++) {
        const directions = randomUnitRows(batch, classes, seed * DEFENCE_LIMITS.projections + p);
        const outcome = jacobianProjectionPenalty(forward, x, directions);
        if (z) outcome.z.dispose();
        else z = outcome.z;
        terms.push(outcome.penalty);
      }
      return { z: z!, penalty: tf.div(tf.addN(terms), config.projections) as tf.Scalar };
    }
    case 'igr':
      return inputGradientPenalty(forward, x, labels);
    case 'clr':
      return crossLipschitzPenalty(forward, x, classes);
  }
}

/** JR with given unit directions v [B, D] (one per sample): mean over samples of ½·D·‖vᵀJ‖². */
export function jacobianProjectionPenalty(forward: Forward, x: tf.Tensor4D, directions: tf.Tensor2D): { z: tf.Tensor2D; penalty: tf.Scalar } {
  // With dy = v, the backward pass of one forward gives vᵀJ for every sample at once.
  const { value, grad } = tf.valueAndGrad(forward)(x, directions);
  const classes = directions.shape[1];
  return { z: tf.keep(value) as tf.Tensor2D, penalty: tf.mul(meanSquaredNorm(grad), classes / 2) as tf.Scalar };
}

/**
 * IGR: mean over samples of ‖∇_x CE(z, y)‖² (each sample's own cross-entropy). ∇_x CE = Jᵀ·(softmax(z) − y):
 * one forward pass for z, then one backward pass with that dy. (Differentiating tf.grad of the
 * cross-entropy itself loses the second-order path through LogSoftmax's saved output in TensorFlow.js:
 * its weight gradient disagreed with finite differences, test/unit/loss-defences.test.ts.)
 */
export function inputGradientPenalty(forward: Forward, x: tf.Tensor4D, labels: Int32Array): { z: tf.Tensor2D; penalty: tf.Scalar } {
  const z = tf.keep(forward(x));
  const dy = tf.sub(tf.softmax(z), oneHotRows(tf.tensor1d(labels, 'int32'), z.shape[1])) as tf.Tensor2D;
  const { grad } = tf.valueAndGrad(forward)(x, dy);
  return { z, penalty: meanSquaredNorm(grad) };
}

/** CLR: mean over samples of 1/D²·(2D·Σ_l ‖∇z_l‖² − 2‖Σ_l ∇z_l‖²), from D backward passes. */
export function crossLipschitzPenalty(forward: Forward, x: tf.Tensor4D, classes: number): { z: tf.Tensor2D; penalty: tf.Scalar } {
  const [batch] = x.shape;
  let z: tf.Tensor2D | null = null;
  let squares: tf.Tensor = tf.scalar(0);
  let sum: tf.Tensor = tf.zerosLike(x);
  for (let l = 0; l < classes; l++) {
    const { value, grad } = tf.valueAndGrad(forward)(x, oneHotRows(tf.fill([batch], l, 'int32') as tf.Tensor1D, classes));
    if (z) value.dispose();
    else z = tf.keep(value) as tf.Tensor2D;
    squares = tf.add(squares, meanSquaredNorm(grad));
    sum = tf.add(sum, grad);
  }
  const penalty = tf.div(tf.sub(tf.mul(squares, 2 * classes), tf.mul(meanSquaredNorm(sum), 2)), classes * classes) as tf.Scalar;
  return { z: z!, penalty };
}

/** One-hot rows as float32. Cast from int32: the wasm backend's OneHot ignores a float32 dtype (its bits came out as ~1e-45). */
function oneHotRows(indices: tf.Tensor1D, depth: number): tf.Tensor2D {
  return tf.cast(tf.oneHot(indices, depth), 'float32') as tf.Tensor2D;
}

/** Mean over the batch (first axis) of each sample's squared L2 norm. */
function meanSquaredNorm(t: tf.Tensor): tf.Scalar {
  return tf.div(tf.sum(tf.square(t)), t.shape[0]) as tf.Scalar;
}

/** B seeded directions, uniform on the unit sphere of R^D (normalised Gaussians). */
function randomUnitRows(rows: number, columns: number, seed: number): tf.Tensor2D {
  return tf.tidy(() => {
    // The project's generator, not tf.randomNormal: TensorFlow.js takes seed 0 as "no seed".
    const random = new Random(seed);
    const v = tf.tensor2d(Float32Array.from({ length: rows * columns }, () => random.normal()), [rows, columns]);
    return tf.div(v, tf.norm(v, 2, 1, true)) as tf.Tensor2D;
  });
}
