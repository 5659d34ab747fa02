/**
 * Square attack (Andriushchenko et al., ECCV 2020), gradient-free, L∞ and L2: random search that
 * changes one square window of the perturbation per query and keeps the change when the margin
 * z_y − max_{j≠y} z_j falls. It reads only the outputs, so gradients that mislead (masking) do not
 * stop it. As AutoAttack's "standard" version: 5000 queries, p_init = 0.8 with the paper's schedule
 * rescaled to the budget, the margin loss. Each sample draws its own windows, from the seed.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import { argmaxRows } from '../metrics/classification';
import { Random } from '../random';
import { ThreatModel, cancelled, classCount, defineAttack, outputsOf } from './common';
import { ballRadius } from './gradientCore';

/**
 * p, the fraction of the pixels the square covers at iteration `iteration` (0-based): p_init halved
 * at iterations 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000 of a 10 000-query run, the
 * iterations rescaled to the budget as AutoAttack does.
 */
export function squareFraction(iteration: number, queries: number, pInit: number): number {
  const at = Math.floor((iteration / queries) * 10000);
  const halvings = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000].filter((start) => at > start).length;
  return pInit / 2 ** halvings;
}

/** Redraws of a window's signs that would leave the image unchanged (a wasted query). */
const MAX_REDRAWS = 10;
const TINY = 1e-12;

function l2(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * values[i];
  return Math.sqrt(sum);
}

/** The margin z_y − max_{j≠y} z_j of each row: ≤ 0 once the sample is misclassified. */
function margins(z: Float32Array, labels: ArrayLike<number>, dims: number): Float32Array {
  return Float32Array.from(labels as ArrayLike<number>, (label, b) => {
    let other = -Infinity;
    for (let j = 0; j < dims; j++) if (j !== label) other = Math.max(other, z[b * dims + j]);
    return z[b * dims + label] - other;
  });
}

/** Image geometry (NHWC) and the helpers that index it. */
class Layout {
  readonly size: number;
  constructor(
    readonly height: number,
    readonly width: number,
    readonly channels: number,
  ) {
    this.size = height * width * channels;
  }
  at(h: number, w: number, c: number): number {
    return (h * this.width + w) * this.channels + c;
  }
}

/** A side of a square covering the fraction p of the pixels, as the paper rounds it. */
function squareSide(p: number, layout: Layout, least: number): number {
  const side = Math.max(Math.round(Math.sqrt((p * layout.size) / layout.channels)), least);
  return Math.min(side, layout.height, layout.width);
}

/** L∞ start: vertical stripes of ±r, one sign per column and channel. */
function linfStart(x: Float32Array, r: number, layout: Layout, random: Random): Float32Array {
  const point = new Float32Array(layout.size);
  for (let w = 0; w < layout.width; w++) {
    for (let c = 0; c < layout.channels; c++) {
      const sign = random.next() < 0.5 ? -1 : 1;
      for (let h = 0; h < layout.height; h++) {
        const i = layout.at(h, w, c);
        point[i] = Math.min(1, Math.max(0, x[i] + sign * r));
      }
    }
  }
  return point;
}

/** L∞ step: the window's perturbation set to ±r (one sign per channel); redrawn if that changes nothing. */
function linfCandidate(x: Float32Array, best: Float32Array, r: number, side: number, layout: Layout, random: Random): Float32Array {
  const candidate = Float32Array.from(best);
  const top = random.int(layout.height - side + 1);
  const left = random.int(layout.width - side + 1);
  for (let attempt = 0; attempt < MAX_REDRAWS; attempt++) {
    const signs = Array.from({ length: layout.channels }, () => (random.next() < 0.5 ? -1 : 1));
    let changed = false;
    for (let h = top; h < top + side; h++) {
      for (let w = left; w < left + side; w++) {
        for (let c = 0; c < layout.channels; c++) {
          const i = layout.at(h, w, c);
          candidate[i] = Math.min(1, Math.max(0, x[i] + signs[c] * r));
          changed ||= candidate[i] !== best[i];
        }
      }
    }
    if (changed) break;
  }
  return candidate;
}

/** The paper's L2 window pattern η (s × s, unit L2 norm): two opposite-signed blocks of nested rectangles, at random orientation. */
function eta(side: number, random: Random): Float64Array {
  const rectangles = (rows: number, cols: number) => {
    const block = new Float64Array(rows * cols);
    let [top, left] = [Math.floor(rows / 2), Math.floor(cols / 2)];
    for (let k = 0; k < Math.max(top + 1, left + 1); k++, top--, left--) {
      for (let i = Math.max(top, 0); i < Math.min(top + 2 * k + 1, rows); i++) {
        for (let j = Math.max(left, 0); j < Math.min(left + 2 * k + 1, cols); j++) block[i * cols + j] += 1 / (k + 1) ** 2;
      }
    }
    const norm = l2(block) || 1;
    return block.map((v) => v / norm);
  };
  const upper = Math.floor(side / 2);
  const pattern = new Float64Array(side * side);
  pattern.set(rectangles(upper, side));
  pattern.set(rectangles(side - upper, side).map((v) => -v), upper * side);
  const norm = l2(pattern) || 1;
  const transpose = random.next() < 0.5;
  return pattern.map((_, k) => {
    const [i, j] = [Math.floor(k / side), k % side];
    return (transpose ? pattern[j * side + i] : pattern[k]) / norm;
  });
}

/** x + r·δ/‖δ‖₂, clipped to [0, 1]. */
function onSphere(x: Float32Array, delta: Float64Array, r: number): Float32Array {
  const norm = l2(delta) + TINY;
  return Float32Array.from(x, (v, i) => Math.min(1, Math.max(0, v + (r * delta[i]) / norm)));
}

/** L2 start: a 5 × 5 grid of η windows with random signs per window and channel, scaled to ‖δ‖₂ = r. */
function l2Start(x: Float32Array, r: number, layout: Layout, random: Random): Float32Array {
  const delta = new Float64Array(layout.size);
  const side = Math.floor(layout.height / 5);
  if (side === 0) return onSphere(x, delta.map(() => random.normal()), r);
  const margin = Math.floor((layout.height - 5 * side) / 2);
  for (let top = margin; top + side <= layout.height && top < margin + 5 * side; top += side) {
    for (let left = margin; left + side <= layout.width && left < margin + 5 * side; left += side) {
      const pattern = eta(side, random);
      for (let c = 0; c < layout.channels; c++) {
        const sign = random.next() < 0.5 ? -1 : 1;
        for (let i = 0; i < side; i++) for (let j = 0; j < side; j++) delta[layout.at(top + i, left + j, c)] += sign * pattern[i * side + j];
      }
    }
  }
  return onSphere(x, delta, r);
}

/**
 * L2 step: a new η pattern (plus the window's old perturbation, normalised) goes into window 1,
 * window 2 is cleared, and the mass taken from both windows (and any budget left) is put into
 * window 1; the result is rescaled to ‖δ‖₂ = r.
 */
function l2Candidate(x: Float32Array, best: Float32Array, r: number, side: number, layout: Layout, random: Random): Float32Array {
  const delta = Float64Array.from(best, (v, i) => v - x[i]);
  const [top1, left1] = [random.int(layout.height - side + 1), random.int(layout.width - side + 1)];
  const [top2, left2] = [random.int(layout.height - side + 1), random.int(layout.width - side + 1)];
  const inWindow = (h: number, w: number, top: number, left: number) => h >= top && h < top + side && w >= left && w < left + side;
  const imageNorm = l2(delta);
  const pattern = eta(side, random);
  for (let c = 0; c < layout.channels; c++) {
    let window1 = 0;
    let windows = 0;
    for (let h = 0; h < layout.height; h++) {
      for (let w = 0; w < layout.width; w++) {
        const v = delta[layout.at(h, w, c)];
        if (inWindow(h, w, top1, left1)) window1 += v * v;
        if (inWindow(h, w, top1, left1) || inWindow(h, w, top2, left2)) windows += v * v;
      }
    }
    const sign = random.next() < 0.5 ? -1 : 1;
    const update = pattern.map((p, k) => sign * p + delta[layout.at(top1 + Math.floor(k / side), left1 + (k % side), c)] / (Math.sqrt(window1) + TINY));
    const scale = Math.sqrt(Math.max(r * r - imageNorm * imageNorm, 0) / layout.channels + windows) / (l2(update) + TINY);
    for (let i = 0; i < side; i++) for (let j = 0; j < side; j++) delta[layout.at(top2 + i, left2 + j, c)] = 0;
    update.forEach((v, k) => (delta[layout.at(top1 + Math.floor(k / side), left1 + (k % side), c)] = v * scale));
  }
  return onSphere(x, delta, r);
}

export interface SquareResult {
  adversarial: tf.Tensor4D;
  queries: Float32Array;
}

export async function squareAttack(
  model: tfl.LayersModel,
  x: tf.Tensor4D,
  labels: Int32Array,
  { eps, norm, queries, pInit }: { eps: number; norm: ThreatModel; queries: number; pInit: number },
  seed: number,
  signal?: AbortSignal,
): Promise<SquareResult> {
  const [count, height, width, channels] = x.shape;
  const layout = new Layout(height, width, channels);
  const dims = classCount(model);
  const random = new Random(seed);
  const clean = x.dataSync() as Float32Array;
  const radius = tf.tidy(() => ballRadius(x, norm, eps).dataSync() as Float32Array);
  const image = (b: number) => clean.subarray(b * layout.size, (b + 1) * layout.size);
  const evaluate = (points: Float32Array[], rows: number[]) => {
    const batch = new Float32Array(points.length * layout.size);
    points.forEach((point, a) => batch.set(point, a * layout.size));
    const input = tf.tensor4d(batch, [points.length, height, width, channels]);
    const z = outputsOf(model, input);
    input.dispose();
    return margins(z, rows.map((b) => labels[b]), dims);
  };

  const best: Float32Array[] = Array.from({ length: count }, (_, b) => Float32Array.from(image(b)));
  const margin = new Float32Array(count).fill(-Infinity);
  const used = new Float32Array(count);
  // Samples misclassified before the attack are left as they are, at no query.
  const predicted = argmaxRows(outputsOf(model, x), dims);
  let active = [...Array(count).keys()].filter((b) => predicted[b] === labels[b]);
  const start = active.map((b) => (norm === 'linf' ? linfStart : l2Start)(image(b), radius[b], layout, random));
  evaluate(start, active).forEach((m, a) => {
    [best[active[a]], margin[active[a]]] = [start[a], m];
    used[active[a]] = 1;
  });

  for (let iteration = 0; iteration < queries - 1; iteration++) {
    active = active.filter((b) => margin[b] > 0);
    if (active.length === 0 || (await cancelled(signal))) break;
    const side = squareSide(squareFraction(iteration, queries, pInit), layout, norm === 'linf' ? 1 : 3);
    const oddSide = norm === 'l2' && side % 2 === 0 ? Math.min(side + 1, height, width) : side;
    const candidates = active.map((b) => (norm === 'linf' ? linfCandidate : l2Candidate)(image(b), best[b], radius[b], oddSide, layout, random));
    evaluate(candidates, active).forEach((m, a) => {
      const b = active[a];
      used[b]++;
      if (m < margin[b]) [best[b], margin[b]] = [candidates[a], m];
    });
  }

  const out = new Float32Array(count * layout.size);
  best.forEach((point, b) => out.set(point, b * layout.size));
  return { adversarial: tf.tensor4d(out, x.shape), queries: used };
}

export const square = defineAttack<'square'>({
  run: async (model, x, labels, params, seed, signal) => {
    const { adversarial, queries } = await squareAttack(model, x, labels, params, seed, signal);
    return { adversarial, queries };
  },
});
