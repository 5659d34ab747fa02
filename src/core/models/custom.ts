import * as tfl from '@tensorflow/tfjs-layers';
import { assertInputShape } from './compatibility';
import { loadLayersModelFile } from '../io/layersModelFiles';
import { SeededInit, linearHead } from './layers';

/**
 * "Bring your own" network: a LayersModel from the workspace, given a D-unit linear head.
 * A model that already ends in a D-unit dense layer keeps that layer's weights with its
 * activation (e.g. softmax) removed; any other model gets a new dense D layer on its output.
 */
export async function loadCustomModel(modelJson: string, inputShape: number[], numClasses: number, seed: number) {
  const base = await loadLayersModelFile(modelJson);
  assertInputShape(base, modelJson, inputShape);
  return withLinearHead(base, numClasses, seed);
}

export function withLinearHead(base: tfl.LayersModel, numClasses: number, seed: number): tfl.LayersModel {
  const last = base.layers[base.layers.length - 1];
  const config = last.getConfig();
  const init = new SeededInit(seed);
  if (last.getClassName() === 'Dense' && config.units === numClasses) {
    if (config.activation === 'linear') return base;
    const head = linearHead(numClasses, init);
    const z = head.apply(last.input as tfl.SymbolicTensor) as tfl.SymbolicTensor;
    head.setWeights(last.getWeights());
    return tfl.model({ inputs: base.inputs, outputs: z, name: base.name });
  }
  let features = base.outputs[0];
  if (features.shape.length > 2) features = tfl.layers.flatten().apply(features) as tfl.SymbolicTensor;
  return tfl.model({ inputs: base.inputs, outputs: linearHead(numClasses, init).apply(features) as tfl.SymbolicTensor, name: base.name });
}
