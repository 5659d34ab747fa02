/**
 * The robustness panel's script (bundled for the browser to dist/webview/robustness.js, chart.js
 * included): accuracy-vs-ε charts per attack with the models overlaid, the DeepFool ρ / JSMA / SPSA
 * tables, PNG and CSV export through the host. Colours come from the --vscode-* theme variables;
 * state survives hiding and reloads through getState/setState. Messages: src/protocol.ts.
 */
import { CategoryScale, Chart, Legend, LineController, LineElement, LinearScale, PointElement, Title, Tooltip } from 'chart.js';
import type { SummaryChart, SummaryTable } from '../src/core/sweep/summary';
import type { HostToWebview, PanelData, PanelState, WebviewToHost } from '../src/protocol';
import { button, element, lineChart, onThemeChange, vscodeApi } from './ui';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip, Title);

const vscode = vscodeApi<PanelState, WebviewToHost>();
const app = document.getElementById('app') as HTMLElement;
let current: PanelData | undefined;
let charts: Chart[] = [];

/** A file name from a title: "FGSM, ε = 0.1" → "fgsm-e-0.1". */
const slug = (text: string) => text.toLowerCase().replace(/ε/g, 'e').replace(/[^a-z0-9.]+/g, '-').replace(/^-|-$/g, '') || 'gccs';

const csvCell = (text: string) => (/[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
const toCsv = (rows: string[][]) => rows.map((row) => row.map(csvCell).join(',')).join('\n') + '\n';

function tableView(table: SummaryTable): HTMLElement {
  const wrap = element('div', undefined, 'table');
  const node = element('table');
  node.append(element('caption', table.title));
  const head = element('tr');
  table.columns.forEach((column) => head.append(element('th', column)));
  node.append(element('thead'));
  node.tHead?.append(head);
  const body = element('tbody');
  for (const row of table.rows) {
    const tr = element('tr');
    row.forEach((cell) => tr.append(element('td', cell)));
    body.append(tr);
  }
  node.append(body);
  const tools = element('div', undefined, 'tools');
  tools.append(button('CSV', `Save "${table.title}" as CSV`, () => vscode.postMessage({ type: 'saveCsv', name: slug(table.title), csv: toCsv([table.columns, ...table.rows]) })));
  wrap.append(tools, node);
  return wrap;
}

/** A chart's points as CSV: one row per ε, one column per series. */
function chartCsv(chart: SummaryChart): string {
  const eps = [...new Set(chart.series.flatMap((s) => s.points.map((p) => p.eps)))].sort((a, b) => a - b);
  const rows = eps.map((e) => [String(e), ...chart.series.map((s) => String(s.points.find((p) => p.eps === e)?.accuracy ?? ''))]);
  return toCsv([['eps', ...chart.series.map((s) => s.label)], ...rows]);
}

function chartView(chart: SummaryChart): HTMLElement {
  const wrap = element('div', undefined, 'chart');
  const canvas = element('canvas');
  const box = element('div', undefined, 'canvas');
  box.append(canvas);
  const series = chart.series.map((line) => ({ label: line.label, points: line.points.map((p) => ({ x: p.eps, y: 100 * p.accuracy })) }));
  const instance = lineChart(canvas, chart.title, series, { title: 'ε' }, { title: 'accuracy (%)', min: 0, max: 100 });
  charts.push(instance);
  const tools = element('div', undefined, 'tools');
  tools.append(
    button('PNG', `Save "${chart.title}" as PNG`, () => vscode.postMessage({ type: 'savePng', name: slug(chart.title), dataUrl: instance.toBase64Image('image/png') })),
    button('CSV', `Save the points of "${chart.title}" as CSV`, () => vscode.postMessage({ type: 'saveCsv', name: slug(chart.title), csv: chartCsv(chart) })),
  );
  wrap.append(tools, box);
  return wrap;
}

function render(data: PanelData): void {
  charts.forEach((chart) => chart.destroy());
  charts = [];
  app.replaceChildren();
  const { summary } = data;
  app.append(element('h1', data.title));
  app.append(element('p', `${summary.finished} of ${summary.total} cells · backend ${summary.backends.join(', ') || '—'} · ${data.sources.length} results file${data.sources.length === 1 ? '' : 's'}`, 'facts'));
  if (summary.warnings.length) {
    const list = element('ul', undefined, 'warnings');
    summary.warnings.forEach((warning) => list.append(element('li', warning)));
    app.append(list);
  }
  app.append(tableView(summary.clean));
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

function show(data: PanelData): void {
  current = data;
  vscode.setState({ sources: data.sources, data });
  render(data);
}

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  if (event.data?.type === 'show') show(event.data.data);
  if (event.data?.type === 'error') {
    current = undefined;
    app.replaceChildren(element('p', event.data.message, 'error'));
  }
});

onThemeChange(() => current && render(current));

const saved = vscode.getState();
if (saved?.data) show(saved.data);
vscode.postMessage({ type: 'ready' });
