import { backend_util, BatchMatMul, Conv2DBackpropFilterAttrs, KernelFunc, Reshape, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { address } from './simd/module';
import { partsFor, runParts, shares } from './simd/parallel';
import { release, runWasm } from './wasm_call';

/**
 * dW = im2col(x)ᵀ · dy: the patches each tap sees, written transposed [kh·kw·Cin, N·oh·ow] in one
 * pass (C, WebAssembly SIMD), then one matrix product (XNNPACK) with dy as [N·oh·ow, Cout].
 * It replaced a composition that ran dW as an XNNPACK convolution of xᵀ with dyᵀ: 4.5× faster on
 * the CNN's 1-channel first layer, 1.2× on its second, 1.3–10× on ResNet-18's layers. The patches
 * cost kh·kw times the memory of x.
 */
export const conv2DBackpropFilter: KernelFunc = (args) => {
  const backend = args.backend as BackendWasm;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  const x = args.inputs.x as TensorInfo;
  const dy = args.inputs.dy as TensorInfo;
  if (backend_util.convertConv2DDataFormat(dataFormat) !== 'channelsLast') {
    throw new Error('Conv2DBackpropFilter on wasm supports only NHWC');
  }
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const pixels = batchSize * outHeight * outWidth;
  const taps = filterHeight * filterWidth;
  const patches = backend.makeOutput([1, taps * inChannels, pixels], 'float32');
  // The taps' rows are independent: cut across the backend's threads.
  const ranges = shares(taps, partsFor(taps * inChannels * pixels, taps));
  runParts(backend, 'im2col_transposed', ranges.map(([first, end]) => [address(backend, x), address(backend, patches),
    batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterWidth, info.strideHeight, info.strideWidth,
    info.padInfo.top, info.padInfo.left, first, end]));
  const rows = runWasm(Reshape, backend, { x: dy }, { shape: [1, pixels, outChannels] });
  const product = runWasm(BatchMatMul, backend, { a: patches, b: rows }, { transposeA: false, transposeB: false });
  const dW = runWasm(Reshape, backend, { x: product }, { shape: filterShape });
  release(backend, patches, rows, product);
  return dW;
};
