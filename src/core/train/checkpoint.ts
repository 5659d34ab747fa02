import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic';
import { loadLayersModelFile, saveLayersModel } from '../io/layersModelFiles';
import type { EpochRecord } from '../io/modelDir';

/** What a run needs to carry on after its last finished epoch. */
export interface CheckpointState {
  /** The run's configuration, compared on resume so a checkpoint is never mixed with another run. */
  configKey: string;
  epochsDone: number;
  records: EpochRecord[];
  elapsedSeconds: number;
  optimizerSteps: number;
  /** Lengths of the optimizer's slot arrays, stored back to back in optimizer.bin. */
  slotLengths: number[];
}

export function checkpointDir(outDir: string): string {
  return path.join(outDir, 'checkpoint');
}

/** Model first, then optimizer slots, then state.json: the state names an epoch only once all of it is on disk. */
export async function writeCheckpoint(outDir: string, model: tfl.LayersModel, state: Omit<CheckpointState, 'slotLengths'>, slots: Float32Array[]): Promise<void> {
  const dir = checkpointDir(outDir);
  await saveLayersModel(model, dir);
  const total = slots.reduce((n, s) => n + s.length, 0);
  const packed = new Float32Array(total);
  let offset = 0;
  for (const slot of slots) {
    packed.set(slot, offset);
    offset += slot.length;
  }
  writeFileAtomic(path.join(dir, 'optimizer.bin'), new Uint8Array(packed.buffer));
  writeJsonAtomic(path.join(dir, 'state.json'), { ...state, slotLengths: slots.map((s) => s.length) });
}

export async function readCheckpoint(outDir: string, configKey: string) {
  const dir = checkpointDir(outDir);
  const stateFile = path.join(dir, 'state.json');
  if (!fs.existsSync(stateFile)) throw new UserError(`${dir}: no checkpoint to resume from (state.json missing)`);
  const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as CheckpointState;
  if (state.configKey !== configKey) {
    throw new UserError(`${stateFile}: the checkpoint was written by a different training configuration; use another --out or drop --resume`);
  }
  const bytes = fs.readFileSync(path.join(dir, 'optimizer.bin'));
  const packed = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const slots: Float32Array[] = [];
  let offset = 0;
  for (const length of state.slotLengths) {
    slots.push(packed.slice(offset, offset + length));
    offset += length;
  }
  if (offset !== packed.length) throw new UserError(`${dir}/optimizer.bin: size does not match state.json`);
  const model = await loadLayersModelFile(path.join(dir, 'model.json'));
  return { state, slots, model };
}
