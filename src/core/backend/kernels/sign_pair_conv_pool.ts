import { backend_util, KernelFunc, TensorInfo, util } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { address, simdKernels } from './simd/module';
import { partsFor, runParts, shares } from './simd/parallel';
import { release } from './wasm_call';

/** A kernel of this project (not TensorFlow.js's): a first convolution → (relu) → max pooling at x ± δ·v for sign directions v. */
export const SignPairConvPool = 'SignPairConvPool';

export interface SignPairConvPoolAttrs {
  delta: number;
  poolSize: [number, number];
  poolStrides: [number, number];
  /** Whether the convolution's activation is relu (else none). */
  relu: boolean;
}

/** The sign patterns a filter may cover: 2^taps sums are tabulated, so taps stay few. */
export const SIGN_PAIR_MAX_TAPS = 9;

/**
 * out [2·P·A, ph, pw, F]: maxPool((relu)(conv(x ± δ·v) + bias)) for the P·A sign directions
 * `signs` [P·A, H, W, 1] (±1; row k·A + b belongs to sample b) from `centre` = conv(x) + bias
 * [A, H − fh + 1, W − fw + 1, F] of the A samples: rows (2k)·A + b are the + side of pair k, rows
 * (2k + 1)·A + b its − side, as SPSA stacks them. The convolution (filter [fh, fw, 1, F], stride 1,
 * no padding) is linear, so conv(x ± δv) = conv(x) ± δ·conv(v), and δ·conv(v) at a pixel is one of
 * 2^(fh·fw) sums of ± filter taps, tabulated once per call: the directions' convolution becomes a
 * table lookup per pixel (C, WebAssembly SIMD), fused with the relu and the pooling.
 */
export const signPairConvPool: KernelFunc = (args) => {
  const backend = args.backend as BackendWasm;
  const { centre, signs, filter } = args.inputs as { centre: TensorInfo; signs: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as SignPairConvPoolAttrs;
  const [rows, height, width] = signs.shape;
  const [filterHeight, filterWidth, channels, filters] = filter.shape;
  const samples = centre.shape[0];
  const conv = backend_util.computeConv2DInfo(
    [samples, height, width, channels], filter.shape as [number, number, number, number], 1, 1, 'valid');
  const pool = backend_util.computePool2DInfo(centre.shape as [number, number, number, number], attrs.poolSize, attrs.poolStrides, 1, 'valid');
  if (channels !== 1 || signs.shape[3] !== 1 || filters % 4 !== 0 || filterHeight * filterWidth > SIGN_PAIR_MAX_TAPS ||
    !util.arraysEqual(centre.shape, [samples, conv.outHeight, conv.outWidth, filters]) || rows % samples !== 0) {
    throw new Error(`SignPairConvPool: unsupported shapes (centre ${centre.shape}, signs ${signs.shape}, filter ${filter.shape})`);
  }
  const taps = filterHeight * filterWidth;
  const table = backend.makeOutput([1 << taps, filters], 'float32');
  simdKernels(backend).sign_sum_table(address(backend, filter), address(backend, table), taps, filters, attrs.delta);
  const out = backend.makeOutput([2 * rows, pool.outHeight, pool.outWidth, filters], 'float32');
  const work = rows * conv.outHeight * conv.outWidth * filters;
  runParts(backend, 'sign_pair_conv_pool', shares(rows, partsFor(work, rows)).map(([first, end]) => [
    address(backend, centre), address(backend, signs), address(backend, table), address(backend, out), first, end - first,
    samples, height, width, filterHeight, filterWidth, filters, conv.outWidth, pool.outHeight, pool.outWidth,
    pool.filterHeight, pool.filterWidth, pool.strideHeight, pool.strideWidth, attrs.relu ? 1 : 0]));
  release(backend, table);
  return out;
};
