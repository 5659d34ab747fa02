import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { io } from '../tf';
import { UserError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from './atomic';

const WEIGHTS_PATTERN = /^weights\.[0-9a-f]{12}\.bin$/;

/**
 * Saves a LayersModel in the TensorFlow.js format (model.json + one weight shard) into `dir`.
 * The shard's name carries its content hash and model.json is replaced last, atomically, so a
 * crash at any point leaves a loadable model (the old or the new one).
 */
export async function saveLayersModel(model: tfl.LayersModel, dir: string): Promise<void> {
  await model.save(
    io.withSaveHandler(async (artifacts: io.ModelArtifacts) => {
      const weights = new Uint8Array(artifacts.weightData as ArrayBuffer);
      const shard = `weights.${createHash('sha256').update(weights).digest('hex').slice(0, 12)}.bin`;
      writeFileAtomic(path.join(dir, shard), weights);
      writeJsonAtomic(path.join(dir, 'model.json'), {
        format: 'layers-model',
        generatedBy: 'gccs-lab',
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [shard], weights: artifacts.weightSpecs }],
      });
      for (const name of fs.readdirSync(dir)) {
        if (WEIGHTS_PATTERN.test(name) && name !== shard) fs.rmSync(path.join(dir, name), { force: true });
      }
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

/** Reads model.json and its weight shards, with a one-line error for anything that is not a LayersModel. */
export function readLayersModelArtifacts(modelJson: string): io.ModelArtifacts {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `not valid JSON (${(error as Error).message})`;
    throw new UserError(`${modelJson}: ${reason}`);
  }
  if (parsed === null || typeof parsed !== 'object') throw new UserError(`${modelJson}: not a TensorFlow.js LayersModel (not a JSON object)`);
  if (parsed.format === 'graph-model') {
    throw new UserError(`${modelJson}: a TensorFlow.js graph model; only LayersModels (tf.layers / Keras) can be trained and attacked`);
  }
  const topology = parsed.modelTopology as Record<string, unknown> | undefined;
  const manifest = parsed.weightsManifest as { paths: string[]; weights: io.WeightsManifestEntry[] }[] | undefined;
  if (!topology || typeof topology !== 'object') throw new UserError(`${modelJson}: not a TensorFlow.js LayersModel (no modelTopology)`);
  if (!Array.isArray(manifest)) throw new UserError(`${modelJson}: not a TensorFlow.js LayersModel (no weightsManifest)`);
  const dir = path.dirname(modelJson);
  const buffers: Buffer[] = [];
  const weightSpecs: io.WeightsManifestEntry[] = [];
  for (const group of manifest) {
    for (const shard of group.paths) {
      const file = path.join(dir, shard);
      if (!fs.existsSync(file)) throw new UserError(`${modelJson}: weight file ${shard} is missing`);
      buffers.push(fs.readFileSync(file));
    }
    weightSpecs.push(...group.weights);
  }
  const joined = Buffer.concat(buffers);
  return {
    modelTopology: topology,
    weightSpecs,
    weightData: joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength),
    format: parsed.format as string | undefined,
  };
}

export async function loadLayersModelFile(modelJson: string): Promise<tfl.LayersModel> {
  const artifacts = readLayersModelArtifacts(modelJson);
  try {
    return await tfl.loadLayersModel(io.fromMemory(artifacts));
  } catch (error) {
    throw new UserError(`${modelJson}: cannot build the LayersModel (${(error as Error).message.split('\n')[0]})`);
  }
}
