/**
 * The panels' PNG and CSV export, webview side: the buttons, which post a SaveMessage for the host
 * to save (src/host/panels/exportFile.ts), file names, and the CSV text of each panel. The CSV functions
 * are pure (no DOM), so the unit tests check them without a browser.
 */
import type { Chart } from 'chart.js';
import type { EpochRecord } from '../src/core/io/modelDir';
import type { SummaryChart } from '../src/core/sweep/summary';
import { WEBVIEW_LIMITS } from '../src/core/limits';
import type { SaveMessage } from '../src/host/panels/messages';
import { button, element } from './ui';

/** The webview's vscode API handle, which takes the panel's messages, save requests among them. */
type Host = { postMessage(message: SaveMessage): void };

/**
 * A file name from a title: "FGSM, ε = 0.1" → "fgsm-e-0.1"; no leading dot or dash, at most 120
 * characters (what the host accepts, src/host/panels/messages.ts).
 */
export const slug = (text: string) =>
  text.toLowerCase().replace(/ε/g, 'e').replace(/[^a-z0-9.]+/g, '-').replace(/^[-.]+/, '').slice(0, WEBVIEW_LIMITS.exportNameChars).replace(/-$/, '') || 'gccs';

const csvCell = (text: string) => (/[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
export const toCsv = (rows: string[][]) => rows.map((row) => row.map(csvCell).join(',')).join('\n') + '\n';

/** The row of export buttons above a chart or table. */
export function exportTools(...buttons: HTMLButtonElement[]): HTMLElement {
  const tools = element('div', undefined, 'tools');
  tools.append(...buttons);
  return tools;
}

export const pngButton = (host: Host, name: string, title: string, chart: Chart) =>
  button('PNG', `Save "${title}" as PNG`, () => host.postMessage({ type: 'savePng', name, dataUrl: chart.toBase64Image('image/png') }));

/** `csv` is made when the button is clicked. */
export const csvButton = (host: Host, name: string, tooltip: string, csv: () => string) => button('CSV', tooltip, () => host.postMessage({ type: 'saveCsv', name, csv: csv() }));

/** A robustness chart's points: one row per ε, one column per series. */
export function robustnessChartCsv(chart: SummaryChart): string {
  const eps = [...new Set(chart.series.flatMap((s) => s.points.map((p) => p.eps)))].sort((a, b) => a - b);
  const rows = eps.map((e) => [String(e), ...chart.series.map((s) => String(s.points.find((p) => p.eps === e)?.accuracy ?? ''))]);
  return toCsv([['eps', ...chart.series.map((s) => s.label)], ...rows]);
}

/** One sample as the latent chart draws it: its class and its projected point (and attacked point). */
export interface DrawnSample {
  label: number;
  className: string;
  point: { x: number; y: number };
  attacked?: { x: number; y: number };
}

/** The latent chart's samples: one row per sample, its class and coordinates on the chart's axes; attacked columns with an attack. */
export function latentCsv(axes: [string, string], samples: DrawnSample[]): string {
  const attack = samples.some((s) => s.attacked);
  const header = ['class', 'class name', `x: ${axes[0]}`, `y: ${axes[1]}`, ...(attack ? ['attacked x', 'attacked y'] : [])];
  const attacked = (s: DrawnSample) => (attack ? [String(s.attacked?.x ?? ''), String(s.attacked?.y ?? '')] : []);
  const rows = samples.map((s) => [String(s.label), s.className, String(s.point.x), String(s.point.y), ...attacked(s)]);
  return toCsv([header, ...rows]);
}

/** The training history: one row per epoch; accuracies as fractions, validation empty without a validation split. */
export function trainingCsv(epochs: EpochRecord[]): string {
  const rows = epochs.map((r) => [String(r.epoch), String(r.loss), String(r.trainAccuracy), r.validationAccuracy === null ? '' : String(r.validationAccuracy)]);
  return toCsv([['epoch', 'loss', 'train accuracy', 'validation accuracy'], ...rows]);
}
