import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';

/**
 * What the input-gradient defences (JR, IGR, CLR) need beyond TensorFlow.js: they differentiate an
 * input gradient again with respect to the weights (double backpropagation), so every op on the
 * backward pass needs a gradient of its own. TensorFlow.js registers one for every op of the
 * bundled models' backward passes but MaxPoolGrad (the gradient of max pooling). It is linear in
 * dy: dx = Mᵀ·dy with M picking each window's first maximum, so its gradient with respect to dy is
 * M·ddx, and zero with respect to x and y (M is piecewise constant). M·ddx is computed exactly for
 * windows that do not overlap (stride = pool size, as every bundled model); other pools are refused
 * before training (`secondOrderProblem`).
 */
tf.registerGradient({
  kernelName: tf.MaxPoolGrad,
  inputsToSave: ['input', 'output'],
  gradFunc: (ddx, saved, attrs) => {
    const [x, y] = saved as [tf.Tensor4D, tf.Tensor4D];
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
    return {
      dy: () => windowMaxima(ddx as tf.Tensor4D, x, y, filterSize, strides, pad, dimRoundingMode),
      input: () => tf.zerosLike(x),
      output: () => tf.zerosLike(y),
    };
  },
});

/** M·v: for each pooling window of x, v at the position max pooling's gradient sends dy to. */
function windowMaxima(
  v: tf.Tensor4D,
  x: tf.Tensor4D,
  y: tf.Tensor4D,
  filterSize: [number, number] | number,
  strides: [number, number] | number,
  pad: tf.MaxPoolGradAttrs['pad'],
  rounding: tf.MaxPoolGradAttrs['dimRoundingMode'],
): tf.Tensor4D {
  const info = tf.backend_util.computePool2DInfo(x.shape, filterSize, strides, 1, pad, rounding);
  if (info.strideHeight !== info.filterHeight || info.strideWidth !== info.filterWidth) {
    throw new Error(`the second derivative of max pooling needs windows that do not overlap (stride ${info.strideHeight}×${info.strideWidth}, pool ${info.filterHeight}×${info.filterWidth})`);
  }
  // One 1 per window, where the kernel itself sends the gradient (its first maximum).
  const attributes = { filterSize, strides, pad, dimRoundingMode: rounding } as unknown as tf.NamedAttrMap;
  const mask = tf.engine().runKernel(tf.MaxPoolGrad, { dy: tf.onesLike(y), input: x, output: y }, attributes) as tf.Tensor4D;
  const [n, , , c] = x.shape;
  const { outHeight, outWidth, filterHeight, filterWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const bottom = Math.max(0, outHeight * filterHeight - top - x.shape[1]);
  const right = Math.max(0, outWidth * filterWidth - left - x.shape[2]);
  const padded = tf.pad(tf.mul(mask, v), [[0, 0], [top, bottom], [left, right], [0, 0]]);
  const windows = tf.slice(padded, [0, 0, 0, 0], [n, outHeight * filterHeight, outWidth * filterWidth, c]);
  return tf.sum(tf.reshape(windows, [n, outHeight, filterHeight, outWidth, filterWidth, c]), [2, 4]) as tf.Tensor4D;
}

/** Layers whose backward pass TensorFlow.js (with the gradient above) can differentiate again. */
const TWICE_DIFFERENTIABLE = new Set([
  ...['InputLayer', 'Conv2D', 'Dense', 'Flatten', 'Dropout', 'Activation', 'ReLU', 'MaxPooling2D', 'BatchNormalization', 'Add'],
  ...['GlobalAveragePooling2D', 'AveragePooling2D', 'Reshape', 'ZeroPadding2D'],
]);
const TWICE_DIFFERENTIABLE_ACTIVATIONS = new Set(['linear', 'relu', 'sigmoid', 'tanh', 'elu', 'softplus', 'softmax', 'relu6', 'selu']);

/** Why `model` cannot be trained with an input-gradient defence, or null when it can. */
export function secondOrderProblem(model: tfl.LayersModel): string | null {
  for (const layer of model.layers) {
    const className = layer.getClassName();
    const config = layer.getConfig() as { activation?: string; poolSize?: number | number[]; strides?: number | number[] | null };
    if (!TWICE_DIFFERENTIABLE.has(className)) return `layer ${layer.name} (${className}) is not one whose gradient can be differentiated again (supported: ${[...TWICE_DIFFERENTIABLE].join(', ')})`;
    if (config.activation !== undefined && !TWICE_DIFFERENTIABLE_ACTIVATIONS.has(config.activation)) return `layer ${layer.name} has activation ${config.activation}, whose gradient cannot be differentiated again`;
    if (className === 'MaxPooling2D') {
      const pool = [config.poolSize].flat();
      const strides = [config.strides ?? config.poolSize].flat();
      const same = (i: number) => (strides[i] ?? strides[0]) === (pool[i] ?? pool[0]);
      if (!same(0) || !same(1)) return `layer ${layer.name} (MaxPooling2D) has overlapping windows (strides ${strides.join('×')}, pool ${pool.join('×')}); the second derivative is implemented for stride = pool size`;
    }
  }
  return null;
}
