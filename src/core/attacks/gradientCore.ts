/**
 * The one L∞ gradient core behind FGSM, PGD and TGSM (as in Foolbox 3): loss on z → gradient with
 * respect to the input → sign → step → projection onto the ε-ball and the pixel range [0, 1].
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import { Random } from '../random';
import { ResolvedParams, cancelled, logitsOf } from './common';
import { attackLoss } from './objectives';

export type SignGradientConfig = Pick<ResolvedParams, 'eps' | 'steps' | 'stepSize' | 'randomStart' | 'loss' | 'muT'> & {
  /** Descend the loss toward these classes (targeted) instead of ascending it away from the labels. */
  targets?: Int32Array;
};

/** ‖x‖∞ of each sample as [B, 1, 1, 1]: ε and step sizes are fractions of it. */
export function maxAbs(x: tf.Tensor4D): tf.Tensor4D {
  return tf.max(tf.abs(x), [1, 2, 3], true);
}

/** Projects `candidate` onto {x' : |x' − x| ≤ radius elementwise} ∩ [0, 1]; radius is per sample. */
export function project(candidate: tf.Tensor4D, x: tf.Tensor4D, radius: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.minimum(tf.maximum(candidate, tf.sub(x, radius)), tf.add(x, radius)), 0, 1)) as tf.Tensor4D;
}

export async function signGradientAttack(
  model: tfl.LayersModel,
  x: tf.Tensor4D,
  labels: Int32Array,
  config: SignGradientConfig,
  seed: number,
  signal?: AbortSignal,
): Promise<tf.Tensor4D> {
  const classes = config.targets ?? labels;
  const direction = config.targets ? -1 : 1;
  const [radius, step] = tf.tidy(() => {
    const scale = maxAbs(x);
    return [tf.mul(scale, config.eps), tf.mul(scale, config.stepSize * direction)] as tf.Tensor4D[];
  });
  // Summing the per-sample losses keeps each sample's gradient its own.
  const gradient = tf.grad((input: tf.Tensor) => tf.sum(attackLoss(config.loss, logitsOf(model, input), classes, config.muT)));
  let adversarial = config.randomStart ? randomStart(x, radius, seed) : tf.clone(x);
  for (let k = 0; k < config.steps; k++) {
    const current = adversarial;
    adversarial = tf.tidy(() => project(tf.add(current, tf.mul(step, tf.sign(gradient(current)))), x, radius));
    current.dispose();
    if (k + 1 < config.steps && (await cancelled(signal))) break;
  }
  tf.dispose([radius, step]);
  return adversarial;
}

/** A seeded uniform point of the ε-ball around x, within [0, 1]. */
function randomStart(x: tf.Tensor4D, radius: tf.Tensor4D, seed: number): tf.Tensor4D {
  const random = new Random(seed);
  const noise = new Float32Array(x.size).map(() => random.uniform(-1, 1));
  return tf.tidy(() => project(tf.add(x, tf.mul(radius, tf.tensor(noise, x.shape))), x, radius));
}
