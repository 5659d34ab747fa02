/**
 * Input gradients of K output weightings from one forward pass. For a chain of layers whose
 * backward we can write from their forward (convolutions, dense layers, ReLU or no activation, max
 * pooling, flatten, dropout at inference), the forward's ReLU masks and pooling choices serve all K
 * weightings: the forward runs on A rows and only the backward on K·A. A class-tiled pass
 * (packed.ts) would run the same forward K times. The backward uses the kernels TensorFlow.js's own
 * gradients use (Conv2DBackpropInput, MaxPoolGrad, a transposed product), or on wasm, for a
 * convolution followed by max pooling, ConvPoolBackprop, which visits only the values the pooling
 * passes back. Any other layer or topology: undefined, and the caller takes the class-tiled pass.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import { ConvPoolBackprop, ConvPoolBackpropAttrs } from '../backend/kernels/conv_pool_backprop';

/**
 * One layer, or a convolution and the max pooling after it: the input gradient of K stacked
 * cotangents dy [K·A, ...] given the step's activations on the A rows (its input, then each of
 * its layers' outputs).
 */
interface ChainStep {
  layers: tfl.layers.Layer[];
  backward(dy: tf.Tensor, activations: tf.Tensor[], copies: number): tf.Tensor;
}

type LayerConfig = { activation?: string; dataFormat?: string; dilationRate?: number | number[]; maxValue?: number | null };
type WindowConfig = { strides: [number, number]; padding: 'valid' | 'same' };
type LayerBackward = (dy: tf.Tensor, x: tf.Tensor, y: tf.Tensor, copies: number) => tf.Tensor;

const chains = new WeakMap<tfl.LayersModel, ChainStep[] | null>();

/** The model's layers as chain steps, or null when one of them (or the topology) is not supported. */
function chainOf(model: tfl.LayersModel): ChainStep[] | null {
  if (!chains.has(model)) chains.set(model, buildChain(model));
  return chains.get(model) ?? null;
}

function buildChain(model: tfl.LayersModel): ChainStep[] | null {
  if (model.getClassName() !== 'Sequential') return null;
  const layers = model.layers.filter((layer) => layer.getClassName() !== 'InputLayer');
  const steps: ChainStep[] = [];
  for (let i = 0; i < layers.length; i++) {
    const backward = backwardOf(layers[i]);
    if (!backward) return null;
    const next = layers[i + 1];
    const poolBackward = next && next.getClassName() === 'MaxPooling2D' ? backwardOf(next) : undefined;
    if (layers[i].getClassName() === 'Conv2D' && poolBackward) {
      steps.push({ layers: [layers[i], next], backward: convPoolBackward(layers[i], next, backward, poolBackward) });
      i++;
    } else {
      steps.push({ layers: [layers[i]], backward: (dy, [x, y], copies) => backward(dy, x, y, copies) });
    }
  }
  return steps;
}

/**
 * A convolution and its max pooling: one ConvPoolBackprop (wasm: it visits only the values the
 * pooling passes back) where the backend has it, else the two layers' backwards in turn.
 */
function convPoolBackward(
  conv: tfl.layers.Layer,
  pool: tfl.layers.Layer,
  convBackward: LayerBackward,
  poolBackward: LayerBackward,
): ChainStep['backward'] {
  const { strides: convStrides, padding: convPad, activation } = conv.getConfig() as WindowConfig & { activation: string };
  const { poolSize, strides: poolStrides, padding: poolPad } = pool.getConfig() as WindowConfig & { poolSize: [number, number] };
  return (dy, [x, y, pooled], copies) => {
    if (!tf.getKernel(ConvPoolBackprop, tf.getBackend())) return convBackward(poolBackward(dy, y, pooled, copies), x, y, copies);
    const attrs: ConvPoolBackpropAttrs = {
      inputShape: [copies * x.shape[0], ...x.shape.slice(1)] as [number, number, number, number],
      convStrides, convPad, poolSize, poolStrides, poolPad, relu: activation === 'relu',
    };
    const inputs = { dy, y, filter: kernelOf(conv) };
    return tf.engine().runKernel(ConvPoolBackprop, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  };
}

function backwardOf(layer: tfl.layers.Layer): LayerBackward | undefined {
  const config = layer.getConfig() as LayerConfig;
  if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast') return undefined;
  const activation = activationOf(layer.getClassName(), config);
  switch (layer.getClassName()) {
    case 'Dropout':
      return (dy) => dy;
    case 'Flatten':
      return (dy, x, _y, copies) => tf.reshape(dy, [copies * x.shape[0], ...x.shape.slice(1)]);
    case 'ReLU':
    case 'Activation':
      return activation && ((dy, _x, y, copies) => activation(dy, y, copies));
    case 'Dense':
      if (!activation || inputRank(layer) !== 2) return undefined;
      return (dy, _x, y, copies) => tf.matMul(activation(dy, y, copies), kernelOf(layer), false, true);
    case 'Conv2D': {
      const dilation = [config.dilationRate ?? 1].flat();
      if (!activation || dilation.some((d) => d !== 1)) return undefined;
      const { strides, padding } = layer.getConfig() as WindowConfig;
      return (dy, x, y, copies) => {
        const inputShape = [copies * x.shape[0], ...x.shape.slice(1)] as [number, number, number, number];
        return tf.conv2dTranspose(activation(dy, y, copies) as tf.Tensor4D, kernelOf(layer) as tf.Tensor4D, inputShape, strides, padding);
      };
    }
    case 'MaxPooling2D': {
      const { poolSize, strides, padding } = layer.getConfig() as WindowConfig & { poolSize: [number, number] };
      return (dy, x, y, copies) =>
        tf.engine().runKernel('MaxPoolGrad', { dy, input: stacked(x, copies), output: stacked(y, copies) }, { filterSize: poolSize, strides, pad: padding });
    }
    default:
      return undefined;
  }
}

/** dy through the layer's activation (y its output), or undefined for an activation other than ReLU and none. */
function activationOf(className: string, config: LayerConfig): ((dy: tf.Tensor, y: tf.Tensor, copies: number) => tf.Tensor) | undefined {
  const name = className === 'ReLU' ? (config.maxValue == null ? 'relu' : 'clipped') : (config.activation ?? 'linear');
  if (name === 'linear') return (dy) => dy;
  if (name !== 'relu') return undefined;
  // ReLU's gradient is dy·step(input); step(relu(u)) = step(u), so the output's mask serves, one mask for all K copies.
  return (dy, y, copies) => tf.reshape(tf.mul(tf.reshape(dy, [copies, y.size]), tf.reshape(tf.step(y), [1, y.size])), dy.shape);
}

/** The rank of the layer's input, undefined when it has several (or is shared between inputs). */
function inputRank(layer: tfl.layers.Layer): number | undefined {
  try {
    const input = layer.input;
    return Array.isArray(input) ? undefined : input.rank;
  } catch {
    return undefined;
  }
}

function kernelOf(layer: tfl.layers.Layer): tf.Tensor {
  return layer.getWeights()[0];
}

/** K copies of t [A, ...] stacked into [K·A, ...]. */
function stacked(t: tf.Tensor, copies: number): tf.Tensor {
  return tf.reshape(tf.tile(tf.reshape(t, [1, t.size]), [copies, 1]), [copies * t.shape[0], ...t.shape.slice(1)]);
}

/** A chain model's forward pass at x [A, ...], kept for its backward (make and use it inside tf.tidy). */
export interface ChainLinearization {
  /** z [A, D]. */
  z: tf.Tensor2D;
  /** The input gradients dx [K·A, ...] of cotangents dz [K·A, D]: row k·A + b is ∇_x Σ_j dz[k·A + b, j]·z_bj. */
  inputGradient(dz: tf.Tensor2D): tf.Tensor;
}

/** The forward pass of x through the model, or undefined when the model is not a chain this module knows. */
export function linearize(model: tfl.LayersModel, x: tf.Tensor): ChainLinearization | undefined {
  const steps = chainOf(model);
  if (!steps) return undefined;
  // Per step: its input, then each of its layers' outputs (the next step's input is the last).
  const activations: tf.Tensor[][] = [];
  let input = x;
  for (const step of steps) {
    const outputs = [input];
    for (const layer of step.layers) outputs.push(layer.apply(outputs[outputs.length - 1], { training: false }) as tf.Tensor);
    activations.push(outputs);
    input = outputs[outputs.length - 1];
  }
  return {
    z: input as tf.Tensor2D,
    inputGradient: (dz) => {
      const copies = dz.shape[0] / x.shape[0];
      let dy: tf.Tensor = dz;
      for (let i = steps.length - 1; i >= 0; i--) dy = steps[i].backward(dy, activations[i], copies);
      return dy;
    },
  };
}

/**
 * For x [A, ...] and K weightings w_k [A·D]: the input gradients [K·A·size] (rows k·A … (k+1)·A − 1
 * are ∇_x Σ_j w_k[b, j]·z_bj) and z [A·D], with samplesPerPass samples (K·samplesPerPass rows) per
 * backward pass. Undefined when the model is not a chain this module knows.
 */
export function chainInputGradients(
  model: tfl.LayersModel,
  x: tf.Tensor4D,
  weights: Float32Array[],
  samplesPerPass: number,
): { gradients: Float32Array; z: Float32Array } | undefined {
  if (!chainOf(model)) return undefined;
  const count = x.shape[0];
  const size = x.size / count;
  const dims = weights[0].length / count;
  const copies = weights.length;
  const gradients = new Float32Array(copies * count * size);
  const z = new Float32Array(count * dims);
  for (let start = 0; start < count; start += samplesPerPass) {
    const rows = Math.min(samplesPerPass, count - start);
    tf.tidy(() => {
      const chain = linearize(model, rows === count ? x : tf.slice(x, start, rows))!;
      z.set(chain.z.dataSync(), start * dims);
      const cotangents = new Float32Array(copies * rows * dims);
      weights.forEach((w, k) => cotangents.set(w.subarray(start * dims, (start + rows) * dims), k * rows * dims));
      const dx = chain.inputGradient(tf.tensor2d(cotangents, [copies * rows, dims])).dataSync();
      for (let k = 0; k < copies; k++) gradients.set(dx.subarray(k * rows * size, (k + 1) * rows * size), (k * count + start) * size);
    });
  }
  return { gradients, z };
}
