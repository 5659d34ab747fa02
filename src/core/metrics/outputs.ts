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
