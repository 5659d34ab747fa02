/**
 * The robustness panel's data from sweep results files (JSON Lines): every file's cells merged so
 * that each attack gets one chart with all models overlaid. No vscode and no TensorFlow.js.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readResultsFile } from '../../../core/sweep/results';
import { summarizeSweep } from '../../../core/sweep/summary';
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

/**
 * One summary of several files' results. Each file numbers its attack entries from 0; here an
 * entry is an attack name (in order of first appearance), so FGSM of every model shares a chart.
 */
export function robustnessData(files: string[]): RobustnessData {
  const results: CellResult[] = files.flatMap((file) => (fs.existsSync(file) ? readResultsFile(file).results : []));
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
  const summary = summarizeSweep(cells, merged);
  const models = modelsSection(files);
  if (models) summary.sections.unshift(models);
  const title = files.length === 1 ? path.basename(files[0], '.jsonl') : `${files.length} results files`;
  return { title: `Robustness: ${title}`, sources: files, summary };
}
