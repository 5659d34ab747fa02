import { getKernel, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Runs a wasm kernel function directly, bypassing the engine (no tape, no tensor tracking), so
 * custom kernels can chain the backend's native kernels. The caller owns the result and must
 * `release` it unless it is returned from the kernel.
 */
export function runWasm(
  kernelName: string,
  backend: BackendWasm,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap = {},
): TensorInfo {
  return getKernel(kernelName, 'wasm').kernelFunc({ inputs, backend, attrs }) as TensorInfo;
}

/** Frees intermediate results of `runWasm` (reshapes share data and only drop a reference). */
export function release(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** Another reference to x's data: no copy (as the wasm Reshape). */
export function share(backend: BackendWasm, x: TensorInfo): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

