/**
 * FAB-T, the targeted Fast Adaptive Boundary attack (Croce & Hein, ICML 2020), L∞ and L2: a
 * minimum-norm attack. At each iteration it linearises the boundary between the true class y and
 * the target t, f(x) = z_t − z_y = 0, around the current point, projects both the current point and
 * the clean image onto that hyperplane (within the pixel range [0, 1]), and steps to a mix of the
 * two projections, biased toward the clean image by α ≤ α_max and overshooting by η. Once a point
 * is misclassified it is kept if it is the closest to x so far, and the iterate steps back toward x
 * by β, to look for a closer one. A sample is broken when its closest misclassified point lies in
 * the ε ball. As AutoAttack's "standard" version: 100 iterations, 1 restart, the 9 classes with the
 * highest clean outputs after the true one as targets, one after the other, each only on the
 * samples the earlier targets left unbroken.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import { UserError } from '../errors';
import { argmaxRows } from '../metrics/classification';
import { Random } from '../random';
import { ResolvedParams, ThreatModel, cancelled, classCount, defineAttack, outputsOf, rankedTargets, rowsTensor } from './common';
import { ballRadius, project, randomPoint } from './gradientCore';
import { tiledInputGradients } from './packed';

/** The paper's and AutoAttack's constants. */
export const FAB = {
  /** Largest weight of the clean image's projection in the step (α_max). */
  alphaMax: 0.1,
  /** Overshoot of each projection (η). */
  eta: 1.05,
  /** Step back toward x after a misclassified point (β). */
  beta: 0.9,
  /** Restarts after the first start at a random point of the ball of this fraction of ε. */
  restartRadius: 0.5,
  /** A projection's norm is taken as at least this much (keeps α defined when both are 0). */
  minStep: 1e-8,
} as const;

/**
 * The smallest perturbation d, in the threat model's norm, with Σ w_i·d_i = need and point + d in
 * [0, 1]: the projection of `point` onto the hyperplane w·x = w·point + need within the box. When
 * the box does not reach the hyperplane, the box's corner nearest to it.
 *
 * Moving coordinate i by at most λ (L∞) in the direction that raises w·x gains |w_i|·min(λ, r_i),
 * r_i being its room to the bound; for L2, d_i = μ·w_i clipped to the box gains w_i²·min(μ, r_i/|w_i|).
 * Both are h(λ) = Σ a_i·min(λ, r_i), concave and piecewise linear in λ; Newton's method from λ = 0
 * stays below the solution and reaches it exactly after at most one step per piece it crosses.
 */
export function boundaryStep(point: ArrayLike<number>, w: ArrayLike<number>, need: number, norm: ThreatModel): Float64Array {
  const n = point.length;
  const direction = need >= 0 ? 1 : -1;
  const slope = new Float64Array(n);
  const reach = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const u = direction * w[i];
    if (u === 0) continue;
    const room = u > 0 ? 1 - point[i] : point[i];
    slope[i] = norm === 'linf' ? Math.abs(u) : u * u;
    reach[i] = norm === 'linf' ? room : room / Math.abs(u);
    total += slope[i] * reach[i];
  }
  const target = Math.abs(need);
  let lambda = total <= target ? Infinity : 0;
  for (let piece = 0; piece <= n && lambda < Infinity; piece++) {
    let gained = 0;
    let rate = 0;
    for (let i = 0; i < n; i++) {
      if (reach[i] <= lambda) gained += slope[i] * reach[i];
      else rate += slope[i];
    }
    const next = rate > 0 ? (target - gained) / rate : lambda;
    if (!(next > lambda)) break;
    lambda = next;
  }
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (slope[i] === 0) continue;
    const u = direction * w[i];
    const moved = Math.min(lambda, reach[i]);
    d[i] = norm === 'linf' ? Math.sign(u) * moved : u * moved;
  }
  return d;
}

/** ‖v‖ in the threat model's norm. */
function normOf(v: ArrayLike<number>, norm: ThreatModel): number {
  let value = 0;
  for (let i = 0; i < v.length; i++) value = norm === 'linf' ? Math.max(value, Math.abs(v[i])) : value + v[i] * v[i];
  return norm === 'linf' ? value : Math.sqrt(value);
}

/** ‖a − b‖ of the rows a, b [size] of two arrays. */
function distance(a: Float32Array, b: Float32Array, norm: ThreatModel): number {
  return normOf(
    Float64Array.from(a, (v, i) => v - b[i]),
    norm,
  );
}

/** The rows `rows` [size each] of `data`, one after the other. */
function gatherRows(data: Float32Array, rows: number[], size: number): Float32Array {
  const out = new Float32Array(rows.length * size);
  rows.forEach((row, a) => out.set(data.subarray(row * size, (row + 1) * size), a * size));
  return out;
}

export interface FabRunResult {
  /** Per sample [A·size]: its closest misclassified point, where bestNorm is finite. */
  best: Float32Array;
  /** ‖best − x‖ per sample; Infinity where no point was misclassified. */
  bestNorm: Float64Array;
  /** Cancelled through the signal: the results are incomplete. */
  stopped: boolean;
}

/** The images of one run and what it looks for: all [A, ...] with the same rows. */
interface RunInput {
  x: Float32Array;
  labels: Int32Array;
  targets: Int32Array;
  shape: [number, number, number];
}

/** z, f = z_t − z_y and ∇f at the points of the rows `rows`, from one packed forward and backward pass. */
function linearise(model: tfl.LayersModel, points: Float32Array, rows: number[], input: RunInput, dims: number) {
  const weights = new Float32Array(rows.length * dims);
  rows.forEach((row, a) => {
    weights[a * dims + input.targets[row]] = 1;
    weights[a * dims + input.labels[row]] = -1;
  });
  const tensor = rowsTensor(points, rows, input.shape);
  const { gradients, z } = tiledInputGradients(model, tensor, [weights]);
  tensor.dispose();
  const f = Float64Array.from(rows, (row, a) => z[a * dims + input.targets[row]] - z[a * dims + input.labels[row]]);
  return { z, f, gradients };
}

/**
 * One FAB-T run of `iterations` from `start` (x itself, or a random point for a restart) on every
 * sample of `input`, all classified correctly at x. Each sample keeps its closest misclassified point.
 */
export async function fabRun(
  model: tfl.LayersModel,
  input: RunInput,
  start: Float32Array,
  config: Pick<ResolvedParams, 'norm' | 'iterations'>,
  signal?: AbortSignal,
): Promise<FabRunResult> {
  const { x, labels } = input;
  const { norm } = config;
  const count = labels.length;
  const size = x.length / count;
  const dims = classCount(model);
  const all = [...Array(count).keys()];
  const row = (array: Float32Array, a: number) => array.subarray(a * size, (a + 1) * size);
  const current = Float32Array.from(start);
  const best = new Float32Array(x.length);
  const bestNorm = new Float64Array(count).fill(Infinity);
  let at = linearise(model, current, all, input, dims);

  for (let iteration = 1; iteration <= config.iterations; iteration++) {
    for (let a = 0; a < count; a++) {
      const [point, clean, gradient] = [row(current, a), row(x, a), at.gradients.subarray(a * size, (a + 1) * size)];
      // The hyperplane f(point) + ∇f·(v − point) = 0, reached from the point and from x.
      let towardClean = 0;
      for (let i = 0; i < size; i++) towardClean += gradient[i] * (point[i] - clean[i]);
      const fromPoint = boundaryStep(point, gradient, -at.f[a], norm);
      const fromClean = boundaryStep(clean, gradient, towardClean - at.f[a], norm);
      const [pointStep, cleanStep] = [Math.max(normOf(fromPoint, norm), FAB.minStep), Math.max(normOf(fromClean, norm), FAB.minStep)];
      const alpha = Math.min(pointStep / (pointStep + cleanStep), FAB.alphaMax);
      for (let i = 0; i < size; i++) {
        const mixed = (point[i] + FAB.eta * fromPoint[i]) * (1 - alpha) + (clean[i] + FAB.eta * fromClean[i]) * alpha;
        point[i] = Math.min(1, Math.max(0, mixed));
      }
    }
    at = linearise(model, current, all, input, dims);
    const predicted = argmaxRows(at.z, dims);
    const fooled = all.filter((a) => predicted[a] !== labels[a]);
    for (const a of fooled) {
      const [point, clean] = [row(current, a), row(x, a)];
      const moved = distance(point, clean, norm);
      if (moved < bestNorm[a]) {
        bestNorm[a] = moved;
        best.set(point, a * size);
      }
      for (let i = 0; i < size; i++) point[i] = clean[i] + FAB.beta * (point[i] - clean[i]);
    }
    // The stepped-back points need their own linearisation (none after the last iteration).
    if (fooled.length > 0 && iteration < config.iterations) {
      const again = linearise(model, current, fooled, input, dims);
      fooled.forEach((a, k) => {
        at.f[a] = again.f[k];
        at.gradients.set(again.gradients.subarray(k * size, (k + 1) * size), a * size);
      });
    }
    if (await cancelled(signal)) return { best, bestNorm, stopped: true };
  }
  return { best, bestNorm, stopped: false };
}

/**
 * FAB-T on a batch: for each of the targetCount classes with the highest clean outputs after the
 * true one, `restarts` runs (the first from x, later ones from random points of the ball of half
 * the radius) on the samples not yet broken. Each sample ends at its closest misclassified point
 * when that lies in the ball ε·‖x‖; otherwise at that point projected onto the ball and [0, 1]
 * (where it is almost always classified correctly), or at x when none was found. Samples
 * misclassified before the attack are left as they are.
 */
export const fabTargeted = defineAttack<'fab-t'>({
  run: async (model, x, labels, params, seed, signal) => {
    const dims = classCount(model);
    if (params.targetCount > dims - 1) {
      throw new UserError(`fab-t: targetCount ${params.targetCount} is more than the ${dims - 1} classes other than the true one`);
    }
    const count = labels.length;
    const size = x.size / count;
    const shape = x.shape.slice(1) as [number, number, number];
    const clean = x.dataSync() as Float32Array;
    const z = outputsOf(model, x);
    const predicted = argmaxRows(z, dims);
    const ranked = rankedTargets(z, labels, dims, params.targetCount);
    const radiusTensor = ballRadius(x, params.norm, params.eps);
    const radius = Float64Array.from(radiusTensor.dataSync());
    const best = Float32Array.from(clean);
    const bestNorm = new Float64Array(count).fill(Infinity);
    const broken = (b: number) => predicted[b] !== labels[b] || bestNorm[b] <= radius[b];
    const random = new Random(seed);
    let stopped = false;
    for (let k = 0; k < params.targetCount && !stopped; k++) {
      for (let restart = 0; restart < params.restarts && !stopped; restart++) {
        const rows = [...Array(count).keys()].filter((b) => !broken(b));
        if (rows.length === 0) break;
        const input: RunInput = {
          x: gatherRows(clean, rows, size),
          labels: Int32Array.from(rows, (b) => labels[b]),
          targets: Int32Array.from(rows, (b) => ranked[k][b]),
          shape,
        };
        const start =
          restart === 0
            ? input.x
            : randomStart(
                input,
                Float64Array.from(rows, (b) => radius[b]),
                params.norm,
                random,
              );
        const result = await fabRun(model, input, start, params, signal);
        rows.forEach((b, a) => {
          if (!(result.bestNorm[a] < bestNorm[b])) return;
          bestNorm[b] = result.bestNorm[a];
          best.set(result.best.subarray(a * size, (a + 1) * size), b * size);
        });
        stopped = result.stopped;
      }
    }
    const found = tf.tensor4d(best, x.shape);
    const adversarial = tf.tidy(() => project(found, x, radiusTensor, params.norm));
    tf.dispose([found, radiusTensor]);
    return { adversarial };
  },
});

/** A restart's start: a seeded random point of the ball of FAB.restartRadius·ε·‖x‖ around each image. */
function randomStart(input: RunInput, radius: Float64Array, norm: ThreatModel, random: Random): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(input.x, [input.labels.length, ...input.shape]);
    const r = tf.tensor4d(
      Float32Array.from(radius, (v) => v * FAB.restartRadius),
      [radius.length, 1, 1, 1],
    );
    return randomPoint(x, r, norm, random).dataSync() as Float32Array;
  });
}
