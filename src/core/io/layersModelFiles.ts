import { createHash } from 'node:crypto';
import * as tfl from '@tensorflow/tfjs-layers';
import { io } from '../tf';
import { UserError } from '../errors';
import { commitFiles, jsonText } from './atomic';
import { readLayersModelJson } from './layersModelCheck';
import { quote, readFolderFile } from './modelFolder';

/** Weight shards of earlier saves, removed once a new save is committed. */
const WEIGHTS_PATTERN = /^weights\.[0-9a-f]{12}\.bin$/;

/** A LayersModel's files in the TensorFlow.js format: model.json's text and one weight shard named by its content hash. */
export interface LayersModelFiles {
  modelJson: string;
  shardName: string;
  shard: Uint8Array;
}

export async function layersModelFiles(model: tfl.LayersModel): Promise<LayersModelFiles> {
  let files: LayersModelFiles | undefined;
  await model.save(
    io.withSaveHandler(async (artifacts: io.ModelArtifacts) => {
      const shard = new Uint8Array(artifacts.weightData as ArrayBuffer);
      const shardName = `weights.${sha256(shard).slice(0, 12)}.bin`;
      const modelJson = jsonText({
        format: 'layers-model',
        generatedBy: 'gccs-lab',
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [shardName], weights: artifacts.weightSpecs }],
      });
      files = { modelJson, shardName, shard };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return files!;
}

/**
 * Saves a LayersModel in the TensorFlow.js format (model.json + one weight shard) into `dir`,
 * together with `sidecars` (e.g. gccs.json) as one crash-consistent save (commitFiles): a crash at
 * any point leaves the old files or the new ones, and model.json always names a shard that is there.
 */
export async function saveLayersModel(model: tfl.LayersModel, dir: string, sidecars: Record<string, string> = {}): Promise<void> {
  const { modelJson, shardName, shard } = await layersModelFiles(model);
  commitFiles(dir, { fresh: { [shardName]: shard }, replace: { 'model.json': modelJson, ...sidecars }, obsolete: WEIGHTS_PATTERN });
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Reads model.json (unless the caller passes the `content` it read) and its weight shards, with a
 * one-line error for anything that is not a complete LayersModel: everything is checked
 * (readLayersModelJson) before the one buffer of exactly the weights' size is allocated and filled from the shards.
 */
export function readLayersModelArtifacts(modelJson: string, content?: unknown): io.ModelArtifacts {
  const checked = readLayersModelJson(modelJson, content);
  const weights = new Uint8Array(checked.weightBytes);
  const names = checked.weightsManifest.flatMap((group) => group.paths);
  let offset = 0;
  checked.shards.forEach((shard, i) => {
    readFolderFile(shard, modelJson, `weight file ${quote(names[i])}`, weights, offset);
    offset += shard.bytes;
  });
  return {
    modelTopology: checked.modelTopology,
    weightSpecs: checked.weightsManifest.flatMap((group) => group.weights) as io.WeightsManifestEntry[],
    weightData: weights.buffer,
    format: checked.format,
  };
}

export async function loadLayersModelFile(modelJson: string, content?: unknown): Promise<tfl.LayersModel> {
  const artifacts = readLayersModelArtifacts(modelJson, content);
  try {
    return await tfl.loadLayersModel(io.fromMemory(artifacts));
  } catch (error) {
    throw new UserError(`${modelJson}: cannot build the LayersModel (${(error as Error).message.split('\n')[0]})`);
  }
}
