import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../../src/core/tf';

/** z = Wx + b on a flattened side×side×1 image; w[k] is class k's weight row. */
export function linearModel(w: number[][], b: number[], side: number): tfl.LayersModel {
  const size = side * side;
  const model = tfl.sequential();
  model.add(tfl.layers.flatten({ inputShape: [side, side, 1] }));
  model.add(tfl.layers.dense({ units: w.length }));
  const kernel = Float32Array.from({ length: size * w.length }, (_, i) => w[i % w.length][Math.floor(i / w.length)]);
  model.setWeights([tf.tensor2d(kernel, [size, w.length]), tf.tensor1d(b)]);
  return model;
}
