/**
 * The robustness panel's adversarial-example gallery, drawn from a worker's `examples` answer
 * (src/host/panels/robustness/messages.ts ExamplesData): per sample the clean image, the
 * adversarial image and the perturbation n = adversarial − clean, amplified with its scale stated,
 * the labels and predictions, the norms of n and whether the attack succeeded. Images go on canvases
 * through putImageData (no inline style or script: the page's CSP allows neither). Data that is not
 * an image (not H×W with 1 or 3 channels) is drawn as a strip of bars, and said so. The pixel
 * functions are pure, for the unit tests.
 */
import type { AdversarialExample, ExampleOutcome } from '../src/core/inspect/types';
import type { ExamplesData } from '../src/host/panels/robustness/messages';
import { cssVar, element } from './ui';

/** Height × width with 1 (grey) or 3 (RGB) channels. */
export const isImage = (shape: readonly number[]) => shape.length === 3 && shape[0] > 1 && shape[1] > 1 && (shape[2] === 1 || shape[2] === 3);

/**
 * The largest |n| over the gallery: one scale for every perturbation shown, so their contrasts
 * compare (1 when nothing moved, so a zero perturbation draws mid-grey rather than dividing by 0).
 */
export function perturbationScale(samples: AdversarialExample[]): number {
  let largest = 0;
  for (const s of samples) for (let i = 0; i < s.clean.length; i++) largest = Math.max(largest, Math.abs(s.adversarial[i] - s.clean[i]));
  return largest > 0 ? largest : 1;
}

const byte = (value: number) => Math.round(255 * Math.min(1, Math.max(0, value)));

/** RGBA pixels of H×W×C values in [0, 1] (C = 1: grey). */
export function imageRgba(values: ArrayLike<number>, shape: readonly number[]): Uint8ClampedArray<ArrayBuffer> {
  const [height, width, channels] = shape;
  const out = new Uint8ClampedArray(height * width * 4);
  for (let p = 0; p < height * width; p++) {
    for (let c = 0; c < 3; c++) out[4 * p + c] = byte(values[p * channels + (channels === 1 ? 0 : c)]);
    out[4 * p + 3] = 255;
  }
  return out;
}

/** The perturbation as an image: mid-grey is 0, white +scale, black −scale (per channel for RGB). */
export function perturbationValues(sample: AdversarialExample, scale: number): number[] {
  return sample.clean.map((v, i) => 0.5 + (sample.adversarial[i] - v) / (2 * scale));
}

/** A number as people read it: 4 significant digits. */
const show = (value: number) => String(Number(value.toPrecision(4)));

export const OUTCOME_TEXT: Record<ExampleOutcome, string> = {
  broken: 'attack succeeded',
  robust: 'attack failed',
  misclassified: 'already wrong',
};

function imageCanvas(values: ArrayLike<number>, shape: readonly number[], caption: string, tooltip: string): HTMLElement {
  const figure = element('figure');
  const canvas = element('canvas', undefined, 'pixels');
  canvas.width = shape[1];
  canvas.height = shape[0];
  canvas.title = tooltip;
  const context = canvas.getContext('2d');
  context?.putImageData(new ImageData(imageRgba(values, shape), shape[1], shape[0]), 0, 0);
  figure.append(canvas, element('figcaption', caption));
  return figure;
}

/** Non-image data: one bar per value (up to the canvas width), from the bottom for [0, 1], from the middle for a perturbation. */
function barStrip(values: ArrayLike<number>, caption: string, centred: boolean): HTMLElement {
  const figure = element('figure');
  const canvas = element('canvas', undefined, 'bars');
  const count = Math.min(values.length, 512);
  canvas.width = count;
  canvas.height = 48;
  const context = canvas.getContext('2d');
  if (context) {
    context.fillStyle = cssVar('--vscode-charts-blue', '#3794ff');
    for (let i = 0; i < count; i++) {
      const v = Math.min(1, Math.max(0, values[i]));
      if (centred) context.fillRect(i, Math.min(24, 48 * (1 - v)), 1, Math.abs(48 * (v - 0.5)));
      else context.fillRect(i, 48 * (1 - v), 1, 48 * v);
    }
  }
  figure.append(canvas, element('figcaption', caption));
  return figure;
}

function sampleCard(s: AdversarialExample, data: ExamplesData, scale: number): HTMLElement {
  const name = (label: number) => data.classNames[label] ?? String(label);
  const card = element('div', undefined, `example ${s.outcome}`);
  card.append(element('div', `#${s.index} · ${OUTCOME_TEXT[s.outcome]}`, 'outcome'));
  const images = element('div', undefined, 'images');
  const n = perturbationValues(s, scale);
  if (isImage(data.shape)) {
    images.append(
      imageCanvas(s.clean, data.shape, 'clean', `sample ${s.index}, class ${name(s.label)}`),
      imageCanvas(s.adversarial, data.shape, 'adversarial', `predicted ${name(s.after)}`),
      imageCanvas(
        n,
        data.shape,
        `n ×${show(0.5 / scale)}`,
        `the perturbation, amplified ×${show(0.5 / scale)}: mid-grey 0, white +${show(scale)}, black −${show(scale)}`,
      ),
    );
  } else {
    images.append(barStrip(s.clean, 'clean', false), barStrip(s.adversarial, 'adversarial', false), barStrip(n, `n ×${show(0.5 / scale)}`, true));
  }
  card.append(images);
  const labels = element('div', undefined, 'labels');
  labels.append(
    element('span', `true ${name(s.label)}`),
    element('span', `before ${name(s.before)}`, s.before === s.label ? 'right' : 'wrong'),
    element('span', `after ${name(s.after)}`, s.after === s.label ? 'right' : 'wrong'),
  );
  card.append(labels);
  const ratio = (value: number | null) => (value === null ? '—' : show(value));
  card.append(
    element('div', `‖n‖∞/‖x‖∞ ${ratio(s.linfRatio)} · ‖n‖∞ ${show(s.linf)}`, 'norms'),
    element('div', `‖n‖₂/‖x‖₂ ${ratio(s.l2Ratio)} · ‖n‖₂ ${show(s.l2)}`, 'norms'),
  );
  return card;
}

/** The gallery's facts: what was attacked, how, the perturbation scale and the outcomes. */
function galleryFacts(data: ExamplesData, scale: number): string[] {
  const budget = data.eps === null ? 'no ε budget' : data.norm === 'l2' ? `ε = ${data.eps}: ‖n‖₂ ≤ ε·‖x‖₂` : `ε = ${data.eps}: ‖n‖∞ ≤ ε·‖x‖∞`;
  const counts = (Object.keys(OUTCOME_TEXT) as ExampleOutcome[]).map((o) => `${data.samples.filter((s) => s.outcome === o).length} ${OUTCOME_TEXT[o]}`);
  return [
    `${budget}; seed ${data.seed} + batch, batches of ${data.batchSize}: the samples the sweep counted`,
    isImage(data.shape)
      ? `perturbation n = adversarial − clean shown ×${show(0.5 / scale)}: mid-grey 0, white +${show(scale)}, black −${show(scale)} (the largest |n| shown)`
      : `perturbation n = adversarial − clean shown ×${show(0.5 / scale)}: bars up from the middle are positive, down negative, a half height ±${show(scale)} (the largest |n| shown)`,
    counts.join(' · '),
    ...(isImage(data.shape) ? [] : [`the inputs (${data.shape.join('×')}) are not images: each value is a bar (the first 512)`]),
  ];
}

/** The gallery: its title, facts and one card per sample. */
export function galleryView(data: ExamplesData): HTMLElement {
  const scale = perturbationScale(data.samples);
  const node = element('div', undefined, 'gallery');
  node.append(element('h3', data.title));
  for (const line of galleryFacts(data, scale)) node.append(element('p', line, 'params'));
  const grid = element('div', undefined, 'examples');
  data.samples.forEach((s) => grid.append(sampleCard(s, data, scale)));
  node.append(grid);
  return node;
}
