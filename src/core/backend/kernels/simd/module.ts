import * as fs from 'node:fs';
import * as path from 'node:path';
import { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Built from kernels.c by scripts/build-simd-kernels.mjs (part of `npm run build`); the second
 * imports a shared memory, the threaded backend's.
 */
const FILE = 'simd-kernels.wasm';
const SHARED_FILE = 'simd-kernels-shared.wasm';

/** The C kernels (kernels.c); pointers are byte addresses on the wasm backend's heap. */
export interface SimdKernels {
  max_pool_grad(x: number, dy: number, dx: number, batch: number, height: number, width: number, channels: number,
    outHeight: number, outWidth: number, filterHeight: number, filterWidth: number, strideHeight: number,
    strideWidth: number, padTop: number, padLeft: number): void;
  column_sums(x: number, rows: number, cols: number, acc: number, out: number): void;
  im2col_transposed(x: number, out: number, batch: number, height: number, width: number, channels: number,
    outHeight: number, outWidth: number, filterWidth: number, strideHeight: number, strideWidth: number,
    padTop: number, padLeft: number, tapBegin: number, tapEnd: number): void;
  winograd_filter_transform(g: number, u: number, channels: number, filters: number): void;
  winograd_input_transform(x: number, v: number, batch: number, height: number, width: number, channels: number,
    tilesHigh: number, tilesWide: number, padTop: number, padLeft: number): void;
  winograd_output_transform(m: number, bias: number, relu: number, y: number, batch: number, outHeight: number,
    outWidth: number, filters: number, tilesHigh: number, tilesWide: number): void;
  col2im(taps: number, dx: number, batch: number, height: number, width: number, channels: number, outHeight: number,
    outWidth: number, filterHeight: number, filterWidth: number, strideHeight: number, strideWidth: number,
    padTop: number, padLeft: number): void;
  pool_routes(y: number, routes: number, batch: number, height: number, width: number, channels: number,
    outHeight: number, outWidth: number, filterHeight: number, filterWidth: number, strideHeight: number,
    strideWidth: number, padTop: number, padLeft: number, relu: number): void;
  conv_pool_backprop(dy: number, routes: number, w: number, dx: number, firstRow: number, rows: number, samples: number,
    outHeight: number, outWidth: number, filters: number, convWidth: number, height: number, width: number,
    channels: number, filterHeight: number, filterWidth: number, strideHeight: number, strideWidth: number,
    padTop: number, padLeft: number): void;
  sign_sum_table(w: number, table: number, taps: number, filters: number, delta: number): void;
  sign_pair_conv_pool(centre: number, signs: number, table: number, out: number, firstRow: number, rows: number,
    samples: number, height: number, width: number, filterHeight: number, filterWidth: number, filters: number,
    convWidth: number, outHeight: number, outWidth: number, poolHeight: number, poolWidth: number, strideHeight: number,
    strideWidth: number, relu: number): void;
}

const compiled = new Map<string, WebAssembly.Module>();
const instances = new WeakMap<BackendWasm, SimdKernels>();

/** Beside the bundle (dist/), or in dist/ when running from source. */
function modulePath(file: string): string {
  const candidates = [path.join(__dirname, file), path.resolve(__dirname, '../../../../../dist', file)];
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (!found) throw new Error(`${file} not found (looked in ${candidates.join(', ')}): run npm run build`);
  return found;
}

/**
 * The backend's memory: the single-threaded build exports it, the threaded build imports a shared
 * one. Its `buffer` is current even after the heap grew (a view made earlier may be too short or detached).
 */
export function backendMemory(backend: BackendWasm): WebAssembly.Memory {
  const wasm = backend.wasm as unknown as { wasmMemory?: WebAssembly.Memory; asm: { memory?: WebAssembly.Memory } };
  const memory = wasm.wasmMemory ?? wasm.asm.memory;
  if (!memory) throw new Error('the wasm backend exposes no memory');
  return memory;
}

/** The compiled C kernels that import this backend's kind of memory (shared or not). */
export function simdKernelsModule(backend: BackendWasm): WebAssembly.Module {
  const file = backendMemory(backend).buffer instanceof SharedArrayBuffer ? SHARED_FILE : FILE;
  let module = compiled.get(file);
  if (!module) {
    module = new WebAssembly.Module(fs.readFileSync(modulePath(file)));
    compiled.set(file, module);
  }
  return module;
}

/** The C kernels, instantiated on this backend's memory (once per backend). */
export function simdKernels(backend: BackendWasm): SimdKernels {
  let kernels = instances.get(backend);
  if (!kernels) {
    const env = { memory: backendMemory(backend) };
    kernels = new WebAssembly.Instance(simdKernelsModule(backend), { env }).exports as unknown as SimdKernels;
    instances.set(backend, kernels);
  }
  return kernels;
}

/** Byte address of a tensor's data on the wasm heap. */
export function address(backend: BackendWasm, info: TensorInfo): number {
  return backend.dataIdMap.get(info.dataId)!.memoryOffset;
}
