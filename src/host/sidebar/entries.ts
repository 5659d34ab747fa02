/**
 * The GCCS view's rows, without vscode and without TensorFlow.js: what an experiment, a model
 * folder and a results file say at a glance (state, test accuracy, r_AB, worst-case accuracy).
 * A file that cannot be read becomes a row that says why, never an exception. Tested directly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONFIG_LIMITS } from '../../core/limits';
import { lossLabel } from '../../core/catalog/losses';
import { META_FILE, isOnnxFile, modelFolderOf, onnxSidecarOf, readModelMeta } from '../../core/io/modelLocation';
import { readResultsFile } from '../../core/sweep/results';
import { readJsonFile } from '../../core/sweep/jsonSchema';
import { evaluationFile, modelName } from '../panels/robustness/compareData';
import { loadExperiment } from '../workspace/experiment';

export type EntryKind = 'experiment' | 'model' | 'result';

export interface SidebarEntry {
  kind: EntryKind;
  /** The file (experiment, results) or folder (model) the row stands for. */
  location: string;
  label: string;
  description: string;
  tooltip: string;
  /** Which inline actions the row offers (package.json menus match it). */
  contextValue: string;
}

const percent = (x: number) => `${(100 * x).toFixed(1)}%`;
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The checkpoint folder a training keeps to resume (src/core/train/checkpoint.ts writes it). */
export const checkpointFolder = (modelFolder: string) => path.join(modelFolder, 'checkpoint');

/** An experiment: not trained, training (with its progress when a job reports it), or trained (its outDir has a gccs.json). */
export function experimentEntry(file: string, progress?: number): SidebarEntry {
  const base = { kind: 'experiment' as const, location: file, label: path.basename(file) };
  let outDir: string;
  try {
    outDir = loadExperiment(file).outDir;
  } catch (error) {
    return { ...base, description: 'invalid', tooltip: message(error), contextValue: 'experiment' };
  }
  const trained = fs.existsSync(path.join(outDir, META_FILE));
  const where = `model folder ${outDir}`;
  if (progress !== undefined)
    return { ...base, description: `training ${Math.round(100 * progress)}%`, tooltip: `Training into ${where}`, contextValue: 'experiment.training' };
  return trained
    ? { ...base, description: 'trained', tooltip: `Trained: ${where}`, contextValue: 'experiment.trained' }
    : { ...base, description: 'not trained', tooltip: `Not trained yet: Train writes ${where}`, contextValue: 'experiment' };
}

/** What a results file says: the lowest accuracy under attack and where, for the view and its tooltip. */
interface Worst {
  accuracy: number;
  where: string;
  /** The evaluation's verdict lines (sweeps have none). */
  verdict: string[];
}

/** The cell of a sweep results file with the lowest accuracy under attack; null when it has no results yet. */
function sweepWorst(file: string): Worst | null {
  const { results } = readResultsFile(file);
  if (results.length === 0) return null;
  const worst = results.reduce((low, r) => (r.accuracy < low.accuracy ? r : low));
  return { accuracy: worst.accuracy, where: `${worst.cell.attack}${worst.cell.eps === null ? '' : `, ε ${worst.cell.eps}`}`, verdict: [] };
}

interface SavedRobustnessEvaluation {
  model: string;
  eps: { eps: number; worstAccuracy: number }[];
  verdict: string[];
}

/** A `gccs evaluate --out` file (it has model, eps[] and verdict[]); undefined for any other JSON. */
function readRobustnessEvaluation(file: string): SavedRobustnessEvaluation | undefined {
  const read = readJsonFile(file, CONFIG_LIMITS.resultsFileBytes);
  if ('problem' in read) throw new Error(read.problem.message);
  const value = read.value as Partial<SavedRobustnessEvaluation> | null;
  const ok =
    typeof value?.model === 'string' &&
    Array.isArray(value.verdict) &&
    value.verdict.every((line) => typeof line === 'string') &&
    Array.isArray(value.eps) &&
    value.eps.every((e) => typeof e?.eps === 'number' && typeof e.worstAccuracy === 'number');
  return ok ? (value as SavedRobustnessEvaluation) : undefined;
}

function evaluationWorst(evaluation: SavedRobustnessEvaluation): Worst | null {
  if (evaluation.eps.length === 0) return null;
  const worst = evaluation.eps.reduce((low, e) => (e.worstAccuracy < low.worstAccuracy ? e : low));
  return { accuracy: worst.worstAccuracy, where: `worst case over the attacks, ε ${worst.eps}`, verdict: evaluation.verdict };
}

/** The results files of the results folder: sweeps (*.jsonl) and robustness evaluations (*.json from `gccs evaluate --out`), newest first. */
export function resultLocations(resultsFolder: string, max: number): string[] {
  if (!fs.existsSync(resultsFolder)) return [];
  return fs
    .readdirSync(resultsFolder)
    .filter((name) => name.endsWith('.jsonl') || (name.endsWith('.json') && !name.endsWith('.eval.json') && !name.endsWith('.sweep.json')))
    .map((name) => path.join(resultsFolder, name))
    .map((file) => ({ file, stat: fs.statSync(file, { throwIfNoEntry: false }) }))
    .filter((item) => item.stat?.isFile())
    .sort((a, b) => b.stat!.mtimeMs - a.stat!.mtimeMs)
    .map(({ file }) => file)
    .filter((file) => file.endsWith('.jsonl') || isRobustnessEvaluation(file))
    .slice(0, max);
}

function isRobustnessEvaluation(file: string): boolean {
  try {
    return readRobustnessEvaluation(file) !== undefined;
  } catch {
    return false;
  }
}

/** A sweep (*.jsonl) or an evaluation (*.json): its worst-case accuracy. */
export function resultEntry(file: string): SidebarEntry {
  const base = {
    kind: 'result' as const,
    location: file,
    label: path.basename(file),
    contextValue: file.endsWith('.jsonl') ? 'result.sweep' : 'result.evaluation',
  };
  try {
    const evaluation = file.endsWith('.jsonl') ? undefined : readRobustnessEvaluation(file);
    const worst = evaluation ? evaluationWorst(evaluation) : sweepWorst(file);
    const model = evaluation ? modelName(evaluation.model) : undefined;
    if (!worst) return { ...base, description: 'no results yet', tooltip: file };
    return {
      ...base,
      description: `worst ${percent(worst.accuracy)} (${worst.where})`,
      tooltip: [`${model ? `${model}: ` : ''}lowest accuracy under attack ${percent(worst.accuracy)} (${worst.where})`, ...worst.verdict, file].join('\n'),
    };
  } catch (error) {
    return { ...base, description: 'unreadable', tooltip: message(error) };
  }
}

/** Of the results folder's files, the newest one about this model (a sweep named after it, or an evaluation of it). */
function latestResultOf(modelFolder: string, results: string[]): string | undefined {
  const name = modelName(modelFolder);
  return results.find((file) => {
    if (file.endsWith('.jsonl')) return path.basename(file, '.jsonl') === name;
    try {
      const evaluation = readRobustnessEvaluation(file);
      return evaluation !== undefined && path.resolve(modelFolderOf(evaluation.model)) === path.resolve(modelFolder);
    } catch {
      return false;
    }
  });
}

/**
 * A model folder: its loss, test accuracy and r_AB (from the <results>/<name>.eval.json that
 * Compare Models saves; else the last validation accuracy of its gccs.json), and the worst case
 * of its newest robustness result.
 */
export function modelEntry(folder: string, results: string[], resultsFolder: string): SidebarEntry {
  // An .onnx file is a model too: no training history, no checkpoint; its preprocessing is its sidecar's.
  const onnx = isOnnxFile(folder);
  const checkpoint = !onnx && fs.existsSync(checkpointFolder(folder));
  const base = { kind: 'model' as const, location: folder, label: modelName(folder), contextValue: onnx ? 'model.onnx' : checkpoint ? 'model.checkpoint' : 'model' };
  let meta;
  try {
    meta = onnx ? null : readModelMeta(path.join(folder, 'model.json'));
  } catch (error) {
    return { ...base, description: 'unreadable gccs.json', tooltip: message(error) };
  }
  const parts: string[] = [];
  const tips: string[] = [folder];
  if (onnx) {
    const sidecar = onnxSidecarOf(folder);
    tips.push(fs.existsSync(sidecar) ? `ONNX model; preprocessing from ${path.basename(sidecar)}` : `ONNX model without ${path.basename(sidecar)}: pixels in [0, 1], no normalisation`);
  }
  if (meta)
    tips.push(`training loss: ${lossLabel(meta.loss, meta.training.defence)}; ${meta.epochs.length} epochs; ${meta.architecture}`);
  const saved = evaluationFile(path.join(resultsFolder, `${modelName(folder)}.jsonl`));
  const evaluation = readSavedEvaluation(saved);
  if (evaluation) {
    parts.push(`test ${percent(evaluation.accuracy)}`, `r_AB ${evaluation.separation.mean.toFixed(2)}`);
    tips.push(`test accuracy ${percent(evaluation.accuracy)}, r_AB ${evaluation.separation.mean.toFixed(2)} (${saved})`);
  } else {
    const last = meta?.epochs.at(-1);
    if (last?.validationAccuracy != null) parts.push(`validation ${percent(last.validationAccuracy)}`);
    tips.push('test accuracy and r_AB: run Compare Models on its results');
  }
  const latest = latestResultOf(folder, results);
  if (latest) {
    const result = resultEntry(latest);
    parts.push(result.description);
    tips.push(`latest robustness result: ${result.tooltip}`);
  } else tips.push('no robustness result yet: run Evaluate Robustness');
  if (checkpoint) tips.push('checkpoint/ is kept (it lets a training resume); Delete Checkpoint frees its space');
  return { ...base, description: parts.join(' · ') || (onnx ? 'ONNX' : 'trained'), tooltip: tips.join('\n') };
}

function readSavedEvaluation(file: string): { accuracy: number; separation: { mean: number } } | undefined {
  if (!fs.existsSync(file)) return undefined;
  const read = readJsonFile(file, CONFIG_LIMITS.resultsFileBytes);
  if ('problem' in read) return undefined;
  const value = read.value as { accuracy?: unknown; separation?: { mean?: unknown } } | null;
  return typeof value?.accuracy === 'number' && typeof value.separation?.mean === 'number'
    ? (value as { accuracy: number; separation: { mean: number } })
    : undefined;
}
