/**
 * APGD (Croce & Hein, ICML 2020, Algorithm 1), the gradient half of AutoAttack: PGD with momentum
 * and a step size that needs no tuning. It starts at 2ε·‖x‖ and is halved at checkpoints w_j where
 * the loss stopped rising, the iterate then restarting from the best point found. As AutoAttack's
 * "standard" version: 100 iterations, 1 restart, APGD-T against the 9 classes with the highest clean
 * outputs after the true one. Built on the shared gradient core (gradientCore.ts).
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import { UserError } from '../errors';
import { argmaxRows } from '../metrics/classification';
import { Random } from '../random';
import { ResolvedParams, cancelled, classCount, defineAttack, outputsOf } from './common';
import { ballRadius, lossAndGradient, normalizeGradient, project, randomPoint } from './gradientCore';
import { attackLoss, targetedDlrLoss } from './objectives';

/** Algorithm 1's constants. */
export const APGD = {
  /** η⁽⁰⁾ = 2ε (× ‖x‖). */
  initialStep: 2,
  /** α: weight of the new step against the previous one. */
  momentum: 0.75,
  /** ρ: halve the step when fewer than this fraction of the steps since the last checkpoint raised the loss. */
  rho: 0.75,
} as const;

/**
 * The iterations after which APGD checks its step size: w_j = ⌈p_j·N⌉ for p_0 = 0, p_1 = 0.22 and
 * p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06), while w_j ≤ N (duplicates dropped, w_0 left out).
 * Worked in hundredths so that 0.22·100 is exactly 22.
 */
export function apgdCheckpoints(iterations: number): number[] {
  const checkpoints: number[] = [];
  for (let previous = 0, p = 22; Math.ceil((p * iterations) / 100) <= iterations; ) {
    const w = Math.ceil((p * iterations) / 100);
    if (w > (checkpoints.at(-1) ?? 0)) checkpoints.push(w);
    [previous, p] = [p, p + Math.max(p - previous - 3, 6)];
  }
  return checkpoints;
}

/** The loss to ascend for the samples `rows` of a run's batch. */
type Objective = (z: tf.Tensor2D, rows: number[]) => tf.Tensor1D;

/** At the start (iteration 0) and after each iteration, for the samples still running (not misclassified): their loss and their step size (after any halving). */
export type ApgdTrace = (event: { iteration: number; rows: number[]; loss: Float32Array; stepSize: Float32Array }) => void;

export interface ApgdRunConfig extends Pick<ResolvedParams, 'eps' | 'norm' | 'iterations'> {
  objective: Objective;
  trace?: ApgdTrace;
}

export interface ApgdRunResult {
  /** Per sample [B·size]: the first misclassified iterate found, else the highest-loss one. */
  points: Float32Array;
  fooled: Uint8Array;
  bestLoss: Float32Array;
  /** Cancelled through the signal: the results are incomplete. */
  stopped: boolean;
}

/** The image-sized state of the samples still running, all [A, ...] with the same rows. */
interface RunState {
  x: tf.Tensor4D;
  radius: tf.Tensor4D;
  current: tf.Tensor4D;
  previous: tf.Tensor4D;
  gradient: tf.Tensor4D;
  best: tf.Tensor4D;
  bestGradient: tf.Tensor4D;
}

function keepRows(state: RunState, keep: number[]): RunState {
  const index = tf.tensor1d(keep, 'int32');
  const kept = Object.fromEntries(Object.entries(state).map(([key, tensor]) => [key, tf.gather(tensor, index)])) as unknown as RunState;
  tf.dispose([index, ...Object.values(state)]);
  return kept;
}

/**
 * One APGD run from a random point of the ball, on every sample of x (all classified correctly
 * beforehand). A sample leaves the run once misclassified (its point is kept); the others end with
 * their highest-loss iterate.
 */
export async function apgdRun(
  model: tfl.LayersModel,
  x: tf.Tensor4D,
  labels: Int32Array,
  config: ApgdRunConfig,
  random: Random,
  signal?: AbortSignal,
): Promise<ApgdRunResult> {
  const count = labels.length;
  const size = x.size / count;
  const dims = classCount(model);
  const points = new Float32Array(count * size);
  const fooled = new Uint8Array(count);
  const bestLoss = new Float32Array(count).fill(-Infinity);
  const checkpoints = new Set(apgdCheckpoints(config.iterations));

  // Per running sample (index a into `rows`): the loss at the last iterate, the best loss, and the
  // step-size bookkeeping of Algorithm 1.
  let rows = [...Array(count).keys()];
  const radius = ballRadius(x, config.norm, config.eps);
  const start = randomPoint(x, radius, config.norm, random);
  const first = lossAndGradient(model, start, (z) => config.objective(z, rows));
  let state: RunState = { x: tf.clone(x), radius, current: start, previous: tf.clone(start), gradient: first.gradient, best: tf.clone(start), bestGradient: tf.clone(first.gradient) };
  let lastLoss = first.loss;
  let best = Float32Array.from(first.loss);
  let stepSize = radius.dataSync().map((r) => APGD.initialStep * r);
  let bestAtCheck = Float32Array.from(first.loss);
  let halvedAtCheck = new Uint8Array(count);
  let increases = new Int32Array(count);
  let lastCheckpoint = 0;
  let stopped = false;

  /** Records the samples misclassified at `candidate` and drops them from the run. */
  const retireFooled = (candidate: tf.Tensor4D, z: Float32Array) => {
    const predicted = argmaxRows(z, dims);
    const keep = rows.flatMap((row, a) => (predicted[a] === labels[row] ? [a] : []));
    if (keep.length === rows.length) return;
    const values = candidate.dataSync();
    rows.forEach((row, a) => {
      if (predicted[a] === labels[row]) return;
      fooled[row] = 1;
      points.set(values.subarray(a * size, (a + 1) * size), row * size);
    });
    const pick = <T extends Float32Array | Uint8Array | Int32Array>(array: T) => array.filter((_, a) => keep.includes(a)) as T;
    [lastLoss, best, stepSize, bestAtCheck, halvedAtCheck, increases] = [pick(lastLoss), pick(best), pick(stepSize), pick(bestAtCheck), pick(halvedAtCheck), pick(increases)];
    rows = keep.map((a) => rows[a]);
    state = keepRows(state, keep);
  };
  retireFooled(start, first.z);
  config.trace?.({ iteration: 0, rows: [...rows], loss: Float32Array.from(lastLoss), stepSize: Float32Array.from(stepSize) });

  for (let iteration = 1; iteration <= config.iterations && rows.length > 0; iteration++) {
    // z⁽ᵏ⁺¹⁾ = P(x⁽ᵏ⁾ + η∇), x⁽ᵏ⁺¹⁾ = P(x⁽ᵏ⁾ + α(z⁽ᵏ⁺¹⁾ − x⁽ᵏ⁾) + (1 − α)(x⁽ᵏ⁾ − x⁽ᵏ⁻¹⁾)); no momentum on the first step.
    const alpha = iteration === 1 ? 1 : APGD.momentum;
    const { x: clean, radius: r, current, previous } = state;
    const next = tf.tidy(() => {
      const eta = tf.tensor4d(stepSize, [rows.length, 1, 1, 1]);
      const plain = project(tf.add(current, tf.mul(eta, normalizeGradient(state.gradient, config.norm))), clean, r, config.norm);
      const moved = tf.add(tf.add(current, tf.mul(tf.sub(plain, current), alpha)), tf.mul(tf.sub(current, previous), 1 - alpha));
      return project(moved as tf.Tensor4D, clean, r, config.norm);
    });
    const at = lossAndGradient(model, next, (z) => config.objective(z, rows));
    tf.dispose([previous, state.gradient]);
    state = { ...state, previous: current, current: next, gradient: at.gradient };

    const improved = new Uint8Array(rows.length);
    at.loss.forEach((loss, a) => {
      if (loss > lastLoss[a]) increases[a]++;
      if (loss > best[a]) [best[a], improved[a]] = [loss, 1];
    });
    lastLoss = at.loss;
    if (improved.some((v) => v)) {
      const mask = tf.tensor4d(improved, [rows.length, 1, 1, 1], 'bool');
      const [bestPoint, bestGradient] = [state.best, state.bestGradient];
      state = { ...state, best: tf.where(mask, next, bestPoint), bestGradient: tf.where(mask, at.gradient, bestGradient) };
      tf.dispose([mask, bestPoint, bestGradient]);
    }
    retireFooled(next, at.z);

    if (checkpoints.has(iteration) && rows.length > 0) {
      // Condition 1: fewer than ρ of the steps since the last checkpoint raised the loss.
      // Condition 2: the step was not halved at the last checkpoint and the best loss has not risen since.
      const steps = iteration - lastCheckpoint;
      const halve = rows.map((_, a) => (increases[a] < APGD.rho * steps || (!halvedAtCheck[a] && bestAtCheck[a] >= best[a]) ? 1 : 0));
      halve.forEach((h, a) => {
        if (h) stepSize[a] /= 2;
      });
      halvedAtCheck = Uint8Array.from(halve);
      bestAtCheck = Float32Array.from(best);
      increases = new Int32Array(rows.length);
      lastCheckpoint = iteration;
      if (halve.some((h) => h)) {
        // Halved samples continue from their best point, with its gradient.
        const mask = tf.tensor4d(Uint8Array.from(halve), [rows.length, 1, 1, 1], 'bool');
        const { current: point, gradient } = state;
        state = { ...state, current: tf.where(mask, state.best, point), gradient: tf.where(mask, state.bestGradient, gradient) };
        tf.dispose([mask, point, gradient]);
      }
    }
    config.trace?.({ iteration, rows: [...rows], loss: Float32Array.from(lastLoss), stepSize: Float32Array.from(stepSize) });
    if (await cancelled(signal)) {
      stopped = true;
      break;
    }
  }

  const values = state.best.dataSync();
  rows.forEach((row, a) => {
    points.set(values.subarray(a * size, (a + 1) * size), row * size);
    bestLoss[row] = best[a];
  });
  tf.dispose(Object.values(state));
  return { points, fooled, bestLoss, stopped };
}

/**
 * Runs APGD once per (target, restart) on the samples not yet misclassified, as AutoAttack does:
 * each sample ends at a misclassified point if any run found one, else at its highest-loss point;
 * samples misclassified before the attack are left as they are.
 */
async function apgdAttack(
  model: tfl.LayersModel,
  x: tf.Tensor4D,
  labels: Int32Array,
  params: Pick<ResolvedParams, 'eps' | 'norm' | 'iterations' | 'restarts'>,
  objectives: Objective[],
  seed: number,
  signal?: AbortSignal,
): Promise<tf.Tensor4D> {
  const count = labels.length;
  const size = x.size / count;
  const out = Float32Array.from(x.dataSync());
  const bestLoss = new Float32Array(count).fill(-Infinity);
  const predicted = argmaxRows(outputsOf(model, x), classCount(model));
  const done = labels.map((label, b) => (predicted[b] !== label ? 1 : 0));
  const random = new Random(seed);
  for (const objective of objectives) {
    for (let restart = 0; restart < params.restarts; restart++) {
      const rows = [...Array(count).keys()].filter((b) => !done[b]);
      if (rows.length === 0) return tf.tensor4d(out, x.shape);
      const index = tf.tensor1d(rows, 'int32');
      const subset = tf.gather(x, index);
      index.dispose();
      const result = await apgdRun(model, subset, Int32Array.from(rows, (b) => labels[b]), { ...params, objective: (z, running) => objective(z, running.map((a) => rows[a])) }, random, signal);
      subset.dispose();
      rows.forEach((b, a) => {
        if (!result.fooled[a] && !(result.bestLoss[a] > bestLoss[b])) return;
        out.set(result.points.subarray(a * size, (a + 1) * size), b * size);
        bestLoss[b] = result.bestLoss[a];
        done[b] = result.fooled[a];
      });
      if (result.stopped) return tf.tensor4d(out, x.shape);
    }
  }
  return tf.tensor4d(out, x.shape);
}

/** APGD on the cross-entropy loss (AutoAttack's first attack). */
export const apgdCe = defineAttack<'apgd-ce'>({
  run: async (model, x, labels, params, seed, signal) => ({
    adversarial: await apgdAttack(model, x, labels, params, [(z, rows) => attackLoss('crossentropy', z, Int32Array.from(rows, (b) => labels[b]), 0)], seed, signal),
  }),
});

/** APGD on the DLR loss, which does not change when the outputs are shifted or rescaled. */
export const apgdDlr = defineAttack<'apgd-dlr'>({
  run: async (model, x, labels, params, seed, signal) => ({
    adversarial: await apgdAttack(model, x, labels, params, [(z, rows) => attackLoss('dlr', z, Int32Array.from(rows, (b) => labels[b]), 0)], seed, signal),
  }),
});

/**
 * APGD-T: APGD on the targeted DLR loss, toward each of the targetCount classes with the highest
 * clean outputs after the true one, in turn (AutoAttack's second attack).
 */
export const apgdTargeted = defineAttack<'apgd-t'>({
  run: async (model, x, labels, params, seed, signal) => {
    const dims = classCount(model);
    if (params.targetCount > dims - 1) {
      throw new UserError(`apgd-t: targetCount ${params.targetCount} is more than the ${dims - 1} classes other than the true one`);
    }
    const z = outputsOf(model, x);
    // Classes by clean output, highest first; rank 0 is the true class of every sample still to attack.
    const ranked = Array.from(labels, (_, b) => [...Array(dims).keys()].sort((i, j) => z[b * dims + j] - z[b * dims + i]));
    const objectives = Array.from({ length: params.targetCount }, (_, k): Objective => (logits, rows) =>
      targetedDlrLoss(logits, Int32Array.from(rows, (b) => labels[b]), Int32Array.from(rows, (b) => ranked[b][k + 1])),
    );
    return { adversarial: await apgdAttack(model, x, labels, params, objectives, seed, signal) };
  },
});
