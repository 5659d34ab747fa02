import type * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../errors';
import type { DatasetSpec } from '../data';
import type { LossConfig } from '../loss';
import type { OptimizerConfig } from '../train/optimizer';
import type { DefenceConfig } from '../loss/defences';
import type { AdversarialConfig } from '../train/adversarial';
import { jsonText } from './atomic';
import { loadLayersModelFile, saveLayersModel } from './layersModelFiles';
import { META_FILE, readModelMeta, resolveModelJson } from './modelLocation';
import { loadOnnxModel } from './onnx/model';

export { META_FILE, readModelMeta, resolveModelJson };

export interface EpochRecord {
  epoch: number;
  /** Mean training loss over the epoch's batches. */
  loss: number;
  /** Accuracy on the training batches as they were trained (dropout on). */
  trainAccuracy: number;
  /** Accuracy on the validation split in inference mode (null without one). */
  validationAccuracy: number | null;
  learningRate: number;
  seconds: number;
}

/** The sidecar gccs.json: all that is needed to reproduce and interpret a model. */
export interface ModelMeta {
  engineVersion: string;
  createdAt: string;
  dataset: {
    /** How to load the same data again (eval and latent default to it). */
    spec: DatasetSpec;
    kind: string;
    source: string;
    trainRange: string | null;
    testRange: string | null;
    validationFraction: number;
    splitSeed: number;
    trainCount: number;
    validationCount: number;
    testCount: number;
  };
  inputShape: number[];
  numClasses: number;
  classNames: string[];
  architecture: string;
  loss: LossConfig;
  training: {
    optimizer: OptimizerConfig;
    batchSize: number;
    epochs: number;
    /** Shift augmentation in pixels (absent in files from before it was recorded: 0). */
    augmentShift?: number;
    fineTunedFrom: string | null;
    /** The defence penalty added to the loss (absent: none). */
    defence?: DefenceConfig;
    /** Adversarial training (absent: none). */
    adversarial?: AdversarialConfig;
  };
  backend: string;
  seed: number;
  epochs: EpochRecord[];
  trainingSeconds: number;
}

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
  const model = await loadLayersModelFile(modelJson);
  const meta = readModelMeta(modelJson);
  const width = model.outputs[0].shape[1];
  if (meta && width !== meta.numClasses) {
    throw new UserError(`${modelJson}: the model has ${width} outputs but ${META_FILE} says ${meta.numClasses} classes`);
  }
  return { model, meta, modelJson };
}
