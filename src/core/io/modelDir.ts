import type * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../errors';
import { jsonText } from './atomic';
import { loadLayersModelFile, saveLayersModel } from './layersModelFiles';
import { META_FILE, ModelMeta, readModelMeta, resolveModelJson } from './modelLocation';
import { loadGraphModelFile } from './graphModel/model';
import { isGraphModelJson } from './graphModel/read';
import { readModelJson } from './modelFolder';
import { loadOnnxModel } from './onnx/model';

export { META_FILE, readModelMeta, resolveModelJson };
export type { EpochRecord, ModelMeta } from './modelLocation';

/** model.json, its weights and gccs.json, saved as one: a crash leaves all the old files or all the new ones. */
export async function saveModelDir(dir: string, model: tfl.LayersModel, meta: ModelMeta): Promise<void> {
  await saveLayersModel(model, dir, { [META_FILE]: jsonText(meta) });
}

export interface LoadedModel {
  model: tfl.LayersModel;
  /** null for a LayersModel that this engine did not train. */
  meta: ModelMeta | null;
  modelJson: string;
}

export async function loadModelDir(location: string): Promise<LoadedModel> {
  // An ONNX classifier (README › Evaluating ONNX models): no gccs.json, the dataset comes from flags.
  if (location.toLowerCase().endsWith('.onnx')) return { model: loadOnnxModel(location).model, meta: null, modelJson: location };
  const modelJson = resolveModelJson(location);
  // Read once: its "format" tells the loader, which checks this same content.
  const content = readModelJson(modelJson);
  // A TensorFlow.js graph model (README › GraphModels): as an ONNX model, the dataset comes from flags.
  if (isGraphModelJson(content)) return { model: (await loadGraphModelFile(modelJson, content)).model, meta: null, modelJson };
  const model = await loadLayersModelFile(modelJson, content);
  const meta = readModelMeta(modelJson);
  const width = model.outputs[0].shape[1];
  if (meta && width !== meta.numClasses) {
    throw new UserError(`${modelJson}: the model has ${width} outputs but ${META_FILE} says ${meta.numClasses} classes`);
  }
  return { model, meta, modelJson };
}
