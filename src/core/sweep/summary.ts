/**
 * What a sweep's results say, as tables, chart series and warnings: one model for the CLI's text
 * output and the HTML report.
 */
import * as path from 'node:path';
import { decodeBits } from '../robustness/bits';
import { ATTACK_LOSS_LABELS, displayName, lossLabel } from '../catalog';
import { readModelMeta, resolveModelJson } from '../io/modelLocation';
import { AttackSeries, resultChecks } from '../robustness/checks';
import type { RobustnessEvaluation } from '../robustness/evaluate';
import { worstCase } from '../robustness/worstCase';
import { CellResult, GRID_KEYS, SweepCell } from './types';

export interface SummaryTable {
  title: string;
  columns: string[];
  rows: string[][];
}

export interface SummaryChart {
  title: string;
  /** One line per model (SPSA: per model and IT × BS); accuracy in [0, 1]; `cell`: the id of the sweep cell a point is (the robustness panel's examples). */
  series: { label: string; points: { eps: number; accuracy: number; cell?: string }[] }[];
}

/** A scatter plot with equal scales on both axes (the reproduction's Figure 3: latent points in a plane). */
export interface ScatterChart {
  title: string;
  axes: [string, string];
  series: { label: string; colour: string; marker: 'circle' | 'triangle'; points: [number, number][] }[];
}

/** One attack entry of the configuration. */
export interface SummarySection {
  title: string;
  /** "name: value(s)" of every parameter that is not on a grid. */
  parameters: string[];
  chart?: SummaryChart;
  /** Small plots side by side, after the chart. */
  scatters?: ScatterChart[];
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

/** A model's own training loss from its gccs.json; "—" when the model is gone, is not ours (ONNX) or its gccs.json is unreadable. */
export function modelLossLabel(model: string): string {
  try {
    const meta = readModelMeta(resolveModelJson(model));
    return meta ? lossLabel(meta.loss, meta.training.defence) : '—';
  } catch {
    return '—';
  }
}

/** `lossOf` names each model's training loss beside it (the attacks' own loss is in their parameters). */
export function summarizeSweep(cells: SweepCell[], results: CellResult[], lossOf: (model: string) => string = modelLossLabel): SweepSummary {
  const byId = new Map(results.map((result) => [result.cell.id, result]));
  const resultOf = (cell: SweepCell) => byId.get(cell.id);
  const paths = unique(cells.map((cell) => cell.model));
  const labels = modelLabels(paths);
  const label = (model: string) => labels[paths.indexOf(model)];
  const cellsOf = (model: string) => cells.filter((cell) => cell.model === model);
  const firstResult = (model: string) => cellsOf(model).map(resultOf).find(Boolean);

  const clean: SummaryTable = {
    title: 'Clean accuracy',
    columns: ['model', 'training loss', 'clean accuracy', 'samples', 'path'],
    rows: paths.map((model) => {
      const result = firstResult(model);
      return [label(model), lossOf(model), percent(result?.cleanAccuracy), result ? String(result.count) : '—', model];
    }),
  };
  const entries = unique(cells.map((cell) => cell.entry)).sort((a, b) => a - b);
  const titleOf = entryTitles(cells, entries);
  const sections = entries.map((entry) => section(cells.filter((cell) => cell.entry === entry), titleOf(entry), paths, label, resultOf));
  const outcomes = paths.map((model) => modelOutcomes(cellsOf(model), titleOf, resultOf));
  const worst = worstCaseSection(paths, label, outcomes);
  return {
    finished: cells.filter(resultOf).length,
    total: cells.length,
    backends: unique(results.map((result) => result.backend)),
    clean,
    sections: worst ? [worst, ...sections] : sections,
    warnings: paths.flatMap((model, m) => resultChecks(outcomes[m].series, outcomes[m].worst).flatMap((d) => (d.ok ? [] : [`possible gradient masking on ${label(model)}: ${d.message}`]))),
  };
}

function section(
  cells: SweepCell[],
  title: string,
  models: string[],
  label: (model: string) => string,
  resultOf: (cell: SweepCell) => CellResult | undefined,
): SummarySection {
  const parameters = parameterLines(cells);
  const accuracy = (cell: SweepCell | undefined) => percent(cell && resultOf(cell)?.accuracy);

  if (cells[0].eps === null) {
    // No ε: one cell per model, with what the attack measures besides accuracy.
    const extras: [string, (result: CellResult) => string][] = [];
    if (cells.some((cell) => resultOf(cell)?.rho !== undefined)) extras.push(['ρ', (r) => (typeof r.rho === 'number' ? r.rho.toFixed(4) : '—')]);
    if (cells.some((cell) => resultOf(cell)?.meanChangedPixels !== undefined)) extras.push(['changed pixels', (r) => percent(r.meanChangedPixels)]);
    const rows = cells.map((cell) => {
      const result = resultOf(cell);
      const measured = extras.map(([, show]) => (result ? show(result) : '—'));
      return [label(cell.model), percent(result?.cleanAccuracy), accuracy(cell), ...measured, result ? String(result.count) : '—'];
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
        return result ? [{ eps, accuracy: result.accuracy, cell: result.cell.id }] : [];
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
    : [
        {
          title,
          columns: ['ε', ...models.map(label)],
          rows: epsValues.map((eps) => [String(eps), ...models.map((model) => accuracy(find(model, eps, null, null)))]),
        },
      ];
  return { title, parameters, chart: { title, series }, tables };
}

/** Each attack entry's title: the attack's name ("PGD"), numbered ("PGD #2") only where the sweep has it more than once. */
function entryTitles(cells: SweepCell[], entries: number[]): (entry: number) => string {
  const attackOf = (entry: number) => cells.find((cell) => cell.entry === entry)!.attack;
  return (entry) => {
    const same = entries.filter((e) => attackOf(e) === attackOf(entry));
    return `${displayName(attackOf(entry))}${same.length > 1 ? ` #${same.indexOf(entry) + 1}` : ''}`;
  };
}

/** Plain names of the attack parameters a report lists (the rest keep their configuration key). */
const PARAMETER_LABELS: Record<string, string> = {
  loss: 'attack loss',
  muT: 'μ_T of the attack loss',
  stepSize: 'step size',
  randomStart: 'random start',
  maxIterations: 'max iterations',
  earlyStop: 'early stop',
  targetCount: 'target classes',
  learningRate: 'learning rate',
  pInit: 'initial square fraction',
};
const PLAIN_VALUES: Record<string, string> = { ...ATTACK_LOSS_LABELS, linf: 'L∞', l2: 'L2' };
const plainKey = (key: string) => PARAMETER_LABELS[key] ?? key;
const plainValue = (value: unknown) => PLAIN_VALUES[String(value)] ?? show(value);
/** μ_T is a parameter of the latent attack loss only: shown with another loss, it would read as the model's. */
const shownParameter = (key: string, params: Record<string, unknown>[]) => key !== 'muT' || params.some((p) => p.loss === 'latent');

/**
 * An attack entry's parameters as plain lines ("attack loss: cross-entropy", "step size: 0–0.05
 * (per ε)"): μ_T only where the attack's loss is the latent one (the only loss that uses it).
 */
function parameterLines(cells: SweepCell[]): string[] {
  const params = cells.map((cell) => cell.params as Record<string, unknown>);
  return Object.keys(params[0])
    .filter((key) => !(GRID_KEYS as readonly string[]).includes(key))
    .filter((key) => shownParameter(key, params))
    .map((key) => {
      const values = unique(params.map((p) => p[key]));
      const numbers = values.filter((v): v is number => typeof v === 'number');
      const text =
        numbers.length > 1 && numbers.length === values.length
          ? `${show(Math.min(...numbers))}–${show(Math.max(...numbers))} (per ε)`
          : values.map(plainValue).join(', ');
      return `${plainKey(key)}: ${text}`;
    });
}

/** One model's ε results: a series per attack entry, and the per-sample worst case where it is known. */
interface ModelOutcomes {
  series: AttackSeries[];
  /** Per ε: the per-sample worst case over every attack at that ε (only where every one of them recorded which samples survived). */
  worst: { eps: number; accuracy: number; attacks: number }[];
}

function modelOutcomes(cells: SweepCell[], titleOf: (entry: number) => string, resultOf: (cell: SweepCell) => CellResult | undefined): ModelOutcomes {
  const done = cells.flatMap((cell) => {
    const result = resultOf(cell);
    if (!result || cell.eps === null) return [];
    const robust = result.robust === undefined ? undefined : decodeBits(result.robust, result.count, `results of cell ${cell.id}`);
    return [{ cell, eps: cell.eps, accuracy: result.accuracy, robust }];
  });
  const series = unique(done.map((d) => d.cell.entry)).map((entry) => {
    const mine = done.filter((d) => d.cell.entry === entry);
    // SPSA's IT × BS grid: at each ε, its strongest point.
    const points = sorted(mine.map((d) => d.eps)).map((eps) => mine.filter((d) => d.eps === eps).reduce((a, b) => (b.accuracy < a.accuracy ? b : a)));
    const shown = points.map(({ eps, accuracy, robust }) => ({ eps, accuracy, ...(robust && { robust }) }));
    return { name: mine[0].cell.attack, label: titleOf(entry), points: shown };
  });
  const worst = sorted(done.map((d) => d.eps)).flatMap((eps) => {
    const atEps = cells.filter((cell) => cell.eps === eps);
    const outcomes = done.filter((d) => d.eps === eps);
    // Exact only when every attack at this ε finished and recorded its samples.
    if (outcomes.length < atEps.length || outcomes.some((d) => !d.robust || d.robust.length !== outcomes[0].robust!.length)) return [];
    const flags = worstCase(outcomes.map((d) => d.robust!));
    return [{ eps, accuracy: flags.reduce((a, b) => a + b, 0) / flags.length, attacks: outcomes.length }];
  });
  return { series, worst };
}

/** The worst case against every attack's line, per model, and a table of it beside the best single attack. */
function worstCaseSection(models: string[], label: (model: string) => string, outcomes: ModelOutcomes[]): SummarySection | undefined {
  if (!outcomes.some((o) => o.worst.length)) return undefined;
  const title = 'Worst case (per sample, over every attack at each ε)';
  const series = models.flatMap((model, m) => [
    { label: `${label(model)}: worst case`, points: outcomes[m].worst.map(({ eps, accuracy }) => ({ eps, accuracy })) },
    ...outcomes[m].series.map((s) => ({ label: `${label(model)}: ${s.label}`, points: s.points.map(({ eps, accuracy }) => ({ eps, accuracy })) })),
  ]);
  const epsValues = sorted(outcomes.flatMap((o) => o.worst.map((w) => w.eps)));
  const bestSingle = (m: number, eps: number) => Math.min(...outcomes[m].series.flatMap((s) => s.points.filter((p) => p.eps === eps).map((p) => p.accuracy)));
  const rows = epsValues.map((eps) => [
    String(eps),
    ...models.flatMap((_, m) => {
      const worst = outcomes[m].worst.find((w) => w.eps === eps);
      return worst ? [percent(worst.accuracy), percent(bestSingle(m, eps))] : ['—', '—'];
    }),
  ]);
  return {
    title,
    parameters: ['a sample counts as robust at ε only if no attack at ε broke it (needs results that record their samples)'],
    chart: { title, series },
    tables: [{ title, columns: ['ε', ...models.flatMap((model) => [`${label(model)}: worst case`, `${label(model)}: best single attack`])], rows }],
  };
}

/**
 * A `gccs evaluate` result in the shape of a sweep summary, for the HTML report (and panels): the
 * worst-case curve with every attack's line, a table per ε, the attacks without ε, and every
 * diagnostic (the failing ones also as warnings).
 */
export function summarizeEvaluation(evaluation: RobustnessEvaluation, model: string): Pick<SweepSummary, 'warnings' | 'clean' | 'sections'> {
  const labels = unique(evaluation.eps.flatMap((e) => e.runs.map((r) => r.label)));
  const accuracyOf = (label: string, eps: number) => evaluation.eps.find((e) => e.eps === eps)?.runs.find((r) => r.label === label)?.accuracy;
  const cascade = evaluation.order === 'cascade';
  const title = `Worst case and each attack (${evaluation.preset} preset)`;
  const series = [
    { label: 'worst case', points: evaluation.eps.map((e) => ({ eps: e.eps, accuracy: e.worstAccuracy })) },
    ...labels.map((label) => ({
      label,
      points: evaluation.eps.flatMap((e) => {
        const accuracy = accuracyOf(label, e.eps);
        return accuracy === undefined ? [] : [{ eps: e.eps, accuracy }];
      }),
    })),
  ];
  const byEps: SummaryTable = {
    title,
    columns: ['ε', 'worst case', ...labels],
    rows: evaluation.eps.map((e) => [String(e.eps), percent(e.worstAccuracy), ...labels.map((label) => percent(accuracyOf(label, e.eps)))]),
  };
  const sections: SummarySection[] = [
    {
      title,
      parameters: [
        'worst case: a sample counts as robust at ε only if no attack at ε broke it',
        "FGSM, PGD-5 and TGSM-5 are the paper's protocol, run on every sample",
        ...(cascade ? ["the preset's attacks run as a cascade: each line is the accuracy after that attack and every earlier one"] : []),
        ...evaluation.eps[0].runs.map((r) => {
          const params = r.params as Record<string, unknown>;
          const shown = Object.entries(params).filter(([key]) => key !== 'eps' && shownParameter(key, [params]));
          return `${r.label}: ${shown.map(([key, value]) => `${plainKey(key)} ${plainValue(value)}`).join(', ')}`;
        }),
      ],
      chart: { title, series },
      tables: [byEps],
    },
  ];
  if (evaluation.unbounded.length) {
    sections.push({
      title: 'Attacks without an ε budget',
      parameters: [],
      tables: [{
        title: 'Attacks without an ε budget',
        columns: ['attack', 'accuracy', 'ρ', 'changed values'],
        rows: evaluation.unbounded.map((r) => [r.label, percent(r.accuracy), r.rho === undefined ? '—' : r.rho.toFixed(4), r.meanChangedPixels === undefined ? '—' : percent(r.meanChangedPixels)]),
      }],
    });
  }
  sections.push({
    title: 'Diagnostics',
    parameters: ['signs that the numbers overstate robustness (gradient masking, weak or unconverged attacks); each says what to do'],
    tables: [{ title: 'Diagnostics', columns: ['', 'diagnostic'], rows: evaluation.diagnostics.map((d) => [d.ok ? 'ok' : '⚠', d.message]) }],
  });
  return {
    warnings: evaluation.diagnostics.filter((d) => !d.ok).map((d) => d.message),
    clean: {
      title: 'Clean accuracy',
      columns: ['model', 'training loss', 'clean accuracy', 'samples', 'path'],
      rows: [[path.basename(model), modelLossLabel(model), percent(evaluation.cleanAccuracy), String(evaluation.count), model]],
    },
    sections,
  };
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
