/**
 * Where a saved model's files are, and its gccs.json, without TensorFlow.js: shared by the engine
 * (modelDir.ts) and the extension host, which must not load TensorFlow.js.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import { pendingText } from './atomic';
import type { ModelMeta } from './modelDir';

export const META_FILE = 'gccs.json';

/** A model folder, its model.json or its gccs.json → the folder. */
export function modelFolderOf(location: string): string {
  return ['model.json', META_FILE].includes(path.basename(location)) ? path.dirname(location) : location;
}

/** The gccs.json beside a model.json, or null for a LayersModel this engine did not train. */
export function readModelMeta(modelJson: string): ModelMeta | null {
  const metaFile = path.join(path.dirname(modelJson), META_FILE);
  // A save cut short after its commit point: its gccs.json is the one that goes with its model.json.
  const pending = pendingText(metaFile);
  if (pending === null && !fs.existsSync(metaFile)) return null;
  try {
    return JSON.parse(pending ?? fs.readFileSync(metaFile, 'utf8')) as ModelMeta;
  } catch (error) {
    throw new UserError(`${metaFile}: not valid JSON (${(error as Error).message})`);
  }
}
