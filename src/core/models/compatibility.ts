import type * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../errors';

/** A one-line error unless the model takes images of this shape (unknown model dimensions match any size). */
export function assertInputShape(model: tfl.LayersModel, modelName: string, imageShape: readonly number[]): void {
  const expected = model.inputs[0].shape.slice(1);
  if (expected.length !== imageShape.length || expected.some((d, i) => d !== null && d !== imageShape[i])) {
    throw new UserError(`${modelName}: the model takes inputs of shape [${expected.join(', ')}] but the dataset's images are [${imageShape.join(', ')}]`);
  }
}

/** A one-line error unless the model has one output per class of the dataset (D = number of classes). */
export function assertOutputWidth(model: tfl.LayersModel, modelName: string, numClasses: number, datasetName: string): void {
  const width = model.outputs[0].shape[1];
  if (width !== numClasses) throw new UserError(`${modelName}: the model has ${width} outputs but dataset ${datasetName} has ${numClasses} classes`);
}
