import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import { makeBatch } from '../data/batches';
import type { Examples } from '../data/types';

/** The network outputs z [N, D] for a set of examples, in inference mode, batch by batch. */
export function computeOutputs(model: tfl.LayersModel, examples: Examples, batchSize = 500): { z: Float32Array; dims: number } {
  const count = examples.labels.length;
  const dims = model.outputs[0].shape[1] as number;
  const z = new Float32Array(count * dims);
  for (let start = 0; start < count; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => start + i);
    tf.tidy(() => {
      const { x } = makeBatch(examples, indices);
      z.set((model.predict(x) as tf.Tensor).dataSync(), start * dims);
    });
  }
  return { z, dims };
}

/**
 * True when the outputs no longer depend on the input: across the samples, every output varies by
 * less than a millionth of its size. A too-large step that kills every ReLU leaves a network like
 * this; its loss stays finite, so only this check notices it.
 */
export function outputsCollapsed(z: Float32Array, dims: number): boolean {
  const count = z.length / dims;
  if (count < 2) return false;
  for (let k = 0; k < dims; k++) {
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < count; i++) {
      const value = z[i * dims + k];
      min = Math.min(min, value);
      max = Math.max(max, value);
    }
    if (!(max - min <= 1e-6 * Math.max(1, Math.abs(max), Math.abs(min)))) return false;
  }
  return true;
}
