/**
 * The checks of a TensorFlow.js LayersModel on disk (model.json and its weight shards) that need
 * no TensorFlow.js: the engine runs them before building a model, and the extension host before
 * asking anything about a model it cannot load. Everything a hostile model.json could make the
 * engine read or allocate is checked here first: the file's size, its nesting, the manifest's
 * shapes and dtypes, the weights its topology implies, and the shard files it names.
 */
import * as path from 'node:path';
import SCHEMA from '../../../schema/layers-model.schema.json';
import { UserError } from '../errors';
import { MODEL_LIMITS } from '../limits';
import { JsonSchema, formatPath, validateJson } from '../sweep/jsonSchema';
import { impliedWeights } from './layersTopology';
import { FolderFile, checkWeightPath, formatBytes, quote, readModelJson, realFolder } from './modelFolder';

const LAYERS_MODEL_SCHEMA = SCHEMA as unknown as JsonSchema;

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
}

export interface LayersModelJson {
  format?: string;
  modelTopology: Record<string, unknown>;
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
}

/** A checked model: its model.json, and its shard files in manifest order with their sizes, whose sum is weightBytes. */
export interface CheckedLayersModel extends LayersModelJson {
  shards: FolderFile[];
  weightBytes: number;
}

const BYTES_PER_VALUE: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 };

const product = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const specBytes = (spec: WeightSpec) => BYTES_PER_VALUE[spec.quantization?.dtype ?? spec.dtype] * product(spec.shape);
const formatShape = (shape: number[]) => `[${shape.join(', ')}]`;

function overCap(modelJson: string, what: string, bytes: number): UserError {
  return new UserError(`${modelJson}: ${what} ${formatBytes(bytes)}, more than the ${formatBytes(MODEL_LIMITS.weightBytes)} cap on weights (MODEL_LIMITS.weightBytes, README › Limits)`);
}

/**
 * The manifest against the topology: every weight the topology implies is listed once with the
 * same shape, and nothing else is. Manifest names are matched on their last two parts
 * (`layer/weight`), as TensorFlow.js matches them.
 */
function checkWeightsAgainstTopology(modelJson: string, parsed: LayersModelJson): void {
  const implied = impliedWeights(parsed.modelTopology, modelJson);
  const impliedBytes = implied.reduce((sum, weight) => sum + 4 * product(weight.shape), 0);
  if (impliedBytes > MODEL_LIMITS.weightBytes) {
    throw overCap(modelJson, `the topology implies ${implied.reduce((sum, w) => sum + product(w.shape), 0).toLocaleString('en')} weights,`, impliedBytes);
  }
  const listed = new Map<string, WeightSpec>();
  for (const spec of parsed.weightsManifest.flatMap((group) => group.weights)) {
    const key = spec.name.split('/').slice(-2).join('/');
    if (listed.has(key)) throw new UserError(`${modelJson}: weightsManifest lists weight ${quote(spec.name)} twice`);
    listed.set(key, spec);
  }
  for (const weight of implied) {
    const spec = listed.get(weight.key);
    if (!spec) throw new UserError(`${modelJson}: the topology needs weight ${quote(weight.key)} ${formatShape(weight.shape)}, which weightsManifest does not list`);
    if (formatShape(spec.shape) !== formatShape(weight.shape)) {
      throw new UserError(`${modelJson}: weight ${quote(spec.name)} is ${formatShape(spec.shape)} in weightsManifest but the topology implies ${formatShape(weight.shape)}`);
    }
    listed.delete(weight.key);
  }
  const [extra] = listed.values();
  if (extra) throw new UserError(`${modelJson}: weightsManifest lists weight ${quote(extra.name)}, which no layer of the topology has`);
}

/**
 * Reads model.json and checks that it is a LayersModel whose topology, manifest and weight shards
 * agree, within MODEL_LIMITS, with every shard a regular file inside the model's folder; a
 * UserError naming the file and the problem otherwise. Reads nothing but model.json (or the
 * text a committed save holds for it: atomic.ts), and not that either when the caller passes
 * the `content` it read (readModelJson).
 */
export function readLayersModelJson(modelJson: string, content: unknown = readModelJson(modelJson)): CheckedLayersModel {
  const folder = realFolder(path.dirname(modelJson), modelJson);
  const parsed = content as Record<string, unknown>;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UserError(`${modelJson}: not a TensorFlow.js LayersModel (not a JSON object)`);
  if (parsed.format === 'graph-model') {
    throw new UserError(`${modelJson}: a TensorFlow.js graph model; only LayersModels (tf.layers / Keras) can be trained and attacked`);
  }
  if (!('modelTopology' in parsed)) throw new UserError(`${modelJson}: not a TensorFlow.js LayersModel (no modelTopology)`);
  if (!('weightsManifest' in parsed)) throw new UserError(`${modelJson}: not a TensorFlow.js LayersModel (no weightsManifest)`);
  const problem = validateJson(parsed, LAYERS_MODEL_SCHEMA);
  if (problem) throw new UserError(`${modelJson}: ${problem.path.length ? `${formatPath(problem.path)}: ` : ''}${problem.message}`);
  const model = parsed as unknown as LayersModelJson;

  const declaredBytes = model.weightsManifest.reduce((sum, group) => sum + group.weights.reduce((s, spec) => s + specBytes(spec), 0), 0);
  if (declaredBytes > MODEL_LIMITS.weightBytes) throw overCap(modelJson, 'weightsManifest declares', declaredBytes);
  checkWeightsAgainstTopology(modelJson, model);

  const shards: FolderFile[] = [];
  for (const group of model.weightsManifest) {
    const files = group.paths.map((shard) => checkWeightPath(shard, folder, modelJson));
    const have = files.reduce((sum, f) => sum + f.bytes, 0);
    const need = group.weights.reduce((sum, spec) => sum + specBytes(spec), 0);
    if (have !== need) {
      const names = group.paths.map((p) => quote(p)).join(', ');
      throw new UserError(`${modelJson}: the weight file${files.length > 1 ? 's' : ''} ${names} hold${files.length > 1 ? '' : 's'} ${have} bytes but ${files.length > 1 ? 'their' : 'its'} weights need ${need} (truncated, or from another model)`);
    }
    shards.push(...files);
  }
  return { ...model, shards, weightBytes: declaredBytes };
}
