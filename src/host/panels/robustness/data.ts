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
import type { RobustnessData } from './messages';
import { modelsSection } from './compareData';

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
  const summary = alone ? { ...received.summary, sections: [...received.summary.sections] } : mergedSummary(files, received);
  const models = modelsSection(files);
  if (models) summary.sections.unshift(models);
  return { title: `Robustness: ${title}`, sources: files, summary };
}

function mergedSummary(files: string[], received: ReceivedSweep | undefined): SweepSummary {
  const resultsOf = (file: string) => (file === received?.file ? received.results : fs.existsSync(file) ? readResultsFile(file).results : []);
  const results: CellResult[] = files.flatMap(resultsOf);
  const attacks: string[] = [];
  const seen = new Set<string>();
  const cells: SweepCell[] = [];
  const merged: CellResult[] = [];
  for (const result of results) {
    if (seen.has(result.cell.id)) continue;
    seen.add(result.cell.id);
    if (!attacks.includes(result.cell.attack)) attacks.push(result.cell.attack);
    const cell = { ...result.cell, entry: attacks.indexOf(result.cell.attack) };
    cells.push(cell);
    merged.push({ ...result, cell });
  }
  return summarizeSweep(cells, merged);
}
