/**
 * The training panel's data for a model folder: per-epoch records from its gccs.json (a finished
 * run) or from checkpoint/state.json (a run that is going on or was interrupted). No vscode; tested.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../../core/errors';
import type { EpochRecord } from '../../../core/io/modelDir';
import { readFolderJson, realFolder } from '../../../core/io/modelFolder';
import { modelFolderOf, readModelMeta } from '../../../core/io/modelLocation';
import { MODEL_LIMITS } from '../../../core/limits';
import { convergedLossNote } from '../../../core/loss/converged';
import type { TrainingLoss } from '../../../core/catalog/losses';
import type { TrainingData } from './messages';
import { counted } from '../../../core/text';

export class TrainingInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingInputError';
  }
}

/** The folder's files are read with the engine's sandboxed readers; their one-line problems become the panel's. */
function asPanelInput<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof UserError) throw new TrainingInputError(error.message);
    throw error;
  }
}

export const epochCount = (n: number) => counted(n, 'epoch');

/** A GCCS run's `converged` line (none for cross-entropy). */
export function convergedField(loss: TrainingLoss, numClasses: number, batchSize: number, workers = 1): Pick<TrainingData, 'converged'> {
  return loss.kind === 'gccs' ? { converged: convergedLossNote(loss, numClasses, batchSize, workers) } : {};
}

/** The training history of a model folder (or its model.json / gccs.json). */
export function trainingData(location: string): TrainingData {
  const outDir = modelFolderOf(location);
  const metaFile = path.join(outDir, 'gccs.json');
  const stateFile = path.join(outDir, 'checkpoint', 'state.json');
  const title = `Training: ${path.basename(outDir)}`;
  // A checkpoint newer than gccs.json belongs to a run after the finished one (going on or stopped).
  const stateIsNewer = fs.existsSync(stateFile) && (!fs.existsSync(metaFile) || fs.statSync(stateFile).mtimeMs > fs.statSync(metaFile).mtimeMs + 1000);
  if (fs.existsSync(metaFile) && !stateIsNewer) {
    const meta = asPanelInput(() => readModelMeta(path.join(outDir, 'model.json')))!;
    const status = `finished: ${epochCount(meta.epochs.length)} in ${meta.trainingSeconds.toFixed(1)} s on ${meta.backend}`;
    // gccs.json does not record the training's processes: the figure is for whole batches.
    const converged = convergedField(meta.loss, meta.numClasses, meta.training.batchSize);
    return { outDir, title, epochs: meta.epochs, totalEpochs: meta.training.epochs, status, live: false, ...converged };
  }
  if (stateIsNewer) {
    const readState = () => readFolderJson(stateFile, realFolder(path.dirname(stateFile), stateFile), MODEL_LIMITS.metaBytes, 'MODEL_LIMITS.metaBytes');
    const state = asPanelInput(readState) as {
      records?: EpochRecord[];
      epochsDone?: number;
    } | null;
    if (state === null || typeof state !== 'object') throw new TrainingInputError(`${stateFile}: not a checkpoint state (a JSON object)`);
    if (!Array.isArray(state.records)) throw new TrainingInputError(`${stateFile}: no per-epoch records`);
    return { outDir, title, epochs: state.records, totalEpochs: state.records.length, status: `checkpoint after epoch ${state.epochsDone ?? state.records.length} (not finished)`, live: false };
  }
  throw new TrainingInputError(`${outDir}: no gccs.json and no checkpoint/state.json: nothing was trained here yet`);
}

/** The data after one more epoch of a live run. */
export function withEpoch(data: TrainingData, record: EpochRecord): TrainingData {
  const epochs = [...data.epochs.filter((r) => r.epoch < record.epoch), record];
  return { ...data, epochs, totalEpochs: Math.max(data.totalEpochs, epochs.length), status: `training: epoch ${record.epoch}/${data.totalEpochs}`, live: true };
}
