import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../errors';
import { ConfigError } from './config';
import { commitFiles, jsonText, readCommittedText, settleFolder } from '../io/atomic';
import { layersModelFiles, loadLayersModelFile, sha256 } from '../io/layersModelFiles';
import type { EpochRecord } from '../io/modelLocation';
import { MODEL_LIMITS } from '../limits';

/** What a run needs to carry on after its last finished epoch (checkpoint/state.json). */
export interface CheckpointState {
  /** The run's configuration, compared on resume so a checkpoint is never mixed with another run. */
  configKey: string;
  epochsDone: number;
  records: EpochRecord[];
  elapsedSeconds: number;
  optimizerSteps: number;
  /** The file holding the optimizer's slot arrays back to back (named by its content hash). */
  optimizerFile: string;
  /** Lengths of the optimizer's slot arrays. */
  slotLengths: number[];
  /** SHA-256 of each other file of the checkpoint (model.json, weights, optimizer), checked before resuming. */
  files: Record<string, string>;
}

const STATE_FILE = 'state.json';
/** Weight shards and optimizer files of earlier epochs, removed once a new epoch is committed. */
const OBSOLETE_PATTERN = /^(weights|optimizer)\.[0-9a-f]{12}\.bin$/;

export function checkpointDir(outDir: string): string {
  return path.join(outDir, 'checkpoint');
}

/** Saves the epoch's model, optimizer slots and state.json as one (commitFiles): a crash leaves the previous epoch's checkpoint or this one. */
export async function writeCheckpoint(
  outDir: string,
  model: tfl.LayersModel,
  state: Omit<CheckpointState, 'slotLengths' | 'optimizerFile' | 'files'>,
  slots: Float32Array[],
): Promise<void> {
  const { modelJson, shardName, shard } = await layersModelFiles(model);
  const packed = new Float32Array(slots.reduce((n, s) => n + s.length, 0));
  let offset = 0;
  for (const slot of slots) {
    packed.set(slot, offset);
    offset += slot.length;
  }
  const optimizer = new Uint8Array(packed.buffer);
  const optimizerHash = sha256(optimizer);
  const optimizerFile = `optimizer.${optimizerHash.slice(0, 12)}.bin`;
  const files = { 'model.json': sha256(modelJson), [shardName]: sha256(shard), [optimizerFile]: optimizerHash };
  const full: CheckpointState = { ...state, optimizerFile, slotLengths: slots.map((s) => s.length), files };
  commitFiles(checkpointDir(outDir), {
    fresh: { [shardName]: shard, [optimizerFile]: optimizer },
    replace: { 'model.json': modelJson, [STATE_FILE]: jsonText(full) },
    obsolete: OBSOLETE_PATTERN,
  });
}

/**
 * The checkpoint to resume `configKey` from, after checking that it is whole: every file that
 * state.json names has the SHA-256 recorded there. Anything else is a one-line error naming the file.
 */
export async function readCheckpoint(outDir: string, configKey: string) {
  const dir = checkpointDir(outDir);
  const stateFile = path.join(dir, STATE_FILE);
  if (!fs.existsSync(stateFile)) throw new UserError(`${dir}: no checkpoint to resume from (state.json missing)`);
  // Resuming writes here: an interrupted save is finished (or its leftovers removed) first.
  settleFolder(dir);
  const state = parseState(stateFile, readCommittedText(stateFile, MODEL_LIMITS.metaBytes));
  if (state.configKey !== configKey) {
    throw new ConfigError('resume', (name) => `${stateFile}: the checkpoint was written by a different training configuration; use another ${name('outDir')} or drop ${name('resume')}`);
  }
  const verified = new Map<string, Buffer>();
  for (const [name, hash] of Object.entries(state.files)) {
    const file = path.join(dir, name);
    const bytes = readCheckpointFile(file);
    if (sha256(bytes) !== hash) throw new ConfigError('resume', (name) => `${file}: does not match ${STATE_FILE} (SHA-256 differs: a torn or changed checkpoint); start again without ${name('resume')}`);
    verified.set(name, bytes);
  }
  const bytes = verified.get(state.optimizerFile);
  if (!bytes || !verified.has('model.json')) throw new ConfigError('resume', (name) => `${stateFile}: does not list the checkpoint's model.json and optimizer file; start again without ${name('resume')}`);
  const total = state.slotLengths.reduce((a, b) => a + b, 0);
  if (bytes.length !== 4 * total) throw new UserError(`${path.join(dir, state.optimizerFile)}: ${bytes.length} bytes but ${STATE_FILE} says ${4 * total}`);
  const packed = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const slots: Float32Array[] = [];
  let offset = 0;
  for (const length of state.slotLengths) {
    slots.push(packed.slice(offset, offset + length));
    offset += length;
  }
  const model = await loadLayersModelFile(path.join(dir, 'model.json'));
  return { state, slots, model };
}

function readCheckpointFile(file: string): Buffer {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(file);
  } catch {
    throw new ConfigError('resume', (name) => `${file}: missing (listed in ${STATE_FILE}); start again without ${name('resume')}`);
  }
  if (!stat.isFile()) throw new UserError(`${file}: not a regular file`);
  if (stat.size > MODEL_LIMITS.weightBytes) throw new UserError(`${file}: ${stat.size} bytes, more than the ${MODEL_LIMITS.weightBytes} allowed`);
  return fs.readFileSync(file);
}

function parseState(stateFile: string, text: string): CheckpointState {
  let state: Partial<CheckpointState>;
  try {
    state = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${stateFile}: not valid JSON (${(error as Error).message})`);
  }
  if (state === null || typeof state !== 'object') throw new UserError(`${stateFile}: not a checkpoint state (not a JSON object)`);
  if (state.files === undefined) {
    throw new ConfigError('resume', (name) => `${stateFile}: written by an older version, without the file hashes that prove a checkpoint whole; start again without ${name('resume')}`);
  }
  const plainName = (name: string) => /^[\w-][\w.-]*$/.test(name);
  const wellFormed =
    typeof state.configKey === 'string' &&
    Number.isInteger(state.epochsDone) &&
    Array.isArray(state.records) &&
    typeof state.elapsedSeconds === 'number' &&
    Number.isInteger(state.optimizerSteps) &&
    typeof state.optimizerFile === 'string' &&
    Array.isArray(state.slotLengths) &&
    state.slotLengths.every((n) => Number.isInteger(n) && n >= 0) &&
    typeof state.files === 'object' &&
    state.files !== null &&
    Object.entries(state.files).every(([name, hash]) => plainName(name) && typeof hash === 'string');
  if (!wellFormed) throw new UserError(`${stateFile}: not a checkpoint state (a field is missing or of the wrong type)`);
  return state as CheckpointState;
}
