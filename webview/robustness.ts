/**
 * The robustness panel's script (bundled for the browser to dist/webview/robustness.js, chart.js
 * included): accuracy-vs-ε charts per attack with the models overlaid, the DeepFool ρ / JSMA / SPSA
 * tables, PNG and CSV export through the host. Colours come from the --vscode-* theme variables;
 * state survives hiding and reloads through getState/setState. Messages: src/host/panels/robustness/messages.ts.
 */
import { CategoryScale, Chart, Legend, LineController, LineElement, LinearScale, PointElement, Title, Tooltip } from 'chart.js';
import type { SummaryChart, SummaryTable } from '../src/core/sweep/summary';
import type { HostToRobustness, RobustnessData, RobustnessState, RobustnessToHost } from '../src/host/panels/robustness/messages';
import { csvButton, exportTools, pngButton, robustnessChartCsv, slug, toCsv } from './export';
import { element, lineChart, onThemeChange, vscodeApi } from './ui';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip, Title);

const vscode = vscodeApi<RobustnessState, RobustnessToHost>();
const app = document.getElementById('app') as HTMLElement;
let current: RobustnessData | undefined;
let charts: Chart[] = [];

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
  charts.push(instance);
  const name = slug(chart.title);
  wrap.append(exportTools(pngButton(vscode, name, chart.title, instance), csvButton(vscode, name, `Save the points of "${chart.title}" as CSV`, () => robustnessChartCsv(chart))), box);
  return wrap;
}

function render(data: RobustnessData): void {
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

function show(data: RobustnessData): void {
  current = data;
  vscode.setState({ sources: data.sources, data });
  render(data);
}

window.addEventListener('message', (event: MessageEvent<HostToRobustness>) => {
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
