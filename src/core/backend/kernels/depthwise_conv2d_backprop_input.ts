import { backend_util, DepthwiseConv2dNativeBackpropInputAttrs, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * dx of a depthwise convolution (NHWC, any strides, pads and dilations, channel multiplier), in
 * plain TypeScript over the wasm heap: the wasm backend has no such kernel, and every input
 * gradient through a depthwise layer (MobileNet-style ONNX or graph models) needs it. Each dx
 * element gathers the dy pixels whose window covered it, summed in float64 as the cpu backend does.
 */
export const depthwiseConv2dBackpropInput: KernelFunc = (args) => {
  const backend = args.backend as BackendWasm;
  const { strides, dilations, pad, dimRoundingMode, inputShape } = args.attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const dy = args.inputs.dy as TensorInfo;
  const filter = args.inputs.filter as TensorInfo;
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32') {
    throw new Error('DepthwiseConv2dNativeBackpropInput on wasm supports only float32');
  }
  const info = backend_util.computeConv2DInfo(
    inputShape, filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, true);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const multiplier = outChannels / inChannels;
  const dx = backend.makeOutput(inputShape, 'float32');
  // Views taken after the allocation: growing the heap detaches earlier ones.
  const dxValues = backend.typedArrayFromHeap(dx) as Float32Array;
  const dyValues = backend.typedArrayFromHeap(dy) as Float32Array;
  const w = backend.typedArrayFromHeap(filter) as Float32Array;
  let i = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let xR = 0; xR < inHeight; xR++) {
      for (let xC = 0; xC < inWidth; xC++) {
        for (let d1 = 0; d1 < inChannels; d1++) {
          let sum = 0;
          // Output row yR covers xR through tap fR when yR·stride + fR·dilation − top = xR.
          for (let fR = 0; fR < filterHeight; fR++) {
            const rowSpan = xR + top - fR * dilationHeight;
            const yR = rowSpan / strideHeight;
            if (rowSpan < 0 || yR >= outHeight || rowSpan % strideHeight !== 0) continue;
            for (let fC = 0; fC < filterWidth; fC++) {
              const colSpan = xC + left - fC * dilationWidth;
              const yC = colSpan / strideWidth;
              if (colSpan < 0 || yC >= outWidth || colSpan % strideWidth !== 0) continue;
              const dyAt = ((b * outHeight + yR) * outWidth + yC) * outChannels + d1 * multiplier;
              const wAt = ((fR * filterWidth + fC) * inChannels + d1) * multiplier;
              for (let m = 0; m < multiplier; m++) sum += dyValues[dyAt + m] * w[wAt + m];
            }
          }
          dxValues[i++] = sum;
        }
      }
    }
  }
  return dx;
};
