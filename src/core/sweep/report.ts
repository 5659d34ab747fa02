/**
 * The HTML report of a sweep: one self-contained file (chart.js inlined) with the accuracy-vs-ε
 * chart of each attack, one line per model (the paper's Figure 4), and every table of the summary.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { writeFileAtomic } from '../io/atomic';
import type { NormalizedSweep } from './config';
import type { RobustnessEvaluation } from '../robustness/evaluate';
import { ScatterChart, SummaryChart, SummaryTable, SweepSummary, summarizeEvaluation } from './summary';

const CHART_FILE = 'chart.umd.min.js';

/** chart.js's browser build: the build copies it beside the bundle; from source it is in node_modules. */
function chartJs(): string {
  const beside = path.join(__dirname, CHART_FILE);
  const file = fs.existsSync(beside) ? beside : path.join(path.dirname(createRequire(__filename).resolve('chart.js')), CHART_FILE);
  return fs.readFileSync(file, 'utf8');
}

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

function table({ title, columns, rows }: SummaryTable): string {
  const head = columns.map((column) => `<th>${escape(column)}</th>`).join('');
  const body = rows.map((row) => `<tr>${row.map((cell) => `<td>${escape(cell)}</td>`).join('')}</tr>`).join('\n');
  return `<table><caption>${escape(title)}</caption>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
}

export interface ReportInfo {
  configHash: string;
  sweep: NormalizedSweep;
  resultsFile?: string;
}

export function renderReport(summary: SweepSummary, { configHash, sweep, resultsFile }: ReportInfo): string {
  const data = sweep.data
    ? `${sweep.data.kind}${sweep.data.path ? ` (${sweep.data.path})` : ''}${sweep.data.testRange ? `, test range ${sweep.data.testRange}` : ''}`
    : "each model's own test split";
  const facts = [
    `${summary.finished} of ${summary.total} cells finished`,
    `data: ${data}`,
    `the first ${sweep.count} test samples`,
    `batch size ${sweep.batchSize}`,
    `seed ${sweep.seed}`,
    `backend: ${summary.backends.join(', ') || '—'}`,
    `configHash ${configHash}`,
    ...(resultsFile ? [`results: ${resultsFile}`] : []),
  ];
  return renderPage({ heading: 'Robustness sweep', title: `Robustness sweep ${configHash}`, facts, summary });
}

export interface PageContent {
  heading: string;
  /** The document's title (the browser tab). */
  title: string;
  facts: string[];
  /** Lines shown first, plainly (e.g. an evaluation's verdict). */
  lead?: string[];
  summary: Pick<SweepSummary, 'warnings' | 'clean' | 'sections'>;
}

/** One self-contained page: facts, lead lines, warnings, the clean-accuracy table, then every section with its chart and tables. */
export function renderPage({ heading, title, facts, lead = [], summary }: PageContent): string {
  const charts = summary.sections.flatMap((section, i) => (section.chart ? [{ id: `chart-${i}`, ...section.chart }] : []));
  const scatters = summary.sections.flatMap((section, i) => (section.scatters ?? []).map((scatter, j) => ({ id: `scatter-${i}-${j}`, ...scatter })));
  const sections = summary.sections.map(
    (section, i) => `<section>
<h2>${escape(section.title)}</h2>
<p class="params">${section.parameters.map(escape).join('<br>') || 'no parameters'}</p>
${section.chart ? `<div class="chart"><canvas id="chart-${i}"></canvas></div>` : ''}
${section.scatters ? `<div class="scatters">${section.scatters.map((_, j) => `<div class="scatter"><canvas id="scatter-${i}-${j}"></canvas></div>`).join('')}</div>` : ''}
${section.tables.map(table).join('\n')}
</section>`,
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escape(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
caption { text-align: left; font-weight: bold; padding-bottom: 0.3em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.chart { position: relative; height: 22em; }
.scatters { display: grid; grid-template-columns: repeat(auto-fill, minmax(18em, 1fr)); gap: 0.5em; }
.scatter { position: relative; aspect-ratio: 1; }
.params, .facts { color: #555; font-size: 0.9em; }
.lead { font-weight: bold; margin: 0.3em 0; }
.warning { background: #fff3cd; border-left: 4px solid #e0a800; padding: 0.5em 1em; }
</style>
</head>
<body>
<h1>${escape(heading)}</h1>
<p class="facts">${facts.map(escape).join(' · ')}</p>
${lead.map((line) => `<p class="lead">${escape(line)}</p>`).join('\n')}
${summary.warnings.map((warning) => `<p class="warning">⚠ ${escape(warning)}</p>`).join('\n')}
${table(summary.clean)}
${sections.join('\n')}
<script>${chartJs()}</script>
${chartScript(charts, scatters)}
</body>
</html>
`;
}

/** The script that draws the line charts (accuracy vs ε) and the scatter plots; the data as JSON with "<" escaped so no string can close the element. */
function chartScript(charts: (SummaryChart & { id: string })[], scatters: (ScatterChart & { id: string })[]): string {
  const chartData = JSON.stringify(charts).replace(/</g, '\\u003c');
  const scatterData = JSON.stringify(scatters).replace(/</g, '\\u003c');
  return `<script>
for (const chart of ${chartData}) {
  new Chart(document.getElementById(chart.id), {
    type: 'line',
    data: { datasets: chart.series.map((s) => ({ label: s.label, data: s.points.map((p) => ({ x: p.eps, y: 100 * p.accuracy })) })) },
    options: {
      animation: false,
      maintainAspectRatio: false,
      plugins: { title: { display: true, text: chart.title } },
      scales: {
        x: { type: 'linear', title: { display: true, text: 'ε' } },
        y: { min: 0, max: 100, title: { display: true, text: 'accuracy (%)' } },
      },
    },
  });
}
for (const chart of ${scatterData}) {
  // Equal scales on both axes, so distances in the plot are distances in the plane.
  const limit = Math.max(1e-9, ...chart.series.flatMap((s) => s.points.flatMap(([x, y]) => [Math.abs(x), Math.abs(y)]))) * 1.08;
  const axis = (text) => ({ type: 'linear', min: -limit, max: limit, title: { display: true, text } });
  new Chart(document.getElementById(chart.id), {
    type: 'scatter',
    data: {
      datasets: chart.series.map((s) => ({
        label: s.label,
        data: s.points.map(([x, y]) => ({ x, y })),
        pointStyle: s.marker,
        pointRadius: s.marker === 'triangle' ? 7 : 2,
        backgroundColor: s.colour,
        borderColor: s.marker === 'triangle' ? '#222' : s.colour,
      })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      plugins: { title: { display: true, text: chart.title } },
      scales: { x: axis(chart.axes[0]), y: axis(chart.axes[1]) },
    },
  });
}
</script>`;
}

/** Writes the report atomically: a reader never sees half of it. */
export function writeReport(file: string, summary: SweepSummary, info: ReportInfo): void {
  writeFileAtomic(file, renderReport(summary, info));
}

/** The HTML report of a `gccs evaluate` run, written atomically: verdict first, then the curves, the tables and every diagnostic. */
export function writeEvaluationReport(
  file: string,
  evaluation: RobustnessEvaluation,
  { model, dataset, resultsFile }: { model: string; dataset: string; resultsFile?: string },
): void {
  const facts = [
    `model: ${model}`,
    `data: ${dataset}`,
    `the first ${evaluation.count} test samples`,
    `preset ${evaluation.preset}`,
    `${Math.round(evaluation.seconds)} s`,
    ...(resultsFile ? [`results: ${resultsFile}`] : []),
  ];
  writeFileAtomic(
    file,
    renderPage({
      heading: 'Robustness evaluation',
      title: `Robustness evaluation of ${model}`,
      facts,
      lead: evaluation.verdict,
      summary: summarizeEvaluation(evaluation, model),
    }),
  );
}
