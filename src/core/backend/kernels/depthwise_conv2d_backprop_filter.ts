import { DepthwiseConv2dNativeBackpropFilterAttrs, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { depthwiseGeometry, Shape4 } from './depthwise_geometry';

/**
 * dW of a depthwise convolution (NHWC, any strides, pads and dilations, channel multiplier), in
 * plain TypeScript over the wasm heap: the wasm backend has no such kernel, so depthwise layers
 * could not be trained on it. Each tap sums x·dy over the batch and the output pixels, in float64
 * as the cpu backend does.
 */
export const depthwiseConv2dBackpropFilter: KernelFunc = (args) => {
  const backend = args.backend as BackendWasm;
  const attrs = args.attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const { filterShape } = attrs;
  const x = args.inputs.x as TensorInfo;
  const dy = args.inputs.dy as TensorInfo;
  const geometry = depthwiseGeometry('DepthwiseConv2dNativeBackpropFilter', x.shape as Shape4, filterShape, attrs, [x.dtype, dy.dtype]);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = geometry;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth, top, left, multiplier } = geometry;
  const dW = backend.makeOutput(filterShape, 'float32');
  // Views taken after the allocation: growing the heap detaches earlier ones.
  const dwValues = backend.typedArrayFromHeap(dW) as Float32Array;
  const xValues = backend.typedArrayFromHeap(x) as Float32Array;
  const dyValues = backend.typedArrayFromHeap(dy) as Float32Array;
  let i = 0;
  for (let fR = 0; fR < filterHeight; fR++) {
    for (let fC = 0; fC < filterWidth; fC++) {
      for (let d2 = 0; d2 < outChannels; d2++) {
        const d1 = Math.floor(d2 / multiplier);
        let sum = 0;
        for (let b = 0; b < batchSize; b++) {
          for (let yR = 0; yR < outHeight; yR++) {
            const xR = yR * strideHeight + fR * dilationHeight - top;
            if (xR < 0 || xR >= inHeight) continue;
            for (let yC = 0; yC < outWidth; yC++) {
              const xC = yC * strideWidth + fC * dilationWidth - left;
              if (xC < 0 || xC >= inWidth) continue;
              sum += xValues[((b * inHeight + xR) * inWidth + xC) * inChannels + d1] *
                dyValues[((b * outHeight + yR) * outWidth + yC) * outChannels + d2];
            }
          }
        }
        // Filter layout [fR, fC, d1, m] is [fR, fC, d2] flattened.
        dwValues[i++] = sum;
      }
    }
  }
  return dW;
};
