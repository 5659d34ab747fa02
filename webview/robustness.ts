/**
 * The robustness panel's script (bundled for the browser to dist/webview/robustness.js, chart.js
 * included): accuracy-vs-ε charts per attack with the models overlaid, the DeepFool ρ / JSMA / SPSA
 * tables, PNG and CSV export through the host, and the adversarial-example gallery of a cell
 * (picked in its list or by a click on a chart point; computed by the host's worker, gallery.ts
 * draws it). Colours come from the --vscode-* theme variables; state survives hiding and reloads
 * through getState/setState. Messages: src/host/panels/robustness/messages.ts.
 */
import { CategoryScale, Chart, Legend, LineController, LineElement, LinearScale, PointElement, Title, Tooltip } from 'chart.js';
import type { SummaryChart, SummaryTable } from '../src/core/sweep/summary';
import { ExamplesData, GALLERY_COUNTS, HostToRobustness, RobustnessData, RobustnessState, RobustnessToHost } from '../src/host/panels/robustness/messages';
import { csvButton, exportTools, pngButton, robustnessChartCsv, slug, toCsv } from './export';
import { galleryView } from './gallery';
import { button, element, lineChart, onThemeChange, vscodeApi } from './ui';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip, Title);

const vscode = vscodeApi<RobustnessState, RobustnessToHost>();
const app = document.getElementById('app') as HTMLElement;
let current: RobustnessData | undefined;
let charts: Chart[] = [];
/** The gallery's request and what it shows (kept across re-renders: new results, theme changes). */
const gallery: { cell?: string; count: number; data?: ExamplesData; status?: { message: string; busy: boolean; isError: boolean } } = {
  count: GALLERY_COUNTS[0],
};

function tableView(table: SummaryTable): HTMLElement {
  const wrap = element('div', undefined, 'table');
  const node = element('table');
  node.append(element('caption', table.title));
  const head = element('tr');
  table.columns.forEach((column) => head.append(element('th', column)));
  node.append(element('thead'));
  node.tHead?.append(head);
  const body = element('tbody');
  // A path has no spaces to wrap at: it wraps anywhere (a narrow split view would clip it) and shows whole in its tooltip.
  const isPath = table.columns.map((column) => column === 'path');
  for (const row of table.rows) {
    const tr = element('tr');
    row.forEach((cell, i) => {
      const td = element('td', cell, isPath[i] ? 'path' : undefined);
      if (isPath[i]) td.title = cell;
      tr.append(td);
    });
    body.append(tr);
  }
  node.append(body);
  wrap.append(exportTools(csvButton(vscode, slug(table.title), `Save "${table.title}" as CSV`, () => toCsv([table.columns, ...table.rows]))), node);
  return wrap;
}

function chartView(chart: SummaryChart): HTMLElement {
  const wrap = element('div', undefined, 'chart');
  const canvas = element('canvas');
  const box = element('div', undefined, 'canvas');
  box.append(canvas);
  const series = chart.series.map((line) => ({ label: line.label, points: line.points.map((p) => ({ x: p.eps, y: 100 * p.accuracy })) }));
  const instance = lineChart(canvas, chart.title, series, { title: 'ε' }, { title: 'accuracy (%)', min: 0, max: 100 });
  // A click on a point of a cell shows that cell's adversarial examples.
  const cellAt = (elements: { datasetIndex: number; index: number }[]) =>
    elements.map((e) => chart.series[e.datasetIndex]?.points[e.index]?.cell).find(Boolean);
  instance.options.onClick = (_event, elements) => {
    const cell = cellAt(elements);
    if (cell) requestExamples(cell);
  };
  // The nearest point answers, so a click need not hit a 3-pixel dot.
  instance.options.interaction = { mode: 'nearest', intersect: false, axis: 'xy' };
  instance.options.onHover = (_event, elements) => canvas.classList.toggle('pointable', cellAt(elements) !== undefined);
  instance.update('none');
  charts.push(instance);
  const name = slug(chart.title);
  wrap.append(
    exportTools(
      pngButton(vscode, name, chart.title, instance),
      csvButton(vscode, name, `Save the points of "${chart.title}" as CSV`, () => robustnessChartCsv(chart)),
    ),
    box,
  );
  return wrap;
}

function render(data: RobustnessData): void {
  charts.forEach((chart) => chart.destroy());
  charts = [];
  app.replaceChildren();
  const { summary } = data;
  app.append(element('h1', data.title));
  app.append(
    element(
      'p',
      `${summary.finished} of ${summary.total} cells · backend ${summary.backends.join(', ') || '—'} · ${data.sources.length} results file${data.sources.length === 1 ? '' : 's'}`,
      'facts',
    ),
  );
  if (summary.warnings.length) {
    const list = element('ul', undefined, 'warnings');
    summary.warnings.forEach((warning) => list.append(element('li', warning)));
    app.append(list);
  }
  app.append(tableView(summary.clean));
  // A state saved before the gallery existed has no cells.
  if (data.cells?.length) app.append(gallerySection(data));
  for (const section of summary.sections) {
    const node = element('section');
    node.append(element('h2', section.title));
    if (section.parameters.length) node.append(element('p', section.parameters.join(' · '), 'params'));
    if (section.chart) node.append(chartView(section.chart));
    section.tables.forEach((table) => node.append(tableView(table)));
    app.append(node);
  }
  if (summary.total === 0) app.append(element('p', 'No finished cells yet.', 'empty'));
}

function requestExamples(cell: string): void {
  gallery.cell = cell;
  vscode.postMessage({ type: 'examples', cell, count: gallery.count });
  if (current) render(current);
  document.getElementById('examples')?.scrollIntoView({ block: 'start' });
}

/** The gallery's controls (a cell, a sample count, Show / Cancel), its status line and the gallery shown. */
function gallerySection(data: RobustnessData): HTMLElement {
  const node = element('section');
  node.id = 'examples';
  node.append(element('h2', 'Adversarial examples'));
  const controls = element('div', undefined, 'controls');
  const cells = element('select');
  for (const cell of data.cells) {
    const option = element('option', `${cell.label} (${cell.count} samples)`);
    option.value = cell.id;
    cells.append(option);
  }
  // The cell shown or asked for, else the first that attacks (ε = 0 is the clean pass).
  const chosen = data.cells.find((c) => c.id === gallery.cell) ?? data.cells.find((c) => c.eps !== 0);
  if (chosen) cells.value = chosen.id;
  const counts = element('select');
  for (const count of GALLERY_COUNTS) {
    const option = element('option', String(count));
    option.value = String(count);
    counts.append(option);
  }
  counts.value = String(gallery.count);
  counts.addEventListener('change', () => (gallery.count = Number(counts.value)));
  const pick = (text: string, input: HTMLElement) => {
    const label = element('label', text);
    label.append(input);
    return label;
  };
  controls.append(pick('cell ', cells), pick('first ', counts));
  controls.append(button('Show examples', 'Attack the first samples of this cell again, as the sweep did, and show them', () => requestExamples(cells.value)));
  if (gallery.status?.busy) controls.append(button('Cancel', 'Stop computing the examples', () => vscode.postMessage({ type: 'cancelExamples' })));
  node.append(controls);
  node.append(
    element(
      'p',
      'Or click a point of an accuracy-vs-ε chart. The samples are attacked again by a worker, in the same batches and with the same seeds as in the sweep.',
      'params',
    ),
  );
  if (gallery.status) node.append(element('p', gallery.status.message, gallery.status.isError ? 'error' : gallery.status.busy ? 'busy' : 'facts'));
  if (gallery.data && !gallery.status?.busy) node.append(galleryView(gallery.data));
  return node;
}

function show(data: RobustnessData): void {
  current = data;
  vscode.setState({ sources: data.sources, data });
  render(data);
}

window.addEventListener('message', (event: MessageEvent<HostToRobustness>) => {
  if (event.data?.type === 'show') show(event.data.data);
  if (event.data?.type === 'examples') {
    gallery.data = event.data.data;
    gallery.cell = event.data.data.cellId;
    gallery.status = undefined;
    if (current) render(current);
  }
  if (event.data?.type === 'examplesStatus') {
    gallery.status = { message: event.data.message, busy: event.data.busy, isError: event.data.isError };
    if (current) render(current);
  }
  if (event.data?.type === 'error') {
    current = undefined;
    app.replaceChildren(element('p', event.data.message, 'error'));
  }
});

onThemeChange(() => current && render(current));

const saved = vscode.getState();
if (saved?.data) show(saved.data);
vscode.postMessage({ type: 'ready' });
