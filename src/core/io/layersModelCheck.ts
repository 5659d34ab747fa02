/**
 * The structural checks of a TensorFlow.js LayersModel on disk (model.json and its weight shards)
 * that need no TensorFlow.js: the engine runs them before building a model, and the extension
 * host before asking anything about a model it cannot load.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string };
}

export interface LayersModelJson {
  format?: string;
  modelTopology: Record<string, unknown>;
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
}

const BYTES_PER_VALUE: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/**
 * Reads model.json and checks that it is a LayersModel whose weight shards exist and hold exactly
 * the bytes its weights need; a UserError naming the file and the problem otherwise.
 */
export function readLayersModelJson(modelJson: string): LayersModelJson {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : code ? `cannot be read (${code})` : `not valid JSON (${(error as Error).message})`;
    throw new UserError(`${modelJson}: ${reason}`);
  }
  if (parsed === null || typeof parsed !== 'object') throw new UserError(`${modelJson}: not a TensorFlow.js LayersModel (not a JSON object)`);
  if (parsed.format === 'graph-model') {
    throw new UserError(`${modelJson}: a TensorFlow.js graph model; only LayersModels (tf.layers / Keras) can be trained and attacked`);
  }
  const topology = parsed.modelTopology;
  const manifest = parsed.weightsManifest;
  if (!topology || typeof topology !== 'object') throw new UserError(`${modelJson}: not a TensorFlow.js LayersModel (no modelTopology)`);
  if (!Array.isArray(manifest)) throw new UserError(`${modelJson}: not a TensorFlow.js LayersModel (no weightsManifest)`);
  const dir = path.dirname(modelJson);
  let have = 0;
  let need = 0;
  for (const group of manifest as LayersModelJson['weightsManifest']) {
    for (const shard of group.paths) {
      const file = path.join(dir, shard);
      if (!fs.existsSync(file)) throw new UserError(`${modelJson}: weight file ${shard} is missing`);
      have += fs.statSync(file).size;
    }
    for (const spec of group.weights) {
      const bytes = BYTES_PER_VALUE[spec.quantization?.dtype ?? spec.dtype];
      if (bytes === undefined) throw new UserError(`${modelJson}: weight ${spec.name} has unknown dtype ${spec.quantization?.dtype ?? spec.dtype}`);
      need += bytes * spec.shape.reduce((a, b) => a * b, 1);
    }
  }
  if (have !== need) {
    const shards = (manifest as LayersModelJson['weightsManifest']).flatMap((group) => group.paths).join(', ');
    throw new UserError(`${modelJson}: the weight file${shards.includes(',') ? 's' : ''} ${shards} hold ${have} bytes but the weights need ${need} (truncated, or from another model)`);
  }
  return parsed as unknown as LayersModelJson;
}
