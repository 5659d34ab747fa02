import * as fs from 'node:fs';
import * as path from 'node:path';
import { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** Built from kernels.c by scripts/build-simd-kernels.mjs (part of `npm run build`). */
const FILE = 'simd-kernels.wasm';

/** The C kernels (kernels.c); pointers are byte addresses on the wasm backend's heap. */
export interface SimdKernels {
  max_pool_grad(x: number, dy: number, dx: number, batch: number, height: number, width: number, channels: number,
    outHeight: number, outWidth: number, filterHeight: number, filterWidth: number, strideHeight: number,
    strideWidth: number, padTop: number, padLeft: number): void;
  column_sums(x: number, rows: number, cols: number, acc: number, out: number): void;
  im2col_transposed(x: number, out: number, batch: number, height: number, width: number, channels: number,
    outHeight: number, outWidth: number, filterHeight: number, filterWidth: number, strideHeight: number,
    strideWidth: number, padTop: number, padLeft: number): void;
  winograd_filter_transform(g: number, u: number, channels: number, filters: number): void;
  winograd_input_transform(x: number, v: number, batch: number, height: number, width: number, channels: number,
    tilesHigh: number, tilesWide: number, padTop: number, padLeft: number): void;
  winograd_output_transform(m: number, bias: number, relu: number, y: number, batch: number, outHeight: number,
    outWidth: number, filters: number, tilesHigh: number, tilesWide: number): void;
  col2im(taps: number, dx: number, batch: number, height: number, width: number, channels: number, outHeight: number,
    outWidth: number, filterHeight: number, filterWidth: number, strideHeight: number, strideWidth: number,
    padTop: number, padLeft: number): void;
}

let compiled: WebAssembly.Module | undefined;
const instances = new WeakMap<BackendWasm, SimdKernels>();

/** Beside the bundle (dist/), or in dist/ when running from source. */
function modulePath(): string {
  const candidates = [path.join(__dirname, FILE), path.resolve(__dirname, '../../../../../dist', FILE)];
  const found = candidates.find((file) => fs.existsSync(file));
  if (!found) throw new Error(`${FILE} not found (looked in ${candidates.join(', ')}): run npm run build`);
  return found;
}

/** The C kernels, instantiated on this backend's memory (once per backend). */
export function simdKernels(backend: BackendWasm): SimdKernels {
  let kernels = instances.get(backend);
  if (!kernels) {
    compiled ??= new WebAssembly.Module(fs.readFileSync(modulePath()));
    const { memory } = (backend.wasm as unknown as { asm: { memory: WebAssembly.Memory } }).asm;
    kernels = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as SimdKernels;
    instances.set(backend, kernels);
  }
  return kernels;
}

/** Byte address of a tensor's data on the wasm heap. */
export function address(backend: BackendWasm, info: TensorInfo): number {
  return backend.dataIdMap.get(info.dataId)!.memoryOffset;
}
