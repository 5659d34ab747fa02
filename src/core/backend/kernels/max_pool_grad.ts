import {
  ArgMax,
  backend_util,
  Cast,
  KernelFunc,
  MaxPoolGradAttrs,
  Multiply,
  OneHot,
  PadV2,
  Reshape,
  Slice,
  TensorInfo,
  Transpose,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { release, runWasm } from './wasm_call';

/**
 * MaxPoolGrad for non-overlapping windows (stride = pool size, the usual 2×2/2 pooling):
 * regroup x as [pixels·C, window] with two transposes, take the first maximum of each window
 * (ArgMax, as TensorFlow and the cpu backend do), and spread dy back with OneHot·dy and the
 * inverse transposes. The built-in is ~2× slower and wrong: its max search starts at the
 * smallest positive float, so windows with no positive value (all zeros after a relu) send their
 * gradient to element 0. Overlapping windows still fall back to it.
 */
export function makeMaxPoolGrad(builtin: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as MaxPoolGradAttrs;
    const dy = args.inputs.dy as TensorInfo;
    const x = args.inputs.input as TensorInfo;
    const info = backend_util.computePool2DInfo(
      x.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow,
      filterHeight: fh, filterWidth: fw } = info;
    if (info.strideHeight !== fh || info.strideWidth !== fw || x.dtype !== 'float32') return builtin(args);

    // The windows tile rows [-top, oh·fh − top) and columns [-left, ow·fw − left) exactly.
    const { top, left } = info.padInfo;
    const bottom = oh * fh - top - h;
    const right = ow * fw - left - w;
    const owned: TensorInfo[] = [];
    let tiled = x;
    if (bottom < 0 || right < 0) {
      tiled = runWasm(Slice, backend, { x }, { begin: [0, 0, 0, 0], size: [n, h + Math.min(bottom, 0), w + Math.min(right, 0), c] });
      owned.push(tiled);
    }
    const padded = top > 0 || left > 0 || bottom > 0 || right > 0;
    if (padded) {
      // Padding never wins the max, as in the forward pass.
      tiled = runWasm(PadV2, backend, { x: tiled }, {
        paddings: [[0, 0], [top, Math.max(bottom, 0)], [left, Math.max(right, 0)], [0, 0]], constantValue: -Infinity });
      owned.push(tiled);
    }
    const pixels = n * oh * ow;
    const k = fh * fw;
    // [N·oh, fh, ow, fw·C] → [N·oh, ow, fh, fw·C] = [pixels, window, C] → [pixels, C, window]
    const v1 = runWasm(Reshape, backend, { x: tiled }, { shape: [n * oh, fh, ow, fw * c] });
    const t1 = runWasm(Transpose, backend, { x: v1 }, { perm: [0, 2, 1, 3] });
    const v2 = runWasm(Reshape, backend, { x: t1 }, { shape: [pixels, k, c] });
    const t2 = runWasm(Transpose, backend, { x: v2 }, { perm: [0, 2, 1] });
    const windows = runWasm(Reshape, backend, { x: t2 }, { shape: [pixels * c, k] });
    const argmax = runWasm(ArgMax, backend, { x: windows }, { axis: 1 });
    // The wasm OneHot always writes int32, whatever dtype is asked for.
    const hot = runWasm(OneHot, backend, { indices: argmax }, { depth: k, onValue: 1, offValue: 0, dtype: 'int32' });
    const mask = runWasm(Cast, backend, { x: hot }, { dtype: 'float32' });
    const dyCol = runWasm(Reshape, backend, { x: dy }, { shape: [pixels * c, 1] });
    const spread = runWasm(Multiply, backend, { a: mask, b: dyCol });
    owned.push(v1, t1, v2, t2, windows, argmax, hot, mask, dyCol, spread);
    // Inverse regrouping: [pixels, C, window] → [pixels, window, C] → [N, oh·fh, ow·fw, C].
    const u1 = runWasm(Reshape, backend, { x: spread }, { shape: [pixels, c, k] });
    const s1 = runWasm(Transpose, backend, { x: u1 }, { perm: [0, 2, 1] });
    const u2 = runWasm(Reshape, backend, { x: s1 }, { shape: [n * oh, ow, fh, fw * c] });
    const s2 = runWasm(Transpose, backend, { x: u2 }, { perm: [0, 2, 1, 3] });
    owned.push(u1, s1, u2);
    let dx = runWasm(Reshape, backend, { x: s2 }, { shape: [n, oh * fh, ow * fw, c] });
    owned.push(s2);
    if (padded) {
      const inner = runWasm(Slice, backend, { x: dx }, {
        begin: [0, top, left, 0], size: [n, h + Math.min(bottom, 0), w + Math.min(right, 0), c] });
      owned.push(dx);
      dx = inner;
    }
    if (bottom < 0 || right < 0) {
      // Rows and columns no window reaches get no gradient.
      const full = runWasm(PadV2, backend, { x: dx }, {
        paddings: [[0, 0], [0, -Math.min(bottom, 0)], [0, -Math.min(right, 0)], [0, 0]], constantValue: 0 });
      owned.push(dx);
      dx = full;
    }
    release(backend, ...owned);
    return dx;
  };
}
