/**
 * GCCS: Compare Models, without vscode: which results files the picked paths mean, and the table of
 * each model's clean test metrics (a worker's `evaluate` answer, as `gccs eval --json` prints it,
 * saved as <results>.eval.json beside its results file) that the robustness panel shows above the
 * accuracy-vs-ε charts. Tested directly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { modelFolderOf } from '../../../core/io/modelLocation';
import { SummarySection, modelLossLabel } from '../../../core/sweep/summary';
import type { ModelEvaluation } from '../../../core/inspect/types';

/** What the robustness panel needs of a saved evaluation. */
type SavedEvaluation = Pick<ModelEvaluation, 'accuracy' | 'macroF1' | 'separation' | 'count' | 'latent' | 'model' | 'split'>;

/** A saved evaluation written before r_AB followed the paper's equations 4–6 (it lacks meanDistanceRatio) must be redone. */
export function evaluationIsCurrent(file: string): boolean {
  try {
    return 'meanDistanceRatio' in (JSON.parse(fs.readFileSync(file, 'utf8')) as object);
  } catch {
    return false;
  }
}

export const evaluationFile = (resultsFile: string) => resultsFile.replace(/\.jsonl$/, '') + '.eval.json';

/** "models/mnist-gccs/model.json" or "models/mnist-gccs" → "mnist-gccs". */
export function modelName(location: string): string {
  return path.basename(modelFolderOf(location)).replace(/\.jsonl?$/, '');
}

/**
 * The results files of the picked paths: a *.jsonl is one; a model folder (or its model.json /
 * gccs.json) has <resultsFolder>/<model>.jsonl, as GCCS: Evaluate Robustness writes it.
 * `problems` names each path that has none.
 */
export function comparisonFiles(picked: string[], resultsFolder: string): { files: string[]; problems: string[] } {
  const files: string[] = [];
  const problems: string[] = [];
  for (const location of picked) {
    const file = location.endsWith('.jsonl') ? location : path.join(resultsFolder, `${modelName(location)}.jsonl`);
    if (!fs.existsSync(file) || fs.statSync(file).size === 0) {
      problems.push(location.endsWith('.jsonl') ? `${path.basename(file)} is empty or missing` : `${modelName(location)} has no robustness results (${file}): run GCCS: Evaluate Robustness on it first`);
    } else if (!files.includes(file)) files.push(file);
  }
  return { files, problems };
}

/** The model folders named in a results file's cells (usually one). */
export function resultsModels(resultsFile: string): string[] {
  const models = new Set<string>();
  for (const line of fs.readFileSync(resultsFile, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const model = (JSON.parse(line) as { cell?: { model?: string } }).cell?.model;
      if (model) models.add(model);
    } catch {
      // A partial last line from a crash: the results reader drops it too.
    }
  }
  return [...models];
}

/** One row per results file with a saved evaluation; undefined when none has one. */
export function modelsSection(files: string[]): SummarySection | undefined {
  const rows: string[][] = [];
  for (const file of files) {
    const evalFile = evaluationFile(file);
    if (!fs.existsSync(evalFile)) continue;
    let e: SavedEvaluation;
    try {
      e = JSON.parse(fs.readFileSync(evalFile, 'utf8')) as SavedEvaluation;
    } catch (error) {
      rows.push([modelName(file), `${path.basename(evalFile)}: not valid JSON (${(error as Error).message})`, '', '', '', '', '']);
      continue;
    }
    const kurtosis = e.latent?.length ? (e.latent.reduce((s, c) => s + c.kurtosis, 0) / e.latent.length).toFixed(2) : '—';
    const s = e.separation;
    rows.push([modelName(e.model), modelLossLabel(e.model), `${(100 * e.accuracy).toFixed(2)}%`, e.macroF1.toFixed(4), `${s.mean.toFixed(2)} (${s.ci95[0].toFixed(2)}–${s.ci95[1].toFixed(2)})`, kurtosis, `${e.count} (${e.split})`]);
  }
  if (!rows.length) return undefined;
  return {
    title: 'Models',
    parameters: ['clean metrics on each model\'s whole test split (gccs eval); r_AB: the paper\'s inter/intra-class latent distance ratio (equations 4–6), mean over ordered class pairs, 95% t-interval over the pairs'],
    tables: [{ title: 'Models', columns: ['model', 'training loss', 'test accuracy', 'macro F-score', 'r_AB (95% CI)', 'mean kurtosis', 'samples'], rows }],
  };
}
