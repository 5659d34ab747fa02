/**
 * What the panels' scripts (robustness, latent, training) share: the vscode API handle, DOM building with
 * textContent only, theme colours from the --vscode-* variables, and the chart background.
 */
import { Chart } from 'chart.js';
import type { Plugin } from 'chart.js';
import { integerTickLabel, logTickLabel } from './axes';

export interface VsCodeApi<State, Message> {
  postMessage(message: Message): void;
  getState(): State | undefined;
  setState(state: State): void;
}
declare function acquireVsCodeApi(): VsCodeApi<unknown, unknown>;
export const vscodeApi = <State, Message>() => acquireVsCodeApi() as VsCodeApi<State, Message>;

export const cssVar = (name: string, fallback: string) => getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;

/** Series colours: the theme's chart colours, then its terminal colours (12 distinct, then repeating). */
const PALETTE: [string, string][] = [
  ['--vscode-charts-blue', '#3794ff'],
  ['--vscode-charts-red', '#f14c4c'],
  ['--vscode-charts-green', '#89d185'],
  ['--vscode-charts-orange', '#d18616'],
  ['--vscode-charts-purple', '#b180d7'],
  ['--vscode-charts-yellow', '#cca700'],
  ['--vscode-terminal-ansiCyan', '#11a8cd'],
  ['--vscode-terminal-ansiMagenta', '#bc3fbc'],
  ['--vscode-terminal-ansiWhite', '#e5e5e5'],
  ['--vscode-terminal-ansiBrightGreen', '#23d18b'],
  ['--vscode-terminal-ansiBrightBlack', '#8c8c8c'],
  ['--vscode-terminal-ansiBrightBlue', '#3b8eea'],
];
export const seriesColour = (i: number) => cssVar(...PALETTE[i % PALETTE.length]);

/** The colour with an alpha, for the theme's #rrggbb (or #rrggbbaa) values; others unchanged. */
export const withAlpha = (colour: string, alpha: number) => (/^#[0-9a-f]{6}/i.test(colour) ? `${colour.slice(0, 7)}${Math.round(alpha * 255).toString(16).padStart(2, '0')}` : colour);

export function element<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

export function button(label: string, title: string, onClick: () => void): HTMLButtonElement {
  const node = element('button', label);
  node.title = title;
  node.addEventListener('click', onClick);
  return node;
}

export const chartColours = () => ({
  foreground: cssVar('--vscode-foreground', '#cccccc'),
  grid: cssVar('--vscode-editorWidget-border', cssVar('--vscode-panel-border', '#80808040')),
  font: cssVar('--vscode-font-family', 'sans-serif'),
});

/** Paints the editor background under a chart, so the canvas (and an exported PNG) is not transparent. */
export const background: Plugin = {
  id: 'gccsBackground',
  beforeDraw: (chart: Chart) => {
    const { ctx, width, height } = chart;
    ctx.save();
    ctx.fillStyle = cssVar('--vscode-editor-background', '#1e1e1e');
    ctx.fillRect(0, 0, width, height);
    ctx.restore();
  },
};

/** Calls redraw when the theme changes (VS Code changes the body's class). */
export const onThemeChange = (redraw: () => void) => new MutationObserver(redraw).observe(document.body, { attributes: true, attributeFilter: ['class'] });

export interface LineSeries {
  label: string;
  points: { x: number; y: number }[];
}

export interface LineAxis {
  title: string;
  min?: number;
  max?: number;
  log?: boolean;
  /** Ticks on whole numbers only (epochs). */
  integer?: boolean;
}

/** A line series drawn in `colour`: straight segments, visible points. */
const lineStyle = (colour: string) => ({ borderColor: colour, backgroundColor: colour, tension: 0, pointRadius: 3 });

/** The panels' line chart: series in the theme's chart colours, on the editor background, no animation. */
export function lineChart(canvas: HTMLCanvasElement, title: string, series: LineSeries[], x: LineAxis, y: LineAxis): Chart<'line'> {
  const { foreground, grid, font } = chartColours();
  const scale = (axis: LineAxis) => ({
    type: axis.log ? ('logarithmic' as const) : ('linear' as const),
    min: axis.min,
    max: axis.max,
    ticks: {
      color: foreground,
      ...(axis.integer && { precision: 0, callback: (value: string | number) => integerTickLabel(Number(value)) }),
      ...(axis.log && { callback: (value: string | number, _: number, ticks: { value: number }[]) => logTickLabel(Number(value), ticks.map((t) => t.value)) }),
    },
    title: { display: true, text: axis.title, color: foreground },
    grid: { color: grid },
  });
  return new Chart(canvas, {
    type: 'line',
    data: { datasets: series.map((s, i) => ({ label: s.label, data: s.points, ...lineStyle(seriesColour(i)) })) },
    options: {
      animation: false,
      maintainAspectRatio: false,
      color: foreground,
      font: { family: font },
      scales: { x: scale(x), y: scale(y) },
      plugins: { legend: { labels: { color: foreground } }, title: { display: true, text: title, color: foreground } },
    },
    plugins: [background as Plugin<'line'>],
  });
}
