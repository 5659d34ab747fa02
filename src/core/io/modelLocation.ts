/**
 * Where a saved model's files are, and its gccs.json (the format and its reader), without
 * TensorFlow.js: shared by the engine (modelDir.ts) and the extension host, which must not load it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import SCHEMA from '../../../schema/model-meta.schema.json';
import { UserError } from '../errors';
import { MODEL_LIMITS } from '../limits';
import { JsonSchema, formatPath, validateJson } from '../sweep/jsonSchema';
import type { DatasetSpec } from '../data';
import type { LossConfig } from '../loss';
import type { DefenceConfig } from '../loss/defences';
import type { AdversarialConfig, OptimizerConfig } from '../train/options';
import { pendingText } from './atomic';
import { readFolderJson, realFolder } from './modelFolder';

export const MODEL_META_SCHEMA = SCHEMA as unknown as JsonSchema;

export const META_FILE = 'gccs.json';

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

/** Accepts a model folder, its model.json or its gccs.json and gives the model.json path. */
export function resolveModelJson(location: string): string {
  if (fs.existsSync(location) && fs.statSync(location).isDirectory()) return path.join(location, 'model.json');
  if (path.basename(location) === META_FILE) return path.join(path.dirname(location), 'model.json');
  return location;
}

/** The preprocessing sidecar beside an ONNX model: model.onnx.gccs.json (README › Evaluating ONNX models). */
export const ONNX_SIDECAR_SUFFIX = '.gccs.json';

/** Whether a path names an ONNX model (by its extension, as the CLI and the extension tell them apart). */
export const isOnnxFile = (location: string) => location.toLowerCase().endsWith('.onnx');

/** The sidecar's path of an .onnx file. */
export const onnxSidecarOf = (file: string) => `${file}${ONNX_SIDECAR_SUFFIX}`;

/**
 * Whether a path is a model's preprocessing sidecar — an ONNX model's net.onnx.gccs.json or a graph
 * model's model.json.gccs.json — not a training experiment, though it ends in .gccs.json.
 */
export const isModelSidecar = (location: string) => /\.(onnx|json)\.gccs\.json$/i.test(location);

/** A training experiment (*.gccs.json), not a model's sidecar (net.onnx.gccs.json, model.json.gccs.json). */
export const isExperimentFile = (file: string | undefined): file is string => !!file?.endsWith('.gccs.json') && !isModelSidecar(file);

/** A sidecar → the model it describes (net.onnx or model.json); any other path as it is. */
export const withoutSidecar = (location: string) => (isModelSidecar(location) ? location.slice(0, -ONNX_SIDECAR_SUFFIX.length) : location);

/** A model folder, its model.json, gccs.json or model.json.gccs.json → the folder; an .onnx file or its sidecar → the .onnx file. */
export function modelFolderOf(location: string): string {
  const model = withoutSidecar(location);
  return ['model.json', META_FILE].includes(path.basename(model)) ? path.dirname(model) : model;
}

/**
 * The gccs.json beside a model.json, checked against schema/model-meta.schema.json; null only when
 * there is none (a LayersModel this engine did not train). Anything else that is not a complete
 * gccs.json (null, a number, a missing or mistyped field, a file outside the folder) is a
 * UserError naming the file and the field. An .onnx file has none: a gccs.json in its folder belongs
 * to the LayersModel there (an export beside its source), not to it.
 */
export function readModelMeta(modelJson: string): ModelMeta | null {
  if (isOnnxFile(modelJson)) return null;
  const folder = path.dirname(modelJson);
  const metaFile = path.join(folder, META_FILE);
  // A save cut short after its commit point holds the gccs.json that goes with its model.json (readFolderJson reads it).
  if (pendingText(metaFile) === null && !fs.lstatSync(metaFile, { throwIfNoEntry: false })) return null;
  const value = readFolderJson(metaFile, realFolder(folder, metaFile), MODEL_LIMITS.metaBytes, 'MODEL_LIMITS.metaBytes');
  const problem = validateJson(value, MODEL_META_SCHEMA);
  if (problem) throw new UserError(`${metaFile}: ${problem.path.length ? `${formatPath(problem.path)}: ` : ''}${problem.message}`);
  return value as ModelMeta;
}
