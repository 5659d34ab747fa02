import { backend_util, KernelFunc, MaxPoolGradAttrs, TensorInfo, util } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { address } from './simd/module';
import { partsFor, runParts, shares } from './simd/parallel';

const FLOAT_BYTES = 4;

/**
 * MaxPoolGrad in one pass (C, WebAssembly SIMD): each output pixel's dy goes to the first maximum
 * of its window, as in TensorFlow and the cpu backend. The wasm built-in is wrong (its max search
 * starts at the smallest positive float, so windows with no positive value, all zeros after a
 * relu, send their gradient to element 0), and a composition of wasm kernels (transposes,
 * ArgMax, OneHot, ~10 passes) was ~10× slower.
 */
export const maxPoolGrad: KernelFunc = (args) => {
  const backend = args.backend as BackendWasm;
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as MaxPoolGradAttrs;
  const dy = args.inputs.dy as TensorInfo;
  const x = args.inputs.input as TensorInfo;
  if (x.dtype !== 'float32') throw new Error(`MaxPoolGrad on wasm supports only float32 (got ${x.dtype})`);
  const info = backend_util.computePool2DInfo(
    x.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const dx = backend.makeOutput(x.shape, 'float32');
  const image = info.inHeight * info.inWidth * info.inChannels * FLOAT_BYTES;
  const pooled = info.outHeight * info.outWidth * info.inChannels * FLOAT_BYTES;
  // Images are independent: cut across the backend's threads.
  const ranges = shares(info.batchSize, partsFor(util.sizeFromShape(x.shape), info.batchSize));
  runParts(backend, 'max_pool_grad', ranges.map(([first, end]) => [
    address(backend, x) + first * image, address(backend, dy) + first * pooled, address(backend, dx) + first * image,
    end - first, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left]));
  return dx;
};
