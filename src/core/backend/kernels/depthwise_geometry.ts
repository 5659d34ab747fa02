import { backend_util, DepthwiseConv2dNativeBackpropInputAttrs } from '@tensorflow/tfjs-core';

export type Shape4 = [number, number, number, number];
type DepthwiseAttrs = Pick<DepthwiseConv2dNativeBackpropInputAttrs, 'strides' | 'dilations' | 'pad' | 'dimRoundingMode'>;

/**
 * What both depthwise gradient kernels need of the convolution: tfjs-core's conv info (sizes,
 * strides, dilations) with the top and left padding and the channel multiplier. Float32 only.
 */
export function depthwiseGeometry(kernel: string, xShape: Shape4, filterShape: Shape4, attrs: DepthwiseAttrs, dtypes: string[]) {
  if (dtypes.some((dtype) => dtype !== 'float32')) throw new Error(`${kernel} on wasm supports only float32`);
  const info = backend_util.computeConv2DInfo(xShape, filterShape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
  return { ...info, top: info.padInfo.top, left: info.padInfo.left, multiplier: info.outChannels / info.inChannels };
}
