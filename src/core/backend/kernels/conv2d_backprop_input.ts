import {
  backend_util,
  BatchMatMul,
  Cast,
  Conv2D,
  Conv2DBackpropInputAttrs,
  KernelFunc,
  OneHot,
  Range,
  Reshape,
  TensorInfo,
  Transpose,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { address } from './simd/module';
import { partsFor, runParts, shares } from './simd/parallel';
import { release, runWasm } from './wasm_call';
import { winogradApplies } from './winograd';

const FLOAT_BYTES = 4;

/**
 * The filter's kh·kw taps in reverse order (a 180° rotation), as the product of an
 * anti-identity [K, K] with the taps [K, Cin·Cout] (exact: one 1 per row). The wasm Reverse
 * kernel computes an index per element, and slicing copies the whole filter per tap; both were
 * several times slower on ResNet's 3×3×512×512 filters.
 */
function flipTaps(filter: TensorInfo, backend: BackendWasm): TensorInfo {
  const [kh, kw, cin, cout] = filter.shape;
  const k = kh * kw;
  if (k === 1) return runWasm(Reshape, backend, { x: filter }, { shape: filter.shape });
  const order = runWasm(Range, backend, {}, { start: k - 1, stop: -1, step: -1, dtype: 'int32' });
  const hot = runWasm(OneHot, backend, { indices: order }, { depth: k, onValue: 1, offValue: 0, dtype: 'int32' });
  const antiIdentity = runWasm(Cast, backend, { x: hot }, { dtype: 'float32' });
  const a = runWasm(Reshape, backend, { x: antiIdentity }, { shape: [1, k, k] });
  const b = runWasm(Reshape, backend, { x: filter }, { shape: [1, k, cin * cout] });
  const flipped = runWasm(BatchMatMul, backend, { a, b }, { transposeA: false, transposeB: false });
  const out = runWasm(Reshape, backend, { x: flipped }, { shape: filter.shape });
  release(backend, order, hot, antiIdentity, a, b, flipped);
  return out;
}

/**
 * dx of a convolution: stride-1 layers whose rotated filter suits Winograd as a forward
 * convolution of dy, all others by col2im, which beat that convolution form (then on XNNPACK)
 * 2.7× on the CNN's 1-channel first layer and 3.5× on ResNet-18's stride-2 layers (which needed
 * stride−1 zeros inserted into dy). The built-in is a plain loop; it remains for NCHW.
 */
export function makeConv2DBackpropInput(builtin: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
    const dy = args.inputs.dy as TensorInfo;
    const filter = args.inputs.filter as TensorInfo;
    if (backend_util.convertConv2DDataFormat(attrs.dataFormat) !== 'channelsLast') return builtin(args);
    const info = backend_util.computeConv2DInfo(
      attrs.inputShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad,
      attrs.dimRoundingMode, false, 'channelsLast');
    const { filterHeight: kh, filterWidth: kw, inHeight, inWidth, outHeight, outWidth } = info;
    const stride1 = info.strideHeight === 1 && info.strideWidth === 1;
    // Padding of dy for the stride-1 convolution form: negative if the forward pass padded more than kh − 1.
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    const bottom = inHeight - outHeight - top + kh - 1;
    const right = inWidth - outWidth - left + kw - 1;
    const rotatedShape = [kh, kw, info.outChannels, info.inChannels];
    if (!stride1 || !winogradApplies(rotatedShape, [1, 1], [1, 1]) || Math.min(top, left, bottom, right) < 0) {
      return col2imBackpropInput(backend, dy, filter, info);
    }
    // dx as a forward convolution (Winograd) of dy with the filter rotated 180° and its channels swapped.
    const flipped = flipTaps(filter, backend);
    const rotated = runWasm(Transpose, backend, { x: flipped }, { perm: [0, 1, 3, 2] });
    release(backend, flipped);
    const dx = runWasm(Conv2D, backend, { x: dy, filter: rotated }, {
      strides: [1, 1],
      pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
      dilations: [1, 1],
      dataFormat: 'NHWC',
    });
    release(backend, rotated);
    return dx;
  };
}

/**
 * dx by matrix product and col2im: the taps dy·Wᵀ [N·oh·ow, kh·kw·Cin] (XNNPACK), each scattered
 * onto the input pixel it came from (C, WebAssembly SIMD).
 */
function col2imBackpropInput(backend: BackendWasm, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize, outHeight, outWidth, outChannels, inHeight, inWidth, inChannels, filterHeight, filterWidth } = info;
  const rows = runWasm(Reshape, backend, { x: dy }, { shape: [1, batchSize * outHeight * outWidth, outChannels] });
  const weights = runWasm(Reshape, backend, { x: filter }, { shape: [1, filterHeight * filterWidth * inChannels, outChannels] });
  const taps = runWasm(BatchMatMul, backend, { a: rows, b: weights }, { transposeA: false, transposeB: true });
  release(backend, rows, weights);
  const dx = backend.makeOutput([batchSize, inHeight, inWidth, inChannels], 'float32');
  const image = inHeight * inWidth * inChannels * FLOAT_BYTES;
  const imageTaps = outHeight * outWidth * filterHeight * filterWidth * inChannels * FLOAT_BYTES;
  // Images are independent: cut across the backend's threads.
  const ranges = shares(batchSize, partsFor(batchSize * image / FLOAT_BYTES, batchSize));
  runParts(backend, 'col2im', ranges.map(([first, end]) => [
    address(backend, taps) + first * imageTaps, address(backend, dx) + first * image, end - first, inHeight, inWidth,
    inChannels, outHeight, outWidth, filterHeight, filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top,
    info.padInfo.left]));
  release(backend, taps);
  return dx;
}
