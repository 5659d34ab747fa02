/**
 * The robustness panel's data: the sweep the host has just run (its results and summary as the
 * host received them) and the other results files (JSON Lines) of the results folder, merged so
 * that each attack gets one chart with all models overlaid. No vscode and no TensorFlow.js.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readResultsFile } from '../../../core/sweep/results';
import { SweepSummary, summarizeSweep } from '../../../core/sweep/summary';
import type { CellResult, SweepCell } from '../../../core/sweep/types';
import { displayName } from '../../../core/catalog';
import type { ExampleCell, RobustnessData } from './messages';
import { modelName, modelsSection } from './compareData';
import { gridWords } from './examples';

/** The results files (*.jsonl) of a folder, newest first. */
export function resultsFiles(folder: string): string[] {
  if (!fs.existsSync(folder)) return [];
  return fs
    .readdirSync(folder)
    .filter((name) => name.endsWith('.jsonl'))
    .map((name) => path.join(folder, name))
    .map((file) => ({ file, mtime: fs.statSync(file).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime)
    .map(({ file }) => file);
}

/** A sweep the host has just run: its results file, and the results and summary it received (not read back from the file). */
export interface ReceivedSweep {
  file: string;
  results: CellResult[];
  summary: SweepSummary;
}

/**
 * What the panel shows of these results files: the received sweep's own summary when it is the only
 * one, else one summary of every file's results (the received sweep's from memory, the others read).
 * Each file numbers its attack entries from 0; in a merged summary an entry is an attack name (in
 * order of first appearance), so FGSM of every model shares a chart.
 */
export function robustnessData(files: string[], received?: ReceivedSweep): RobustnessData {
  const title = files.length === 1 ? path.basename(files[0], '.jsonl') : `${files.length} results files`;
  const alone = files.length === 1 && files[0] === received?.file;
  const results = alone ? received.results : uniqueResults(files, received);
  const summary = alone ? { ...received.summary, sections: [...received.summary.sections] } : mergedSummary(results);
  const models = modelsSection(files);
  if (models) summary.sections.unshift(models);
  return { title: `Robustness: ${title}`, sources: files, summary, cells: exampleCells(results) };
}

/** Every file's results (the received sweep's from memory, the others read), each cell once. */
function uniqueResults(files: string[], received: ReceivedSweep | undefined): CellResult[] {
  const resultsOf = (file: string) => (file === received?.file ? received.results : fs.existsSync(file) ? readResultsFile(file).results : []);
  const seen = new Set<string>();
  return files.flatMap(resultsOf).filter((result) => !seen.has(result.cell.id) && seen.add(result.cell.id));
}

function mergedSummary(results: CellResult[]): SweepSummary {
  const attacks: string[] = [];
  const cells: SweepCell[] = [];
  const merged: CellResult[] = [];
  for (const result of results) {
    if (!attacks.includes(result.cell.attack)) attacks.push(result.cell.attack);
    const cell = { ...result.cell, entry: attacks.indexOf(result.cell.attack) };
    cells.push(cell);
    merged.push({ ...result, cell });
  }
  return summarizeSweep(cells, merged);
}

/** The finished cells for the gallery's picker, by model, attack and grid point: "tiny · PGD · ε 0.1". */
function exampleCells(results: CellResult[]): ExampleCell[] {
  const grid = (cell: SweepCell) => [cell.eps, cell.iterations, cell.samples].map((value) => value ?? -1);
  const order = (a: SweepCell, b: SweepCell) =>
    a.model.localeCompare(b.model) || a.attack.localeCompare(b.attack) || grid(a).reduce((d, value, i) => d || value - grid(b)[i], 0);
  return results
    .map((result) => result.cell)
    .sort(order)
    .map((cell) => ({
      id: cell.id,
      label: [modelName(cell.model), displayName(cell.attack), ...gridWords(cell)].join(' · '),
      count: cell.count,
      eps: cell.eps,
    }));
}

/** The cell `id` among these results files' (the received sweep's from memory): what the gallery attacks. */
export function findCell(files: string[], received: ReceivedSweep | undefined, id: string): SweepCell | undefined {
  return uniqueResults(files, received).find((result) => result.cell.id === id)?.cell;
}
