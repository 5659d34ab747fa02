import { BatchMatMul, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { address, backendMemory, simdKernels } from './simd/module';
import { partsFor, runParts, shares } from './simd/parallel';
import { release, runWasm } from './wasm_call';

/** F(4×4, 3×3): 4×4 output tiles from 6×6 input patches, 36 transformed matrices. */
const TILE = 4;
const TRANSFORMED = 36;
const POINTER_BYTES = 4;
const FLOAT_BYTES = 4;

type Heap = { _malloc(bytes: number): number; _free(pointer: number): void };

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
  const tilesPerImage = tilesHigh * tilesWide;
  const tiles = batch * tilesPerImage;
  const heap = backend.wasm as unknown as Heap;
  // The transforms are cut by images across the backend's threads, each part with its own table.
  const ranges = shares(batch, partsFor(tiles * TRANSFORMED * Math.max(channels, filters), batch));
  // Unsigned, as TensorFlow.js reads its own: past 2 GiB of wasm memory _malloc's i32 is negative (a view there throws).
  const tables = heap._malloc(ranges.length * TRANSFORMED * POINTER_BYTES) >>> 0;
  const tableOf = (part: number) => tables + part * TRANSFORMED * POINTER_BYTES;
  /** Fills each part's table with the 36 matrices' addresses at its first image (rows of `columns` values per tile). */
  const fillTables = (infos: TensorInfo[], columns: number) => {
    // A fresh view: allocations may have grown (and detached) the heap.
    const view = new Int32Array(backendMemory(backend).buffer, tables, ranges.length * TRANSFORMED);
    ranges.forEach(([first], part) => view.set(
      infos.map((info) => address(backend, info) + first * tilesPerImage * columns * FLOAT_BYTES), part * TRANSFORMED));
  };

  const inputs = Array.from({ length: TRANSFORMED }, () => backend.makeOutput([1, tiles, channels], 'float32'));
  const weights = Array.from({ length: TRANSFORMED }, () => backend.makeOutput([1, channels, filters], 'float32'));
  fillTables(inputs, channels);
  runParts(backend, 'winograd_input_transform', ranges.map(([first, end], part) => [
    address(backend, x) + first * height * width * channels * FLOAT_BYTES, tableOf(part), end - first, height, width, channels,
    tilesHigh, tilesWide, padTop, padLeft]));
  fillTables(weights, 0);
  simdKernels(backend).winograd_filter_transform(address(backend, filter), tableOf(0), channels, filters);
  const products = inputs.map((a, i) => runWasm(BatchMatMul, backend, { a, b: weights[i] }, { transposeA: false, transposeB: false }));
  release(backend, ...inputs, ...weights);
  const y = backend.makeOutput([batch, outHeight, outWidth, filters], 'float32');
  fillTables(products, filters);
  runParts(backend, 'winograd_output_transform', ranges.map(([first, end], part) => [
    tableOf(part), bias ? address(backend, bias) : 0, relu ? 1 : 0,
    address(backend, y) + first * outHeight * outWidth * filters * FLOAT_BYTES, end - first, outHeight, outWidth, filters,
    tilesHigh, tilesWide]));
  release(backend, ...products);
  heap._free(tables);
  return y;
}
