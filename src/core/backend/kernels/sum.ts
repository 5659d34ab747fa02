import { KernelFunc, SumAttrs, TensorInfo, util } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { address, simdKernels } from './simd/module';

const FLOAT64_BYTES = 8;

/**
 * Sum over leading axes (a bias gradient: an activation [N, H, W, C] summed to [C]) as column
 * sums in one pass (C, WebAssembly SIMD), accumulated in float64. The built-in first transposes
 * the reduced axes innermost, a full copy of the activation. Other sums go to it.
 */
export function makeSum(builtin: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const { axis, keepDims } = args.attrs as unknown as SumAttrs;
    const axes = util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((a, i) => a === i);
    if (!leading || x.dtype !== 'float32') return builtin(args);
    const backend = args.backend as BackendWasm;
    const kept = x.shape.slice(axes.length);
    const out = backend.makeOutput(keepDims ? [...axes.map(() => 1), ...kept] : kept, 'float32');
    const cols = util.sizeFromShape(kept);
    const heap = backend.wasm as unknown as { _malloc(bytes: number): number; _free(pointer: number): void };
    const acc = heap._malloc(cols * FLOAT64_BYTES);
    simdKernels(backend).column_sums(address(backend, x), util.sizeFromShape(x.shape) / cols, cols, acc, address(backend, out));
    heap._free(acc);
    return out;
  };
}
