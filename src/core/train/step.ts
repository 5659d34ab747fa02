import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import { LossConfig, computeLoss } from '../loss';
import { DefenceConfig, defenceForward } from '../loss/defences';
import { adversarialExamples } from './adversarial';
import type { AdversarialConfig } from './options';
import { argmaxRows } from '../metrics';
import { withDropoutSeed } from '../models/dropout';

/** What a step adds to its loss: a defence's penalty, adversarial examples (train/adversarial.ts). */
export interface StepExtras {
  defence?: DefenceConfig | null;
  adversarial?: AdversarialConfig | null;
}

/**
 * The forward and backward pass of one batch in training mode: the gradient of the batch's loss for
 * each variable (in their order; the caller disposes them), the loss, and how many samples it got right.
 * Dropout masks come from `dropoutSeed` (models/dropout.ts: one seed per step, rank and layer).
 * With a defence, its weighted penalty joins the loss (exact second-order gradients); with
 * adversarial training, the loss is the mean of the clean batch's and its adversarial copy's (paper §5).
 */
export function batchGradients(
  model: tfl.LayersModel,
  variables: tf.Variable[],
  loss: LossConfig,
  x: tf.Tensor4D,
  labels: Int32Array,
  dropoutSeed: number,
  extras: StepExtras = {},
): { grads: tf.Tensor[]; loss: number; hits: number } {
  return withDropoutSeed(model, dropoutSeed, () => tf.tidy(() => {
    // Made from the weights before this step, outside the gradient's tape: not differentiated through.
    const adversarial = extras.adversarial ? adversarialExamples(model, x, labels, extras.adversarial, dropoutSeed) : null;
    // z is kept out of variableGrads' own scope so the step's accuracy needs no second forward pass.
    const forward: { z?: tf.Tensor2D } = {};
    const { value, grads } = tf.variableGrads(() => {
      const clean = batchObjective(model, loss, extras.defence ?? null, x, labels, dropoutSeed);
      forward.z = clean.z;
      if (!adversarial) return clean.value;
      const attacked = batchObjective(model, loss, extras.defence ?? null, adversarial, labels, dropoutSeed);
      attacked.z.dispose();
      return tf.div(tf.add(clean.value, attacked.value), 2) as tf.Scalar;
    }, variables);
    const z = forward.z as tf.Tensor2D;
    const predictions = argmaxRows(z.dataSync() as Float32Array, z.shape[1]);
    z.dispose();
    return { grads: variables.map((v) => grads[v.name]), loss: value.dataSync()[0], hits: predictions.filter((p, i) => p === labels[i]).length };
  }));
}

/** The loss of one batch (plus the defence's weighted penalty) and its outputs z (kept: the caller disposes them). */
function batchObjective(
  model: tfl.LayersModel,
  loss: LossConfig,
  defence: DefenceConfig | null,
  x: tf.Tensor4D,
  labels: Int32Array,
  seed: number,
): { value: tf.Scalar; z: tf.Tensor2D } {
  const apply = (input: tf.Tensor) => model.apply(input, { training: true }) as tf.Tensor2D;
  if (!defence) {
    const z = tf.keep(apply(x));
    return { value: computeLoss(loss, z, labels), z };
  }
  const classes = model.outputs[0].shape[1] as number;
  const { z, penalty } = defenceForward(defence, apply, x, labels, classes, seed);
  return { value: tf.add(computeLoss(loss, z, labels), tf.mul(penalty, defence.weight)) as tf.Scalar, z };
}

/**
 * batchGradients with the gradients read out as arrays, for another process. They are filled in
 * outside tf.tidy's return value: tidy would walk every element of a returned typed array.
 */
export function batchGradientArrays(
  model: tfl.LayersModel,
  variables: tf.Variable[],
  loss: LossConfig,
  x: tf.Tensor4D,
  labels: Int32Array,
  dropoutSeed: number,
): { gradients: Float32Array[]; loss: number; hits: number } {
  let gradients: Float32Array[] = [];
  const outcome = tf.tidy(() => {
    const { grads, ...rest } = batchGradients(model, variables, loss, x, labels, dropoutSeed);
    gradients = grads.map((g) => g.dataSync() as Float32Array);
    return rest;
  });
  return { gradients, ...outcome };
}
