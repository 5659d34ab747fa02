import type * as tfl from '@tensorflow/tfjs-layers';
import { ARCHITECTURES, Architecture } from '../catalog';
import { UserError } from '../errors';
import { buildCnn } from './cnn';
import { loadCustomModel } from './custom';
import { buildMlp } from './mlp';
import { buildResnet18 } from './resnet18';

export { ARCHITECTURES } from '../catalog';
export type { Architecture } from '../catalog';

/** A built-in architecture's name, or the path of a workspace model.json ("bring your own"). */
export type ModelSource = Architecture | string;

export async function createModel(source: ModelSource, inputShape: number[], numClasses: number, seed: number): Promise<tfl.LayersModel> {
  switch (source) {
    case 'mlp':
      return buildMlp(inputShape, numClasses, seed);
    case 'cnn':
      return buildCnn(inputShape, numClasses, seed);
    case 'resnet18':
      return buildResnet18(inputShape, numClasses, seed);
    default:
      if (!source.endsWith('.json')) {
        throw new UserError(`unknown model "${source}": use ${ARCHITECTURES.join(', ')} or the path of a TensorFlow.js model.json`);
      }
      return loadCustomModel(source, inputShape, numClasses, seed);
  }
}

export { withLinearHead } from './custom';
