import { DepthwiseConv2dNativeBackpropInputAttrs, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { depthwiseGeometry, Shape4 } from './depthwise_geometry';

/**
 * dx of a depthwise convolution (NHWC, any strides, pads and dilations, channel multiplier), in
 * plain TypeScript over the wasm heap: the wasm backend has no such kernel, and every input
 * gradient through a depthwise layer (MobileNet-style ONNX or graph models) needs it. Each dx
 * element gathers the dy pixels whose window covered it, summed in float64 as the cpu backend does.
 */
export const depthwiseConv2dBackpropInput: KernelFunc = (args) => {
  const backend = args.backend as BackendWasm;
  const attrs = args.attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const { inputShape } = attrs;
  const dy = args.inputs.dy as TensorInfo;
  const filter = args.inputs.filter as TensorInfo;
  const geometry = depthwiseGeometry('DepthwiseConv2dNativeBackpropInput', inputShape, filter.shape as Shape4, attrs, [dy.dtype, filter.dtype]);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = geometry;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth, top, left, multiplier } = geometry;
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
