/** Mini-batches: byte images become float tensors only a batch at a time, never the whole set at once. */
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../errors';
import { Random, permutation } from '../random';
import { shiftImages } from './augment';
import type { Examples } from './types';

/**
 * The examples at `indices` as x [B, H, W, C] float32 in [0, 1] and y [B] int32; with `shift`,
 * each image moved by up to that many pixels (training augmentation).
 */
export function makeBatch(examples: Examples, indices: ArrayLike<number>, shift?: { maxShift: number; random: Random }): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const [height, width, channels] = examples.shape;
  const size = height * width * channels;
  const count = examples.labels.length;
  const x = new Float32Array(indices.length * size);
  const y = new Int32Array(indices.length);
  for (let b = 0; b < indices.length; b++) {
    const index = indices[b];
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      throw new RangeError(`makeBatch: index ${index} is outside 0..${count - 1}`);
    }
    const start = index * size;
    for (let i = 0; i < size; i++) x[b * size + i] = examples.pixels[start + i] / 255;
    y[b] = examples.labels[index];
  }
  if (shift && shift.maxShift > 0) shiftImages(x, examples.shape, shift.maxShift, shift.random);
  return { x: tf.tensor4d(x, [indices.length, height, width, channels], 'float32'), y: tf.tensor1d(y, 'int32') };
}

/** The indices 0..n−1 in a seeded random order, cut into batches; the last one may be smaller. */
export function* batchOrders(n: number, batchSize: number, seed: number): Generator<Int32Array> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new UserError(`batch size must be a whole number ≥ 1, got ${batchSize}`);
  }
  const order = permutation(n, seed);
  for (let start = 0; start < n; start += batchSize) yield order.subarray(start, start + batchSize);
}
