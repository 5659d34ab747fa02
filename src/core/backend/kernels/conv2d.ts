import { backend_util, Conv2DAttrs, FusedConv2DAttrs, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { winogradApplies, winogradConv2D } from './winograd';

/** The convolution's geometry, if it runs as Winograd (NHWC 3×3 stride 1 with enough channels). */
function winogradInfo(x: TensorInfo, filter: TensorInfo, attrs: Conv2DAttrs): backend_util.Conv2DInfo | null {
  const pair = (value: number | [number, number]): [number, number] => (typeof value === 'number' ? [value, value] : value);
  const strides = pair(attrs.strides);
  const dilations = pair(attrs.dilations);
  if (backend_util.convertConv2DDataFormat(attrs.dataFormat) !== 'channelsLast') return null;
  if (!winogradApplies(filter.shape, strides, dilations)) return null;
  return backend_util.computeConv2DInfo(x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number], strides, dilations, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
}

/**
 * Conv2D: 3×3 stride-1 layers with ≥ 16 channels as Winograd F(4×4, 3×3), the rest on the built-in (XNNPACK).
 */
export function makeConv2D(builtin: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const filter = args.inputs.filter as TensorInfo;
    const info = winogradInfo(x, filter, args.attrs as unknown as Conv2DAttrs);
    if (!info) return builtin(args);
    return winogradConv2D(args.backend as BackendWasm, x, filter, null, false, info.padInfo.top, info.padInfo.left,
      info.outHeight, info.outWidth);
  };
}

/** FusedConv2D (inference: convolution + bias + relu) likewise, for no or relu activation. */
export function makeFusedConv2D(builtin: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const filter = args.inputs.filter as TensorInfo;
    const bias = (args.inputs.bias as TensorInfo | undefined) ?? null;
    const attrs = args.attrs as unknown as FusedConv2DAttrs;
    const info = attrs.activation === 'linear' || attrs.activation === 'relu' ? winogradInfo(x, filter, attrs) : null;
    if (!info || (bias && bias.shape.length !== 1)) return builtin(args);
    return winogradConv2D(args.backend as BackendWasm, x, filter, bias, attrs.activation === 'relu',
      info.padInfo.top, info.padInfo.left, info.outHeight, info.outWidth);
  };
}
