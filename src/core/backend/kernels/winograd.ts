import { BatchMatMul, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { address, simdKernels } from './simd/module';
import { release, runWasm } from './wasm_call';

/** F(4×4, 3×3): 4×4 output tiles from 6×6 input patches, 36 transformed matrices. */
const TILE = 4;
const TRANSFORMED = 36;
const POINTER_BYTES = 4;

type Heap = { _malloc(bytes: number): number; _free(pointer: number): void; HEAPU8: Uint8Array };

/**
 * Whether a convolution runs as Winograd F(4×4, 3×3): 3×3, stride 1, no dilation, channel counts
 * multiples of 4 (the transforms' SIMD width) and ≥ 16 (below that XNNPACK's direct convolution
 * spends little in its products and the transforms would dominate).
 */
export function winogradApplies(filterShape: number[], strides: number[], dilations: number[]): boolean {
  const [kh, kw, inChannels, outChannels] = filterShape;
  return kh === 3 && kw === 3 && strides.every((s) => s === 1) && dilations.every((d) => d === 1) &&
    inChannels % 4 === 0 && outChannels % 4 === 0 && inChannels >= 16 && outChannels >= 16;
}

/**
 * A 3×3 stride-1 convolution (NHWC, explicit top/left padding, output cropped to outHeight ×
 * outWidth) by Winograd F(4×4, 3×3): transforms in C (WebAssembly SIMD) and 36 matrix products
 * on XNNPACK, 4× fewer multiplications than the direct convolution on whole tiles; optional bias
 * and relu are applied in the output transform.
 */
export function winogradConv2D(
  backend: BackendWasm, x: TensorInfo, filter: TensorInfo, bias: TensorInfo | null, relu: boolean,
  padTop: number, padLeft: number, outHeight: number, outWidth: number,
): TensorInfo {
  const [batch, height, width, channels] = x.shape;
  const filters = filter.shape[3];
  const tilesHigh = Math.ceil(outHeight / TILE);
  const tilesWide = Math.ceil(outWidth / TILE);
  const tiles = batch * tilesHigh * tilesWide;
  const kernels = simdKernels(backend);
  const heap = backend.wasm as unknown as Heap;
  // Unsigned, as TensorFlow.js reads its own: past 2 GiB of wasm memory _malloc's i32 is negative (a view there throws).
  const table = heap._malloc(TRANSFORMED * POINTER_BYTES) >>> 0;
  const withTable = (infos: TensorInfo[], run: () => void) => {
    // A fresh view: allocations may have grown (and detached) the heap.
    new Int32Array(heap.HEAPU8.buffer, table, TRANSFORMED).set(infos.map((info) => address(backend, info)));
    run();
  };

  const inputs = Array.from({ length: TRANSFORMED }, () => backend.makeOutput([1, tiles, channels], 'float32'));
  const weights = Array.from({ length: TRANSFORMED }, () => backend.makeOutput([1, channels, filters], 'float32'));
  withTable(inputs, () => kernels.winograd_input_transform(address(backend, x), table, batch, height, width, channels,
    tilesHigh, tilesWide, padTop, padLeft));
  withTable(weights, () => kernels.winograd_filter_transform(address(backend, filter), table, channels, filters));
  const products = inputs.map((a, i) => runWasm(BatchMatMul, backend, { a, b: weights[i] }, { transposeA: false, transposeB: false }));
  release(backend, ...inputs, ...weights);
  const y = backend.makeOutput([batch, outHeight, outWidth, filters], 'float32');
  withTable(products, () => kernels.winograd_output_transform(table, bias ? address(backend, bias) : 0, relu ? 1 : 0,
    address(backend, y), batch, outHeight, outWidth, filters, tilesHigh, tilesWide));
  release(backend, ...products);
  heap._free(table);
  return y;
}
