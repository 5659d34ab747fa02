import * as tfl from '@tensorflow/tfjs-layers';
import { DENSE_DROPOUT, SeededInit, linearHead } from './layers';

/** Fully connected network: flatten → [dense ReLU → dropout]× → D linear outputs. */
export function buildMlp(inputShape: number[], numClasses: number, seed: number, hidden: number[] = [256, 128]) {
  const init = new SeededInit(seed);
  const model = tfl.sequential({ name: 'mlp' });
  model.add(tfl.layers.flatten({ inputShape }));
  for (const units of hidden) {
    model.add(tfl.layers.dense({ units, activation: 'relu', kernelInitializer: init.he() }));
    model.add(tfl.layers.dropout({ rate: DENSE_DROPOUT }));
  }
  model.add(linearHead(numClasses, init));
  return model;
}
