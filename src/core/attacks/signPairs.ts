/**
 * z at x ± δ·v for sign directions v (SPSA's forward passes). When the model starts with a
 * convolution of one input channel (stride 1, no padding, relu or no activation) followed by max
 * pooling — the built-in CNN on MNIST — and the backend has SignPairConvPool (wasm), the first
 * layer is not run on the 2·P·A points: it runs once on the A samples, and the directions enter
 * through the convolution's linearity as a table lookup per pixel (sign_pair_conv_pool.ts); the
 * other layers run as usual. Otherwise the points are built and the whole model runs on them.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import { SIGN_PAIR_MAX_TAPS, SignPairConvPool, SignPairConvPoolAttrs } from '../backend/kernels/sign_pair_conv_pool';
import { logitsOf } from './common';

interface FirstConvPool {
  conv: tfl.layers.Layer;
  useBias: boolean;
  attrs: Omit<SignPairConvPoolAttrs, 'delta'>;
  rest: tfl.layers.Layer[];
}

type ConvConfig = {
  strides: number[]; padding: string; dilationRate?: number | number[]; dataFormat?: string; activation: string; useBias: boolean;
};
type PoolConfig = { poolSize: [number, number]; strides: [number, number]; padding: string; dataFormat?: string };

const firstLayers = new WeakMap<tfl.LayersModel, FirstConvPool | null>();

/** The model's first convolution and pooling when the sign-pair kernel can run them, else null. */
function firstConvPoolOf(model: tfl.LayersModel): FirstConvPool | null {
  if (!firstLayers.has(model)) firstLayers.set(model, findFirstConvPool(model));
  return firstLayers.get(model) ?? null;
}

function findFirstConvPool(model: tfl.LayersModel): FirstConvPool | null {
  if (model.getClassName() !== 'Sequential') return null;
  const [conv, pool, ...rest] = model.layers.filter((layer) => layer.getClassName() !== 'InputLayer');
  if (conv?.getClassName() !== 'Conv2D' || pool?.getClassName() !== 'MaxPooling2D') return null;
  const c = conv.getConfig() as ConvConfig;
  const p = pool.getConfig() as PoolConfig;
  const [fh, fw, channels, filters] = conv.getWeights()[0].shape;
  const channelsLast = (format?: string) => format === undefined || format === 'channelsLast';
  if (channels !== 1 || fh * fw > SIGN_PAIR_MAX_TAPS || filters % 4 !== 0 || c.padding !== 'valid' || p.padding !== 'valid' ||
    c.strides.some((s) => s !== 1) || [c.dilationRate ?? 1].flat().some((d) => d !== 1) ||
    !channelsLast(c.dataFormat) || !channelsLast(p.dataFormat) || (c.activation !== 'relu' && c.activation !== 'linear')) {
    return null;
  }
  return {
    conv,
    useBias: c.useBias,
    attrs: { poolSize: p.poolSize, poolStrides: p.strides, relu: c.activation === 'relu' },
    rest,
  };
}

/**
 * z [2·P·A, D] at base ± δ·v for the P·A sign directions `directions` (±1, [P·A·size]; row k·A + b
 * is pair k's direction for sample b): rows (2k)·A + b at base_b + δ·v, rows (2k + 1)·A + b at
 * base_b − δ·v. Call inside tf.tidy.
 */
export function signPairLogits(model: tfl.LayersModel, base: tf.Tensor4D, directions: Float32Array, pairs: number, delta: number): tf.Tensor2D {
  const [count, ...shape] = base.shape;
  const first = firstConvPoolOf(model);
  if (!first || !tf.getKernel(SignPairConvPool, tf.getBackend())) {
    const offsets = tf.mul(tf.tensor3d(directions, [pairs, 1, base.size]), delta);
    const centre = tf.reshape(base, [1, 1, base.size]);
    return logitsOf(model, tf.reshape(tf.concat([tf.add(centre, offsets), tf.sub(centre, offsets)], 1), [pairs * 2 * count, ...shape]));
  }
  // The layer's current weights (training or setWeights may have replaced them since).
  const [filter, bias] = first.conv.getWeights() as [tf.Tensor4D, tf.Tensor1D?];
  const centre = tf.fused.conv2d({ x: base, filter, strides: 1, pad: 'valid', bias: first.useBias ? bias : undefined });
  const signs = tf.tensor4d(directions, [pairs * count, ...shape]);
  const attrs: SignPairConvPoolAttrs = { ...first.attrs, delta };
  let h = tf.engine().runKernel(SignPairConvPool, { centre, signs, filter }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  for (const layer of first.rest) h = layer.apply(h, { training: false }) as tf.Tensor;
  return h as tf.Tensor2D;
}
