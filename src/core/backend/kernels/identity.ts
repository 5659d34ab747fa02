import { CastAttrs, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { share } from './wasm_call';

/**
 * Identity shares its input's data (tensors are immutable), as the cpu backend does; the wasm
 * built-in copies it. Gradients call it for every pass-through (e.g. the Cast in relu's
 * gradient), a full copy of an activation each time.
 */
export const identity: KernelFunc = (args) => share(args.backend as BackendWasm, args.inputs.x as TensorInfo);

/** Cast to the tensor's own dtype is an Identity: shared, not copied. */
export function makeCast(builtin: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const { dtype } = args.attrs as unknown as CastAttrs;
    return x.dtype === dtype ? identity(args) : builtin(args);
  };
}
