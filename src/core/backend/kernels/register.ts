import {
  BatchMatMul,
  Cast,
  Conv2D,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput,
  FusedConv2D,
  getKernel,
  Identity,
  KernelFunc,
  MaxPoolGrad,
  registerKernel,
  Sum,
  Tile,
  unregisterKernel,
} from '@tensorflow/tfjs-core';
import { makeBatchMatMul } from './batch_mat_mul';
import { makeConv2D, makeFusedConv2D } from './conv2d';
import { conv2DBackpropFilter } from './conv2d_backprop_filter';
import { ConvPoolBackprop, convPoolBackprop } from './conv_pool_backprop';
import { makeConv2DBackpropInput } from './conv2d_backprop_input';
import { depthwiseConv2dBackpropFilter } from './depthwise_conv2d_backprop_filter';
import { depthwiseConv2dBackpropInput } from './depthwise_conv2d_backprop_input';
import { identity, makeCast } from './identity';
import { maxPoolGrad } from './max_pool_grad';
import { SignPairConvPool, signPairConvPool } from './sign_pair_conv_pool';
import { makeSum } from './sum';
import { makeTile } from './tile';

/** Kernels the wasm backend lacks, or whose built-in is replaced outright. */
const added: Record<string, KernelFunc> = {
  [Conv2DBackpropFilter]: conv2DBackpropFilter,
  [MaxPoolGrad]: maxPoolGrad,
  [DepthwiseConv2dNativeBackpropInput]: depthwiseConv2dBackpropInput,
  [DepthwiseConv2dNativeBackpropFilter]: depthwiseConv2dBackpropFilter,
  [Identity]: identity,
  [ConvPoolBackprop]: convPoolBackprop,
  [SignPairConvPool]: signPairConvPool,
};

/** Built-in kernels replaced by faster (or correct) compositions that fall back to the original. */
const replaced: Record<string, (builtin: KernelFunc) => KernelFunc> = {
  [Conv2D]: makeConv2D,
  [FusedConv2D]: makeFusedConv2D,
  [Conv2DBackpropInput]: makeConv2DBackpropInput,
  [BatchMatMul]: makeBatchMatMul,
  [Tile]: makeTile,
  [Cast]: makeCast,
  [Sum]: makeSum,
};

export const customKernelNames = [...Object.keys(added), ...Object.keys(replaced)];

let registered = false;

/**
 * Registers the custom wasm kernels; idempotent. Must run before the wasm backend initializes:
 * kernel setup functions (which bind the native functions) run at initialization.
 */
export function registerCustomKernels(): void {
  if (registered) return;
  registered = true;
  for (const [kernelName, kernelFunc] of Object.entries(added)) {
    if (getKernel(kernelName, 'wasm')) unregisterKernel(kernelName, 'wasm');
    registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
  for (const [kernelName, make] of Object.entries(replaced)) {
    const builtin = getKernel(kernelName, 'wasm');
    unregisterKernel(kernelName, 'wasm');
    // Keep the built-in's setup: the fallback path and other kernels' compositions call it.
    registerKernel({ kernelName, backendName: 'wasm', setupFunc: builtin.setupFunc, kernelFunc: make(builtin.kernelFunc) });
  }
}
