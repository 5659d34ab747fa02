import {
  backend_util,
  BatchMatMul,
  Cast,
  Conv2D,
  Conv2DBackpropInputAttrs,
  KernelFunc,
  OneHot,
  PadV2,
  Range,
  Reshape,
  TensorInfo,
  Transpose,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { release, runWasm } from './wasm_call';

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
 * dx as a forward convolution (XNNPACK) of dy with the filter rotated 180° and its channels
 * swapped; strides > 1 first insert stride−1 zeros between dy's pixels. The built-in is a plain
 * loop, several times slower even with the zeros' wasted work. Falls back to it when the
 * composition would need negative padding ('valid' with a remainder, e.g. 1×1/2 on odd sizes).
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
    const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inHeight, inWidth } = info;
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    // dy with zeros inserted is out·stride long (one trailing gap included); pad the rest.
    const bottom = inHeight - info.outHeight * sh - top + kh - 1;
    const right = inWidth - info.outWidth * sw - left + kw - 1;
    if (top < 0 || left < 0 || bottom < 0 || right < 0) return builtin(args);

    let spread = dy;
    if (sh > 1 || sw > 1) {
      const { batchSize: n, outHeight: oh, outWidth: ow, outChannels: c } = info;
      const r = runWasm(Reshape, backend, { x: dy }, { shape: [n, oh, 1, ow, 1, c] });
      const padded = runWasm(PadV2, backend, { x: r }, {
        paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]],
        constantValue: 0,
      });
      spread = runWasm(Reshape, backend, { x: padded }, { shape: [n, oh * sh, ow * sw, c] });
      release(backend, r, padded);
    }
    const flipped = flipTaps(filter, backend);
    const rotated = runWasm(Transpose, backend, { x: flipped }, { perm: [0, 1, 3, 2] });
    release(backend, flipped);
    const dx = runWasm(Conv2D, backend, { x: spread, filter: rotated }, {
      strides: [1, 1],
      pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
      dilations: [1, 1],
      dataFormat: 'NHWC',
    });
    release(backend, rotated);
    if (spread !== dy) release(backend, spread);
    return dx;
  };
}
