/**
 * Packed passes: work that attacks used to do in many small calls (one backward pass per class, one
 * forward pass per SPSA pair) done in a few large ones. Each pass holds at most
 * ATTACK_PACKING.inputValuesPerPass input values, so memory stays bounded whatever the batch.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import { ATTACK_PACKING } from '../limits';
import { chainInputGradients } from './chainBackward';
import { logitsOf } from './common';

/** Rows of `size` input values each that fit in one packed pass of `valuesPerPass` values (at least 1). */
export function rowsPerPass(size: number, valuesPerPass: number = ATTACK_PACKING.inputValuesPerPass): number {
  return Math.max(1, Math.floor(valuesPerPass / size));
}

export interface TiledGradients {
  /** [K·A·size], weighting-major: rows k·A … (k+1)·A − 1 are ∇_x Σ_j w_k[b, j]·z_bj for b = 0 … A − 1. */
  gradients: Float32Array;
  /** z [A, D] at x, read from the same forward pass. */
  z: Float32Array;
}

/**
 * The input gradients of K weightings w_k [A·D] of the outputs of the same A samples x. With
 * one-hot rows, w_k picks one class per sample, so this is the Jacobian rows that DeepFool and JSMA
 * need. A chain of common layers takes one forward and a K-fold backward (chainBackward.ts); any
 * other model the class-tiled pass. `valuesPerPass` bounds a backward pass.
 */
export function tiledInputGradients(
  model: tfl.LayersModel,
  x: tf.Tensor4D,
  weights: Float32Array[],
  valuesPerPass: number = ATTACK_PACKING.inputValuesPerPass,
): TiledGradients {
  const samplesPerPass = Math.max(1, Math.floor(rowsPerPass(x.size / x.shape[0], valuesPerPass) / weights.length));
  return chainInputGradients(model, x, weights, samplesPerPass) ?? classTiledInputGradients(model, x, weights, valuesPerPass);
}

/**
 * tiledInputGradients from forward and backward passes over the class-tiled batch (row k·A + b is
 * sample b, weighted by w_k's row b): one pass instead of K when it fits, for any model.
 */
export function classTiledInputGradients(model: tfl.LayersModel, x: tf.Tensor4D, weights: Float32Array[], valuesPerPass: number): TiledGradients {
  const count = x.shape[0];
  const size = x.size / count;
  const dims = weights[0].length / count;
  const total = weights.length * count;
  const perPass = rowsPerPass(size, valuesPerPass);
  const gradients = new Float32Array(total * size);
  const z = new Float32Array(count * dims);
  for (let start = 0; start < total; start += perPass) {
    const end = Math.min(total, start + perPass);
    const samples = Int32Array.from({ length: end - start }, (_, i) => (start + i) % count);
    const rowWeights = new Float32Array((end - start) * dims);
    for (let row = start; row < end; row++) {
      const b = row % count;
      rowWeights.set(weights[Math.floor(row / count)].subarray(b * dims, (b + 1) * dims), (row - start) * dims);
    }
    let logits: Float32Array | undefined;
    tf.tidy(() => {
      const input = start === 0 && end === count ? x : tf.gather(x, tf.tensor1d(samples, 'int32'));
      const w = tf.tensor2d(rowWeights, [end - start, dims]);
      const gradient = tf.grad((tiled: tf.Tensor) => {
        const out = logitsOf(model, tiled);
        if (start < count) logits = out.dataSync() as Float32Array;
        return tf.sum(tf.mul(out, w));
      })(input);
      gradients.set(gradient.dataSync(), start * size);
    });
    if (logits) z.set(logits.subarray(0, (Math.min(end, count) - start) * dims), start * dims);
  }
  return { gradients, z };
}
