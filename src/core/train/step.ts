import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import { LossConfig, computeLoss } from '../loss';
import { argmaxRows } from '../metrics';
import { withDropoutSeed } from '../models/dropout';

/**
 * The forward and backward pass of one batch in training mode: the gradient of the batch's loss for
 * each variable (in their order; the caller disposes them), the loss, and how many samples it got right.
 * Dropout masks come from `dropoutSeed` (models/dropout.ts: one seed per step, rank and layer).
 */
export function batchGradients(model: tfl.LayersModel, variables: tf.Variable[], loss: LossConfig, x: tf.Tensor4D, labels: Int32Array, dropoutSeed: number): { grads: tf.Tensor[]; loss: number; hits: number } {
  return withDropoutSeed(model, dropoutSeed, () => tf.tidy(() => {
    // z is kept out of variableGrads' own scope so the step's accuracy needs no second forward pass.
    const forward: { z?: tf.Tensor2D } = {};
    const { value, grads } = tf.variableGrads(() => {
      forward.z = tf.keep(model.apply(x, { training: true }) as tf.Tensor2D);
      return computeLoss(loss, forward.z, labels);
    }, variables);
    const z = forward.z as tf.Tensor2D;
    const predictions = argmaxRows(z.dataSync() as Float32Array, z.shape[1]);
    z.dispose();
    return { grads: variables.map((v) => grads[v.name]), loss: value.dataSync()[0], hits: predictions.filter((p, i) => p === labels[i]).length };
  }));
}

/**
 * batchGradients with the gradients read out as arrays, for another process. They are filled in
 * outside tf.tidy's return value: tidy would walk every element of a returned typed array.
 */
export function batchGradientArrays(model: tfl.LayersModel, variables: tf.Variable[], loss: LossConfig, x: tf.Tensor4D, labels: Int32Array, dropoutSeed: number): { gradients: Float32Array[]; loss: number; hits: number } {
  let gradients: Float32Array[] = [];
  const outcome = tf.tidy(() => {
    const { grads, ...rest } = batchGradients(model, variables, loss, x, labels, dropoutSeed);
    gradients = grads.map((g) => g.dataSync() as Float32Array);
    return rest;
  });
  return { gradients, ...outcome };
}
