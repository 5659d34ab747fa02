import { backend_util, KernelFunc, TensorInfo, Transpose, util } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { address } from './simd/module';
import { partsFor, runParts, shares } from './simd/parallel';
import { release, runWasm } from './wasm_call';

/** A kernel of this project (not TensorFlow.js's): the input gradient of convolution → (relu) → max pooling. */
export const ConvPoolBackprop = 'ConvPoolBackprop';

export interface ConvPoolBackpropAttrs {
  /** dx's shape [rows, height, width, channels]: rows = K weightings × the samples of y. */
  inputShape: [number, number, number, number];
  convStrides: [number, number];
  convPad: 'valid' | 'same';
  poolSize: [number, number];
  poolStrides: [number, number];
  poolPad: 'valid' | 'same';
  /** Whether the convolution's activation is relu (else none). */
  relu: boolean;
}

const FLOAT_BYTES = 4;

/**
 * dx [K·A, ...] of the chain convolution (filter [fh, fw, C, F]) → relu or none → max pooling, from
 * the pooled gradient dy [K·A, ph, pw, F] (row k·A + b belongs to sample b) and the convolution's
 * output y [A, h, w, F]. Equal to MaxPoolGrad, the relu mask and Conv2DBackpropInput in turn, but
 * it visits only the pooled values (C, WebAssembly SIMD: the routes of the A samples once, then a
 * scatter of filter taps per row) and needs neither y repeated K times nor the pooling's output.
 */
export const convPoolBackprop: KernelFunc = (args) => {
  const backend = args.backend as BackendWasm;
  const { dy, y, filter } = args.inputs as { dy: TensorInfo; y: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as ConvPoolBackpropAttrs;
  const [rows, height, width, channels] = attrs.inputShape;
  const samples = y.shape[0];
  const conv = backend_util.computeConv2DInfo(
    [samples, height, width, channels], filter.shape as [number, number, number, number], attrs.convStrides, 1, attrs.convPad);
  const pool = backend_util.computePool2DInfo(y.shape as [number, number, number, number], attrs.poolSize, attrs.poolStrides, 1, attrs.poolPad);
  const filters = conv.outChannels;
  if (!util.arraysEqual(y.shape, [samples, conv.outHeight, conv.outWidth, filters]) ||
    !util.arraysEqual(dy.shape, [rows, pool.outHeight, pool.outWidth, filters]) || rows % samples !== 0) {
    throw new Error(`ConvPoolBackprop: shapes do not chain (dy ${dy.shape}, y ${y.shape}, filter ${filter.shape}, dx ${attrs.inputShape})`);
  }
  const pooled = pool.outHeight * pool.outWidth * filters;
  const routes = backend.makeOutput([samples, pool.outHeight, pool.outWidth, filters], 'int32');
  const convImage = conv.outHeight * conv.outWidth * filters * FLOAT_BYTES;
  runParts(backend, 'pool_routes', shares(samples, partsFor(samples * pooled, samples)).map(([first, end]) => [
    address(backend, y) + first * convImage, address(backend, routes) + first * pooled * FLOAT_BYTES, end - first,
    conv.outHeight, conv.outWidth, filters, pool.outHeight, pool.outWidth, pool.filterHeight, pool.filterWidth,
    pool.strideHeight, pool.strideWidth, pool.padInfo.top, pool.padInfo.left, attrs.relu ? 1 : 0]));
  // [F, fh, fw, C]: each filter's taps contiguous, its input channels innermost (the SIMD lanes).
  const taps = runWasm(Transpose, backend, { x: filter }, { perm: [3, 0, 1, 2] });
  const dx = backend.makeOutput(attrs.inputShape, 'float32');
  const image = height * width * channels * FLOAT_BYTES;
  // Rows are independent: cut across the backend's threads, by the work (each pooled value scatters
  // fh·fw·C products), which for a 1-channel input is ~10× its output values.
  const work = rows * pooled * conv.filterHeight * conv.filterWidth * channels;
  runParts(backend, 'conv_pool_backprop', shares(rows, partsFor(work, rows)).map(([first, end]) => [
    address(backend, dy) + first * pooled * FLOAT_BYTES, address(backend, routes), address(backend, taps),
    address(backend, dx) + first * image, first, end - first, samples, pool.outHeight, pool.outWidth, filters,
    conv.outWidth, height, width, channels, conv.filterHeight, conv.filterWidth, conv.strideHeight, conv.strideWidth,
    conv.padInfo.top, conv.padInfo.left]));
  release(backend, routes, taps);
  return dx;
};
