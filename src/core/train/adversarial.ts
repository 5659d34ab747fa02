/**
 * Adversarial training (paper §5, after Goodfellow et al. 2015): each batch's loss is the mean of its
 * loss on the clean images and on adversarial versions of them, made from the model being trained
 * (inference mode, cross-entropy on z as the attack's loss, the paper's default). FGSM by default
 * (the paper's ε = 0.03, relative as everywhere here: ‖x_adv − x‖∞ ≤ ε·‖x‖∞); PGD (Madry et al.
 * 2018: a seeded random start, `steps` steps of 2.5·ε/steps) as an option. The attack pieces are
 * the evaluation's own (attacks/gradientCore.ts), so training and evaluation perturb alike.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import { Random } from '../random';
import { attackLoss } from '../attacks/objectives';
import type { AdversarialConfig } from './options';
import { ballRadius, imageNorm, lossAndGradient, normalizeGradient, project, randomPoint } from '../attacks/gradientCore';

/** PGD's step, as a multiple of ε/steps (Madry et al. 2018). */
const PGD_STEP_SCALE = 2.5;

/** Adversarial versions of x (the caller owns them) against `model` as it is now; `seed` draws PGD's start. */
export function adversarialExamples(model: tfl.LayersModel, x: tf.Tensor4D, labels: Int32Array, config: AdversarialConfig, seed: number): tf.Tensor4D {
  const lossOf = (z: tf.Tensor2D) => attackLoss('crossentropy', z, labels, 0);
  const radius = ballRadius(x, 'linf', config.eps);
  const stepSize = config.method === 'fgsm' ? config.eps : (PGD_STEP_SCALE * config.eps) / config.steps;
  const step = tf.tidy(() => tf.mul(imageNorm(x, 'linf'), stepSize));
  let adversarial = config.method === 'fgsm' ? tf.clone(x) : randomPoint(x, radius, 'linf', new Random(seed));
  for (let k = 0; k < config.steps; k++) {
    const { gradient } = lossAndGradient(model, adversarial, lossOf);
    const current = adversarial;
    adversarial = tf.tidy(() => project(tf.add(current, tf.mul(step, normalizeGradient(gradient, 'linf'))), x, radius, 'linf'));
    tf.dispose([current, gradient]);
  }
  tf.dispose([radius, step]);
  return adversarial;
}
