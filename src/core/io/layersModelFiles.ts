import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { io } from '../tf';
import { UserError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from './atomic';
import { readLayersModelJson } from './layersModelCheck';

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

/** Reads model.json and its weight shards, with a one-line error for anything that is not a complete LayersModel. */
export function readLayersModelArtifacts(modelJson: string): io.ModelArtifacts {
  const parsed = readLayersModelJson(modelJson);
  const dir = path.dirname(modelJson);
  const joined = Buffer.concat(parsed.weightsManifest.flatMap((group) => group.paths.map((shard) => fs.readFileSync(path.join(dir, shard)))));
  return {
    modelTopology: parsed.modelTopology,
    weightSpecs: parsed.weightsManifest.flatMap((group) => group.weights) as io.WeightsManifestEntry[],
    weightData: joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength),
    format: parsed.format,
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
