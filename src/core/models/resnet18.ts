import * as tfl from '@tensorflow/tfjs-layers';
import { SeededInit, linearHead } from './layers';

type SymbolicTensor = tfl.SymbolicTensor;

function convBn(x: SymbolicTensor, filters: number, kernelSize: number, strides: number, init: SeededInit): SymbolicTensor {
  const conv = tfl.layers.conv2d({ filters, kernelSize, strides, padding: 'same', useBias: false, kernelInitializer: init.he() });
  return tfl.layers.batchNormalization().apply(conv.apply(x)) as SymbolicTensor;
}

/** Basic residual block: two 3×3 convolutions, with a 1×1 projection when the shape changes. */
function basicBlock(x: SymbolicTensor, filters: number, strides: number, init: SeededInit): SymbolicTensor {
  let y = tfl.layers.reLU().apply(convBn(x, filters, 3, strides, init)) as SymbolicTensor;
  y = convBn(y, filters, 3, 1, init);
  const inputFilters = x.shape[x.shape.length - 1];
  const shortcut = strides !== 1 || inputFilters !== filters ? convBn(x, filters, 1, strides, init) : x;
  return tfl.layers.reLU().apply(tfl.layers.add().apply([y, shortcut])) as SymbolicTensor;
}

/**
 * ResNet-18, CIFAR variant (He et al. 2016; 3×3 stem without max-pool, for 32×32 inputs):
 * four stages of two basic blocks with 64/128/256/512 filters, global average pool, D linear outputs.
 */
export function buildResnet18(inputShape: number[], numClasses: number, seed: number) {
  const init = new SeededInit(seed);
  const input = tfl.input({ shape: inputShape });
  let x = tfl.layers.reLU().apply(convBn(input, 64, 3, 1, init)) as SymbolicTensor;
  [64, 128, 256, 512].forEach((filters, stage) => {
    x = basicBlock(x, filters, stage === 0 ? 1 : 2, init);
    x = basicBlock(x, filters, 1, init);
  });
  x = tfl.layers.globalAveragePooling2d({}).apply(x) as SymbolicTensor;
  const z = linearHead(numClasses, init).apply(x) as SymbolicTensor;
  return tfl.model({ inputs: input, outputs: z, name: 'resnet18' });
}
