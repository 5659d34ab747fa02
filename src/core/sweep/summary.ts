/**
 * What a sweep's results say, as tables, chart series and warnings: one model for the CLI's text
 * output and the HTML report.
 */
import * as path from 'node:path';
import type { AttackName } from '../attacks';
import { CellResult, GRID_KEYS, SweepCell } from './types';

export interface SummaryTable {
  title: string;
  columns: string[];
  rows: string[][];
}

export interface SummaryChart {
  title: string;
  /** One line per model (SPSA: per model and IT × BS); accuracy in [0, 1]. */
  series: { label: string; points: { eps: number; accuracy: number }[] }[];
}

/** One attack entry of the configuration. */
export interface SummarySection {
  title: string;
  /** "name: value(s)" of every parameter that is not on a grid. */
  parameters: string[];
  chart?: SummaryChart;
  tables: SummaryTable[];
}

export interface SweepSummary {
  finished: number;
  total: number;
  backends: string[];
  clean: SummaryTable;
  sections: SummarySection[];
  /** Signs of gradient masking: the attacks' numbers may overstate robustness. */
  warnings: string[];
}

const DISPLAY: Record<AttackName, string> = { fgsm: 'FGSM', pgd: 'PGD', tgsm: 'TGSM', jsma: 'JSMA', deepfool: 'DeepFool', spsa: 'SPSA' };
const GRADIENT_ATTACKS: AttackName[] = ['fgsm', 'pgd', 'tgsm'];
/** Accuracy differences below this (1 point) are noise. */
const TOLERANCE = 0.01;
/** SPSA beating every gradient attack by this much (10 points) is suspicious. */
const SPSA_MARGIN = 0.1;

const percent = (value: number | null | undefined) => (value === null || value === undefined ? '—' : `${(100 * value).toFixed(2)}%`);
/** A parameter value as people write it: 2.5ε/K = 0.041666… shows as 0.04167. */
const show = (value: unknown) => (typeof value === 'number' ? String(Number(value.toPrecision(4))) : String(value));
const unique = <T>(values: T[]) => [...new Set(values)];
const sorted = (values: number[]) => unique(values).sort((a, b) => a - b);

/** Folder names when they tell the models apart, else paths relative to the working folder. */
function modelLabels(models: string[]): string[] {
  const names = models.map((model) => path.basename(model));
  if (new Set(names).size === names.length) return names;
  return models.map((model) => path.relative(process.cwd(), model) || model);
}

export function summarizeSweep(cells: SweepCell[], results: CellResult[]): SweepSummary {
  const byId = new Map(results.map((result) => [result.cell.id, result]));
  const resultOf = (cell: SweepCell) => byId.get(cell.id);
  const paths = unique(cells.map((cell) => cell.model));
  const labels = modelLabels(paths);
  const label = (model: string) => labels[paths.indexOf(model)];
  const cellsOf = (model: string) => cells.filter((cell) => cell.model === model);
  const firstResult = (model: string) => cellsOf(model).map(resultOf).find(Boolean);

  const clean: SummaryTable = {
    title: 'Clean accuracy',
    columns: ['model', 'clean accuracy', 'samples', 'path'],
    rows: paths.map((model) => {
      const result = firstResult(model);
      return [label(model), percent(result?.cleanAccuracy), result ? String(result.count) : '—', model];
    }),
  };
  const entries = unique(cells.map((cell) => cell.entry)).sort((a, b) => a - b);
  const sections = entries.map((entry) => section(cells.filter((cell) => cell.entry === entry), paths, label, resultOf));
  return {
    finished: cells.filter(resultOf).length,
    total: cells.length,
    backends: unique(results.map((result) => result.backend)),
    clean,
    sections,
    warnings: paths.flatMap((model) => maskingWarnings(cellsOf(model), label(model), resultOf)),
  };
}

function section(cells: SweepCell[], models: string[], label: (model: string) => string, resultOf: (cell: SweepCell) => CellResult | undefined): SummarySection {
  const { attack, entry } = cells[0];
  const parameters = Object.keys(cells[0].params)
    .filter((key) => !(GRID_KEYS as readonly string[]).includes(key))
    .map((key) => `${key}: ${unique(cells.map((cell) => show(cell.params[key as keyof typeof cell.params]))).join(', ')}`);
  const title = `${DISPLAY[attack]} (attacks[${entry}])`;
  const accuracy = (cell: SweepCell | undefined) => percent(cell && resultOf(cell)?.accuracy);

  if (cells[0].eps === null) {
    // No ε: one cell per model, with what the attack measures besides accuracy.
    const extras: [string, (result: CellResult) => string][] = [];
    if (cells.some((cell) => resultOf(cell)?.rho !== undefined)) extras.push(['ρ', (r) => (typeof r.rho === 'number' ? r.rho.toFixed(4) : '—')]);
    if (cells.some((cell) => resultOf(cell)?.meanChangedPixels !== undefined)) extras.push(['changed pixels', (r) => percent(r.meanChangedPixels)]);
    const rows = cells.map((cell) => {
      const result = resultOf(cell);
      return [label(cell.model), percent(result?.cleanAccuracy), accuracy(cell), ...extras.map(([, show]) => (result ? show(result) : '—')), result ? String(result.count) : '—'];
    });
    return { title, parameters, tables: [{ title, columns: ['model', 'clean accuracy', 'accuracy', ...extras.map(([name]) => name), 'samples'], rows }] };
  }

  const epsValues = sorted(cells.map((cell) => cell.eps as number));
  const its = sorted(cells.flatMap((cell) => (cell.iterations === null ? [] : [cell.iterations])));
  const bss = sorted(cells.flatMap((cell) => (cell.samples === null ? [] : [cell.samples])));
  // SPSA's IT × BS points; a single point for the other attacks.
  const gridPoints = its.length ? its.flatMap((it) => bss.map((bs) => ({ it, bs }))) : [{ it: null, bs: null }];
  const find = (model: string, eps: number, it: number | null, bs: number | null) =>
    cells.find((cell) => cell.model === model && cell.eps === eps && cell.iterations === it && cell.samples === bs);
  const series = models.flatMap((model) =>
    gridPoints.map(({ it, bs }) => ({
      label: gridPoints.length > 1 ? `${label(model)} (IT ${it}, BS ${bs})` : label(model),
      points: epsValues.flatMap((eps) => {
        const cell = find(model, eps, it, bs);
        const result = cell && resultOf(cell);
        return result ? [{ eps, accuracy: result.accuracy }] : [];
      }),
    })),
  );
  const tables: SummaryTable[] = its.length
    ? // The paper's Table 7 layout: per ε, rows IT, columns BS.
      epsValues.map((eps) => ({
        title: `${title}, ε = ${eps}`,
        columns: ['model', 'IT \\ BS', ...bss.map(String)],
        rows: models.flatMap((model) => its.map((it) => [label(model), String(it), ...bss.map((bs) => accuracy(find(model, eps, it, bs)))])),
      }))
    : [{ title, columns: ['ε', ...models.map(label)], rows: epsValues.map((eps) => [String(eps), ...models.map((model) => accuracy(find(model, eps, null, null)))]) }];
  return { title, parameters, chart: { title, series }, tables };
}

/**
 * Signs that an attack's gradients mislead it (Athalye et al. 2018), so the accuracies overstate
 * robustness: a gradient attack's accuracy rising with ε, PGD weaker than FGSM at the same ε, or
 * gradient-free SPSA far stronger than every gradient attack.
 */
function maskingWarnings(cells: SweepCell[], model: string, resultOf: (cell: SweepCell) => CellResult | undefined): string[] {
  const done = cells.flatMap((cell) => {
    const result = resultOf(cell);
    return result && cell.eps !== null ? [{ cell, eps: cell.eps, accuracy: result.accuracy }] : [];
  });
  const warnings: string[] = [];
  const prefix = 'possible gradient masking:';
  for (const entry of unique(done.filter((d) => GRADIENT_ATTACKS.includes(d.cell.attack)).map((d) => d.cell.entry))) {
    const line = done.filter((d) => d.cell.entry === entry).sort((a, b) => a.eps - b.eps);
    const rise = line.findIndex((d, i) => i > 0 && d.accuracy > line[i - 1].accuracy + TOLERANCE);
    if (rise > 0) {
      const [a, b] = [line[rise - 1], line[rise]];
      warnings.push(`${prefix} ${DISPLAY[b.cell.attack]} (attacks[${entry}]) accuracy of ${model} rises with ε (${percent(a.accuracy)} at ε = ${a.eps} → ${percent(b.accuracy)} at ε = ${b.eps})`);
    }
  }
  /** The lowest accuracy at each ε > 0 reached by any of `attacks`. */
  const best = (attacks: AttackName[]) => {
    const lowest = new Map<number, number>();
    for (const d of done) if (d.eps > 0 && attacks.includes(d.cell.attack)) lowest.set(d.eps, Math.min(lowest.get(d.eps) ?? Infinity, d.accuracy));
    return lowest;
  };
  /** Warns once, at the smallest ε where `a` and `b` are in the relation, counting the others. */
  const compare = (a: Map<number, number>, b: Map<number, number>, holds: (x: number, y: number) => boolean, say: (x: string, y: string, eps: number) => string) => {
    const hits = sorted([...a.keys()].filter((eps) => b.has(eps) && holds(a.get(eps)!, b.get(eps)!)));
    if (hits.length) warnings.push(`${prefix} ${say(percent(a.get(hits[0])), percent(b.get(hits[0])), hits[0])}${hits.length > 1 ? ` (and at ${hits.length - 1} more ε)` : ''}`);
  };
  compare(best(['pgd']), best(['fgsm']), (pgd, fgsm) => pgd > fgsm + TOLERANCE, (pgd, fgsm, eps) => `PGD (${pgd}) is weaker than FGSM (${fgsm}) on ${model} at ε = ${eps}`);
  compare(best(['spsa']), best(GRADIENT_ATTACKS), (spsa, gradient) => spsa < gradient - SPSA_MARGIN, (spsa, gradient, eps) => `gradient-free SPSA brings ${model} to ${spsa} at ε = ${eps}, the best gradient attack only to ${gradient}`);
  return warnings;
}

/** The summary as text lines: aligned tables, then the warnings. */
export function formatSummary(summary: SweepSummary): string[] {
  const lines: string[] = [];
  const table = ({ title, columns, rows }: SummaryTable, heading?: string) => {
    const widths = columns.map((column, i) => Math.max(column.length, ...rows.map((row) => row[i].length)));
    const row = (cells: string[]) => '  ' + cells.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd();
    lines.push(...(title === heading ? [] : [title]), row(columns), ...rows.map(row));
  };
  // The paths are in the report; the text table keeps to the labels.
  table({ ...summary.clean, columns: summary.clean.columns.slice(0, -1), rows: summary.clean.rows.map((row) => row.slice(0, -1)) });
  for (const s of summary.sections) {
    lines.push('', `${s.title} — ${s.parameters.join('; ') || 'no parameters'}`);
    s.tables.forEach((t, i) => {
      if (i > 0) lines.push('');
      table(t, s.title);
    });
  }
  if (summary.finished < summary.total) lines.push('', `${summary.finished} of ${summary.total} cells finished`);
  if (summary.warnings.length) lines.push('', ...summary.warnings.map((warning) => `warning: ${warning}`));
  return lines;
}
