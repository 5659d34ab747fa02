/**
 * The latent space panel's script (bundled to dist/webview/latent.js, chart.js included): a scatter
 * plot of z projected by src/core/metrics/projection.ts onto the plane of 2–3 classes' simplex
 * vertices (the paper's Figure 3), a regular D-gon layout of all vertices, or the PCA plane; the
 * target vertices marked; after an attack, each point's attacked position joined to its clean one;
 * PNG and CSV export of the chart (export.ts). The host computes z (gccs latent); messages:
 * src/host/panels/latent/messages.ts. State survives reloads.
 */
import { Chart, Legend, LinearScale, PointElement, ScatterController, Title, Tooltip } from 'chart.js';
import type { ChartDataset, Plugin } from 'chart.js';
import { Projection, principalPlane, project, simplexLayout, vertex, vertexPlane, vertexScale } from '../src/core/metrics/projection';
import { LATENT_ATTACKS, LatentAttack, displayName } from '../src/core/catalog';
import { WEBVIEW_LIMITS } from '../src/core/limits';
import { LATENT_DEFAULTS } from '../src/host/panels/latent/messages';
import type { HostToLatent, LatentData, LatentRequest, LatentState, LatentToHost, LatentView } from '../src/host/panels/latent/messages';
import { DrawnSample, csvButton, exportTools, latentCsv, pngButton, slug } from './export';
import { background, button, chartColours, element, onThemeChange, seriesColour, vscodeApi, withAlpha } from './ui';

Chart.register(ScatterController, PointElement, LinearScale, Legend, Tooltip, Title);

const vscode = vscodeApi<LatentState, LatentToHost>();
const app = document.getElementById('app') as HTMLElement;
const saved = vscode.getState();
let state: LatentState = {
  request: saved?.request ?? LATENT_DEFAULTS,
  view: saved?.view ?? { projection: 'vertices', classes: [] },
  modelDir: saved?.modelDir,
  data: saved?.data,
};
let chart: Chart | undefined;
let status: { message: string; busy: boolean; isError: boolean } | undefined;

const save = () => vscode.setState(state);

/** The paper's choice for MNIST (0, 1, 9): the first two classes and the last. */
const defaultClasses = (dims: number) => (dims >= 3 ? [0, 1, dims - 1] : [0, 1]);

/** The classes drawn, and a reason when the view cannot be drawn. */
function shownClasses(data: LatentData, view: LatentView): { classes: number[]; problem?: string } {
  const valid = view.classes.filter((k) => k < data.dims);
  if (view.projection !== 'vertices') return { classes: valid.length ? valid : data.classNames.map((_, k) => k) };
  if (valid.length < 2 || valid.length > 3) return { classes: valid, problem: `The vertex plane needs 2 or 3 classes: ${valid.length} chosen.` };
  return { classes: valid };
}

function projectionOf(data: LatentData, view: LatentView, classes: number[], scale: number): Projection {
  if (view.projection === 'vertices') return vertexPlane(data.dims, classes, scale);
  if (view.projection === 'simplex') return simplexLayout(data.dims);
  return principalPlane(data.samples.filter((s) => classes.includes(s.label)).map((s) => s.z), data.dims);
}

const argmax = (z: number[]) => z.reduce((best, v, i) => (v > z[best] ? i : best), 0);

/** How far the attack moved the shown samples, and what it did to their accuracy. */
function attackFacts(data: LatentData, classes: number[]): string {
  const samples = data.samples.filter((s) => classes.includes(s.label) && s.zAttacked);
  if (!data.attack || samples.length === 0) return '';
  const moved = samples.reduce((sum, s) => sum + Math.sqrt(s.z.reduce((d, v, j) => d + (v - (s.zAttacked as number[])[j]) ** 2, 0)), 0) / samples.length;
  const clean = samples.filter((s) => argmax(s.z) === s.label).length / samples.length;
  const attacked = samples.filter((s) => argmax(s.zAttacked as number[]) === s.label).length / samples.length;
  return `${data.attack.name.toUpperCase()} ε = ${data.attack.eps}: mean ‖z_attacked − z‖ = ${moved.toFixed(2)}; accuracy of the shown samples ${(100 * clean).toFixed(1)}% → ${(100 * attacked).toFixed(1)}%`;
}

/** Thin segments from each clean point to its attacked point, under the points. */
function movementLines(pairs: { from: [number, number]; to: [number, number]; colour: string }[]): Plugin<'scatter'> {
  return {
    id: 'gccsMovement',
    beforeDatasetsDraw: (instance) => {
      const { ctx, scales } = instance;
      ctx.save();
      ctx.lineWidth = 1;
      for (const { from, to, colour } of pairs) {
        ctx.strokeStyle = withAlpha(colour, 0.35);
        ctx.beginPath();
        ctx.moveTo(scales.x.getPixelForValue(from[0]), scales.y.getPixelForValue(from[1]));
        ctx.lineTo(scales.x.getPixelForValue(to[0]), scales.y.getPixelForValue(to[1]));
        ctx.stroke();
      }
      ctx.restore();
    },
  };
}

/** Draws the chart; returns it, its samples as drawn (for the point count and the CSV) and its axis titles. */
function drawChart(box: HTMLElement, data: LatentData, classes: number[]): { instance: Chart; drawn: DrawnSample[]; axes: [string, string] } {
  const scale = vertexScale(data.muT, data.samples);
  const projection = projectionOf(data, state.view, classes, scale);
  const { foreground, grid, font } = chartColours();
  const datasets: ChartDataset<'scatter'>[] = [];
  const pairs: { from: [number, number]; to: [number, number]; colour: string }[] = [];
  const drawn: DrawnSample[] = [];
  let extent = 0;
  const point = (z: number[]) => {
    const [x, y] = project(projection, z);
    extent = Math.max(extent, Math.abs(x), Math.abs(y));
    return { x, y };
  };
  for (const k of classes) {
    const colour = seriesColour(k);
    const samples: DrawnSample[] = data.samples
      .filter((s) => s.label === k)
      .map((s) => ({ label: k, className: data.classNames[k], point: point(s.z), ...(data.attack ? { attacked: point(s.zAttacked as number[]) } : {}) }));
    drawn.push(...samples);
    const points = samples.map((s) => s.point);
    const style = { backgroundColor: withAlpha(colour, 0.7), borderColor: colour, pointRadius: 2.5, pointHoverRadius: 5 };
    datasets.push({ label: data.classNames[k], data: points, ...style });
    if (data.attack) {
      const attacked = samples.map((s) => s.attacked as { x: number; y: number });
      samples.forEach((s, i) => pairs.push({ from: [s.point.x, s.point.y], to: [attacked[i].x, attacked[i].y], colour }));
      datasets.push({ label: `${data.classNames[k]} (${data.attack.name.toUpperCase()})`, data: attacked, pointStyle: 'crossRot', borderColor: colour, backgroundColor: colour, pointRadius: 4, borderWidth: 1.5 });
    }
  }
  const vertexClasses = state.view.projection === 'simplex' ? data.classNames.map((_, k) => k) : classes;
  datasets.push({
    label: state.view.projection === 'vertices' || data.muT !== null ? 'vertices μ_T·e_i' : 'vertices (mean own output)',
    data: vertexClasses.map((k) => point(vertex(data.dims, k, scale))),
    pointStyle: 'triangle',
    pointRadius: 9,
    borderWidth: 2,
    borderColor: foreground,
    backgroundColor: vertexClasses.map((k) => seriesColour(k)),
  });
  // The same scale on both axes, so distances and angles on the screen are those of the plane.
  const limit = Math.ceil(extent * 1.08) || 1;
  const axis = (title: string) => ({
    type: 'linear' as const,
    min: -limit,
    max: limit,
    title: { display: true, text: title, color: foreground },
    ticks: { color: foreground },
    grid: { color: grid },
  });
  const canvas = element('canvas');
  box.append(canvas);
  const instance = new Chart(canvas, {
    type: 'scatter',
    data: { datasets },
    options: {
      animation: false,
      aspectRatio: 1,
      color: foreground,
      font: { family: font },
      scales: { x: axis(projection.axes[0]), y: axis(projection.axes[1]) },
      plugins: {
        legend: { position: 'bottom', labels: { color: foreground, usePointStyle: true } },
        tooltip: { callbacks: { label: (item) => `${item.dataset.label}: (${Number(item.parsed.x).toFixed(2)}, ${Number(item.parsed.y).toFixed(2)})` } },
      },
    },
    plugins: [background as Plugin<'scatter'>, movementLines(pairs)],
  });
  chart = instance;
  return { instance, drawn, axes: projection.axes };
}

function select<T extends string>(label: string, options: [T, string][], value: T, onChange: (value: T) => void): HTMLElement {
  const wrap = element('label', `${label} `);
  const node = element('select');
  for (const [key, text] of options) {
    const option = element('option', text);
    option.value = key;
    option.selected = key === value;
    node.append(option);
  }
  node.addEventListener('change', () => onChange(node.value as T));
  wrap.append(node);
  return wrap;
}

function numberInput(label: string, value: number, attributes: { min: string; max?: string; step: string }, onChange: (value: number) => void): HTMLElement {
  const wrap = element('label', `${label} `);
  const node = element('input');
  node.type = 'number';
  Object.assign(node, attributes);
  node.value = String(value);
  node.addEventListener('change', () => Number.isFinite(node.valueAsNumber) && onChange(node.valueAsNumber));
  wrap.append(node);
  return wrap;
}

/** The attacks the panel offers, from the catalog, by their display names. */
const ATTACK_OPTIONS: [LatentRequest['attack'], string][] = [
  ['none', 'none'],
  ...LATENT_ATTACKS.map((name): [LatentAttack, string] => [name, displayName(name)]),
];

function requestControls(): HTMLElement {
  const row = element('div', undefined, 'controls');
  const draft: LatentRequest = { ...state.request };
  row.append(
    numberInput('samples', draft.count, { min: '10', max: String(WEBVIEW_LIMITS.latentSamples), step: '10' }, (v) => (draft.count = Math.min(WEBVIEW_LIMITS.latentSamples, Math.max(10, Math.round(v))))),
    select<LatentRequest['attack']>('attack', ATTACK_OPTIONS, draft.attack, (v) => (draft.attack = v)),
    numberInput('ε', draft.eps, { min: '0', max: '1', step: '0.01' }, (v) => (draft.eps = Math.min(1, Math.max(0, v)))),
    button('Compute', 'Compute z again with these samples and attack', () => {
      state = { ...state, request: { ...draft } };
      save();
      vscode.postMessage({ type: 'request', request: state.request });
    }),
    button('Model…', 'Show another model folder', () => vscode.postMessage({ type: 'pickModel' })),
  );
  return row;
}

function viewControls(data: LatentData, classes: number[]): HTMLElement {
  const wrap = element('div');
  const row = element('div', undefined, 'controls');
  const setView = (view: LatentView) => {
    state = { ...state, view };
    save();
    render();
  };
  row.append(
    select<LatentView['projection']>(
      'projection',
      [
        ['vertices', 'plane of 2–3 class vertices'],
        ['simplex', 'simplex layout (all vertices)'],
        ['pca', 'PCA of the shown classes'],
      ],
      state.view.projection,
      (projection) => setView({ projection, classes: projection === 'vertices' ? defaultClasses(data.dims) : [] }),
    ),
  );
  const picker = element('fieldset', undefined, 'classes');
  picker.append(element('legend', state.view.projection === 'vertices' ? 'classes (2 or 3)' : 'classes (none checked: all)'));
  data.classNames.forEach((name, k) => {
    const label = element('label');
    const box = element('input');
    box.type = 'checkbox';
    box.checked = state.view.classes.includes(k) || (state.view.projection !== 'vertices' && state.view.classes.length === 0 && classes.includes(k));
    box.addEventListener('change', () => {
      const chosen = state.view.classes.length || state.view.projection === 'vertices' ? state.view.classes : [];
      setView({ ...state.view, classes: box.checked ? [...chosen, k].sort((a, b) => a - b) : chosen.filter((c) => c !== k) });
    });
    const swatch = element('span', undefined, 'swatch');
    swatch.style.background = seriesColour(k);
    label.append(box, swatch, document.createTextNode(`${k} ${name}`));
    picker.append(label);
  });
  wrap.append(row, picker);
  return wrap;
}

function render(): void {
  chart?.destroy();
  chart = undefined;
  app.replaceChildren();
  const { data } = state;
  app.append(element('h1', data?.title ?? 'Latent space'));
  if (data) app.append(element('p', `${data.detail} · ${data.dims} outputs · μ_T ${data.muT ?? '— (cross-entropy)'}`, 'facts'));
  app.append(requestControls());
  if (status) app.append(element('p', status.message, status.isError ? 'error' : status.busy ? 'busy' : 'empty'));
  if (!data) return;
  if (state.view.projection === 'vertices' && state.view.classes.length === 0) state.view = { ...state.view, classes: defaultClasses(data.dims) };
  const { classes, problem } = shownClasses(data, state.view);
  app.append(viewControls(data, classes));
  if (problem) return void app.append(element('p', problem, 'error'));
  const facts = attackFacts(data, classes);
  if (facts) app.append(element('p', facts, 'facts'));
  const box = element('div', undefined, 'canvas square');
  app.append(box);
  try {
    const { instance, drawn, axes } = drawChart(box, data, classes);
    const name = slug(data.title);
    const tooltip = `Save the points of "${data.title}" (class, coordinates as drawn${data.attack ? ', attacked coordinates' : ''}) as CSV`;
    box.before(exportTools(pngButton(vscode, name, data.title, instance), csvButton(vscode, name, tooltip, () => latentCsv(axes, drawn))));
    vscode.postMessage({ type: 'drawn', points: drawn.reduce((n, s) => n + (s.attacked ? 2 : 1), 0) });
  } catch (error) {
    app.append(element('p', `Cannot draw this view: ${(error as Error).message}`, 'error'));
  }
}

window.addEventListener('message', (event: MessageEvent<HostToLatent>) => {
  const message = event.data;
  if (message?.type === 'latent') {
    status = undefined;
    // The sample count shown is what was drawn: a split smaller than the request gives fewer.
    const count = Math.max(1, Math.min(state.request.count, message.data.samples.length));
    state = { ...state, request: { ...state.request, count }, modelDir: message.data.modelDir, data: message.data };
    save();
  } else if (message?.type === 'status') {
    status = message;
  } else return;
  render();
});

onThemeChange(render);
render();
vscode.postMessage({ type: 'ready', modelDir: state.modelDir, request: state.request });
