import { BatchMatMulAttrs, KernelFunc, TensorInfo, Transpose, util } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { release, runWasm } from './wasm_call';

/**
 * The built-in runs XNNPACK only for un-transposed, unbatched float32 products and a naive loop
 * otherwise; matMul's gradients (dense layers' backward pass) are all transposed. Transposing
 * the operand explicitly first and taking the fast path is several times faster.
 */
export function makeBatchMatMul(builtin: KernelFunc): KernelFunc {
  return (args) => {
    const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
    const a = args.inputs.a as TensorInfo;
    const b = args.inputs.b as TensorInfo;
    const unbatched = (t: TensorInfo) => util.sizeFromShape(t.shape.slice(0, -2)) === 1;
    if ((!transposeA && !transposeB) || !unbatched(a) || !unbatched(b) || a.dtype !== 'float32' || b.dtype !== 'float32') {
      return builtin(args);
    }
    const backend = args.backend as BackendWasm;
    const swapLast = (t: TensorInfo) => {
      const perm = t.shape.map((_, i) => i);
      [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
      return runWasm(Transpose, backend, { x: t }, { perm });
    };
    const a2 = transposeA ? swapLast(a) : a;
    const b2 = transposeB ? swapLast(b) : b;
    const out = builtin({ inputs: { a: a2, b: b2 }, backend, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
    if (a2 !== a) release(backend, a2);
    if (b2 !== b) release(backend, b2);
    return out;
  };
}
