/**
 * The training panel's script (bundled to dist/webview/training.js): loss and accuracy (train and
 * validation) per epoch, redrawn at each epoch of a live run; each chart exports as PNG, the
 * per-epoch values once as CSV (export.ts). Messages: src/host/panels/training/messages.ts.
 */
import { Chart, Legend, LineController, LineElement, LinearScale, LogarithmicScale, PointElement, Title, Tooltip } from 'chart.js';
import type { HostToTraining, TrainingData, TrainingState, TrainingToHost } from '../src/host/panels/training/messages';
import { epochRange } from './axes';
import { csvButton, exportTools, pngButton, slug, trainingCsv } from './export';
import { LineAxis, LineSeries, element, lineChart, onThemeChange, vscodeApi } from './ui';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip, Title);

const vscode = vscodeApi<TrainingState, TrainingToHost>();
const app = document.getElementById('app') as HTMLElement;
let state: TrainingState = vscode.getState() ?? {};
let status: { message: string; isError: boolean } | undefined;
let charts: Chart[] = [];

/** A chart with its PNG button. */
function chartBox(data: TrainingData, title: string, yTitle: string, series: LineSeries[], y: Omit<LineAxis, 'title'>): HTMLElement {
  const wrap = element('div', undefined, 'chart');
  const box = element('div', undefined, 'canvas');
  const canvas = element('canvas');
  box.append(canvas);
  const instance = lineChart(canvas, title, series, { title: 'epoch', ...epochRange(data.totalEpochs), integer: true }, { title: yTitle, ...y });
  charts.push(instance);
  wrap.append(exportTools(pngButton(vscode, slug(`${data.title} ${title}`), title, instance)), box);
  return wrap;
}

function render(): void {
  charts.forEach((c) => c.destroy());
  charts = [];
  app.replaceChildren();
  const data: TrainingData | undefined = state.data;
  app.append(element('h1', data?.title ?? 'Training'));
  if (status) app.append(element('p', status.message, status.isError ? 'error' : 'empty'));
  if (!data) return;
  app.append(element('p', `${data.status} · ${data.outDir}`, data.live ? 'busy' : 'facts'));
  if (data.epochs.length === 0) {
    app.append(element('p', 'No epoch has finished yet.', 'empty'));
    return vscode.postMessage({ type: 'drawn', epochs: 0 });
  }
  const points = (pick: (r: TrainingData['epochs'][number]) => number | null) =>
    data.epochs.flatMap((r) => (pick(r) === null ? [] : [{ x: r.epoch, y: pick(r) as number }]));
  // GCCS losses start near D·μ_T² and fall by orders of magnitude: a log axis when all are positive.
  const log = data.epochs.every((r) => r.loss > 0);
  // One CSV for the panel: both charts plot the same per-epoch table.
  app.append(exportTools(csvButton(vscode, slug(`${data.title} epochs`), 'Save the per-epoch values (epoch, loss, train and validation accuracy) as CSV', () => trainingCsv(data.epochs))));
  app.append(chartBox(data, 'Training loss', log ? 'loss (log scale)' : 'loss', [{ label: 'train loss', points: points((r) => r.loss) }], { log }));
  const accuracy = [{ label: 'train accuracy', points: points((r) => 100 * r.trainAccuracy) }];
  if (data.epochs.some((r) => r.validationAccuracy !== null)) {
    accuracy.push({ label: 'validation accuracy', points: points((r) => (r.validationAccuracy === null ? null : 100 * r.validationAccuracy)) });
  }
  app.append(chartBox(data, 'Accuracy', 'accuracy (%)', accuracy, { min: 0, max: 100 }));
  const last = data.epochs[data.epochs.length - 1];
  const validation = last.validationAccuracy === null ? '' : `, validation ${(100 * last.validationAccuracy).toFixed(2)}%`;
  vscode.postMessage({ type: 'drawn', epochs: data.epochs.length });
  app.append(element('p', `epoch ${last.epoch}: loss ${last.loss.toPrecision(5)}, train ${(100 * last.trainAccuracy).toFixed(2)}%${validation}, lr ${last.learningRate.toExponential(2)}, ${last.seconds.toFixed(1)} s`, 'facts'));
  if (data.converged) app.append(element('p', data.converged, 'facts'));
}

window.addEventListener('message', (event: MessageEvent<HostToTraining>) => {
  const message = event.data;
  if (message?.type === 'training') {
    status = undefined;
    state = { outDir: message.data.outDir, data: message.data };
    vscode.setState(state);
  } else if (message?.type === 'status') status = message;
  else return;
  render();
});

onThemeChange(render);
render();
vscode.postMessage({ type: 'ready', outDir: state.outDir });
