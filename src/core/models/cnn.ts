import * as tfl from '@tensorflow/tfjs-layers';
import { DENSE_DROPOUT, SeededInit, linearHead } from './layers';

/**
 * The reference CNN: conv 32@3×3 ReLU – maxpool 2 – conv 64@3×3 ReLU – maxpool 2 –
 * dense 128 ReLU – dropout – dense D (no activation). Valid padding: 28→26→13→11→5.
 */
export function buildCnn(inputShape: number[], numClasses: number, seed: number) {
  const init = new SeededInit(seed);
  const model = tfl.sequential({ name: 'cnn' });
  model.add(tfl.layers.conv2d({ inputShape, filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init.he() }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: init.he() }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init.he() }));
  model.add(tfl.layers.dropout({ rate: DENSE_DROPOUT }));
  model.add(linearHead(numClasses, init));
  return model;
}
