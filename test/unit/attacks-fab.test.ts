import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../../src/core/tf';
import { initBackend } from '../../src/core/backend';
import { UserError } from '../../src/core/errors';
import { AttackParams, attackBatch, resolveAttackParams } from '../../src/core/attacks';
import type { ThreatModel } from '../../src/core/attacks/common';
import { boundaryStep } from '../../src/core/attacks/fab';
import { Random } from '../../src/core/random';

const SIDE = 5;
const SIZE = SIDE * SIDE;
const NORMS: ThreatModel[] = ['linf', 'l2'];

function normOf(v: ArrayLike<number>, norm: ThreatModel): number {
  let value = 0;
  for (let i = 0; i < v.length; i++) value = norm === 'linf' ? Math.max(value, Math.abs(v[i])) : value + v[i] * v[i];
  return norm === 'linf' ? value : Math.sqrt(value);
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((sum, v, i) => sum + v * b[i], 0);

/**
 * Float64 reference, by bisection (not FAB's Newton steps): the smallest ‖d‖ with w·d = need and
 * point + d in [0, 1]. The best d of L∞ norm at most λ moves each coordinate by min(λ, its room)
 * toward raising w·x; the best of L2 is d = μw clipped to the box (the KKT conditions). Returns
 * the norm, or Infinity when the box does not reach the hyperplane.
 */
function referenceNorm(point: ArrayLike<number>, w: ArrayLike<number>, need: number, norm: ThreatModel): number {
  const sign = Math.sign(need);
  const step = (size: number) =>
    Array.from(point, (p, i) => {
      const u = sign * w[i];
      if (norm === 'linf') return Math.sign(u) * Math.min(size, u > 0 ? 1 - p : p);
      return Math.min(Math.max(u * size, -p), 1 - p);
    });
  const gain = (size: number) => sign * dot(w, step(size));
  if (gain(1e12) < Math.abs(need)) return Infinity;
  let [lo, hi] = [0, 1e12];
  for (let k = 0; k < 200; k++) {
    const mid = (lo + hi) / 2;
    if (gain(mid) < Math.abs(need)) lo = mid;
    else hi = mid;
  }
  return normOf(step(hi), norm);
}

test('boundaryStep: the smallest L∞ and L2 step onto a hyperplane within [0, 1] agrees with a float64 bisection', () => {
  const random = new Random(3);
  let infeasible = 0;
  for (let trial = 0; trial < 300; trial++) {
    const n = 1 + random.int(40);
    // Some values at the bounds (no room one way) and some zero weights, as on MNIST.
    const point = Float64Array.from({ length: n }, () => (random.next() < 0.3 ? random.int(2) : random.next()));
    const w = Float64Array.from({ length: n }, () => (random.next() < 0.2 ? 0 : random.normal()));
    const need = random.normal() * (trial % 3 === 0 ? 5 : 0.5);
    for (const norm of NORMS) {
      const d = boundaryStep(point, w, need, norm);
      const reference = referenceNorm(point, w, need, norm);
      for (let i = 0; i < n; i++) {
        assert.ok(point[i] + d[i] >= -1e-12 && point[i] + d[i] <= 1 + 1e-12, `trial ${trial} ${norm}: stays in [0, 1]`);
        if (w[i] === 0) assert.equal(d[i], 0);
      }
      if (reference === Infinity) {
        // Out of reach: the corner of the box that gets closest, every coordinate at its bound.
        infeasible++;
        for (let i = 0; i < n; i++) if (w[i] !== 0) assert.ok(Math.abs(point[i] + d[i] - (Math.sign(need * w[i]) > 0 ? 1 : 0)) < 1e-12);
        continue;
      }
      assert.ok(Math.abs(dot(w, d) - need) <= 1e-9 * (1 + Math.abs(need)), `trial ${trial} ${norm}: w·d = ${dot(w, d)}, need ${need}`);
      assert.ok(Math.abs(normOf(d, norm) - reference) <= 1e-9 * (1 + reference), `trial ${trial} ${norm}: ‖d‖ ${normOf(d, norm)} vs ${reference}`);
    }
  }
  assert.ok(infeasible > 5 && infeasible < 300, `both cases exercised (${infeasible} out of reach)`);
});

/** A two-class affine model z = W·x + b with seeded W, b: its one boundary is a hyperplane. */
function affineModel(random: Random): { model: tfl.LayersModel; w: Float64Array; offset: number } {
  const model = tfl.sequential();
  model.add(tfl.layers.flatten({ inputShape: [SIDE, SIDE, 1] }));
  model.add(tfl.layers.dense({ units: 2 }));
  const kernel = Float32Array.from({ length: SIZE * 2 }, () => random.normal());
  const bias = Float32Array.from([random.normal(), random.normal()]);
  model.layers[1].setWeights([tf.tensor2d(kernel, [SIZE, 2]), tf.tensor1d(bias)]);
  // f(x) = z_1 − z_0 = w·x + offset, in float64 from the float32 weights.
  const w = Float64Array.from({ length: SIZE }, (_, i) => kernel[i * 2 + 1] - kernel[i * 2]);
  return { model, w, offset: bias[1] - bias[0] };
}

async function fab(model: tfl.LayersModel, x: Float32Array, labels: Int32Array, params: AttackParams, seed = 0, signal?: AbortSignal) {
  const input = tf.tensor4d(x, [labels.length, SIDE, SIDE, 1]);
  try {
    const output = await attackBatch(model, 'fab-t', input, labels, resolveAttackParams('fab-t', params), seed, signal);
    const adversarial = output.adversarial.dataSync() as Float32Array;
    output.adversarial.dispose();
    return adversarial;
  } finally {
    input.dispose();
  }
}

const predictionsOf = (model: tfl.LayersModel, x: Float32Array) =>
  tf.tidy(() => Array.from((tf.argMax(model.predict(tf.tensor4d(x, [x.length / SIZE, SIDE, SIDE, 1])) as tf.Tensor, 1) as tf.Tensor).dataSync()));

test('FAB-T finds the minimal L∞ and L2 perturbation to an affine boundary (closed form, float64), and keeps only those within ε', async () => {
  await initBackend('wasm');
  for (const norm of NORMS) {
    const random = new Random(norm === 'linf' ? 7 : 8);
    const { model, w, offset } = affineModel(random);
    const count = 40;
    // Images with pixels at 0 and 1 among others, so that the box [0, 1] binds for some.
    const x = Float32Array.from({ length: count * SIZE }, () => (random.next() < 0.25 ? random.int(2) : random.next()));
    const labels = Int32Array.from(predictionsOf(model, x));
    const row = (a: Float32Array, b: number) => a.subarray(b * SIZE, (b + 1) * SIZE);
    const minimal = Array.from(labels, (_, b) => referenceNorm(row(x, b), w, -(dot(w, row(x, b)) + offset), norm));
    const peak = (b: number) => normOf(row(x, b), norm);
    // ε at the median of the minimal perturbations relative to ‖x‖: about half the samples can be broken.
    const relative = Array.from(minimal, (m, b) => m / peak(b))
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    const eps = relative[Math.floor(relative.length / 2)];
    const adversarial = await fab(model, x, labels, { eps, norm, targetCount: 1 });
    const predicted = predictionsOf(model, adversarial);
    let broken = 0;
    for (let b = 0; b < count; b++) {
      const moved = normOf(
        Float64Array.from(row(adversarial, b), (v, i) => v - row(x, b)[i]),
        norm,
      );
      const radius = eps * peak(b);
      assert.ok(moved <= radius * (1 + 1e-6) + 1e-7, `${norm} sample ${b}: ‖δ‖ ${moved} ≤ ${radius}`);
      assert.ok(Math.min(...row(adversarial, b)) >= 0 && Math.max(...row(adversarial, b)) <= 1);
      if (minimal[b] < radius * 0.98) {
        broken++;
        assert.notEqual(predicted[b], labels[b], `${norm} sample ${b}: broken (minimal ${minimal[b]}, radius ${radius})`);
        // Never below the minimum (nothing closer is misclassified), and within 1% above it.
        assert.ok(moved >= minimal[b] * (1 - 1e-4) && moved <= minimal[b] * 1.01, `${norm} sample ${b}: ‖δ‖ ${moved}, minimal ${minimal[b]}`);
      } else if (minimal[b] > radius * 1.02) {
        assert.equal(predicted[b], labels[b], `${norm} sample ${b}: out of reach within ε`);
      }
    }
    assert.ok(broken >= 10 && broken <= 30, `${norm}: ${broken} of ${count} broken`);
    model.dispose();
  }
});

test("FAB-T's first two iterations on an affine boundary: overshoot η, step back β, the mix α toward x's projection", async () => {
  await initBackend('wasm');
  for (const norm of NORMS) {
    const random = new Random(norm === 'linf' ? 17 : 18);
    const { model, w, offset } = affineModel(random);
    const count = 30;
    const x = Float32Array.from({ length: count * SIZE }, () => random.uniform(0.3, 0.7));
    const labels = Int32Array.from(predictionsOf(model, x));
    const row = (a: Float32Array, b: number) => a.subarray(b * SIZE, (b + 1) * SIZE);
    // The box does not bind when even 1.05 times the free step (−f·w/‖w‖₂², or −f·sign(w)/‖w‖₁) stays in it.
    const dual = norm === 'linf' ? w.reduce((sum, v) => sum + Math.abs(v), 0) : Math.sqrt(dot(w, w));
    const largest = norm === 'linf' ? 1 : Math.max(...w.map(Math.abs)) / dual;
    const free = Array.from(labels, (_, b) => Math.abs(dot(w, row(x, b)) + offset) / dual);
    const inside = free.flatMap((m, b) => (1.05 * m * largest < 0.29 ? [b] : []));
    // Iteration 1 lands at η·δ* from x; stepped back to βη·δ*, iteration 2 projects that point
    // (a step of (1 − βη)·δ*) and x (δ*) and mixes them with α = (1 − βη)/(1 − βη + 1).
    const [eta, beta] = [1.05, 0.9];
    const alpha = (1 - beta * eta) / (1 - beta * eta + 1);
    const expected = [eta, (beta * eta + eta * (1 - beta * eta)) * (1 - alpha) + eta * alpha];
    for (const iterations of [1, 2]) {
      const adversarial = await fab(model, x, labels, { eps: 1, norm, iterations, targetCount: 1 });
      for (const b of inside) {
        const moved = normOf(
          Float64Array.from(row(adversarial, b), (v, i) => v - row(x, b)[i]),
          norm,
        );
        assert.ok(Math.abs(moved / free[b] - expected[iterations - 1]) < 1e-4, `${norm} sample ${b}, ${iterations} iterations: ${moved / free[b]}`);
      }
    }
    assert.ok(inside.length >= 5, `${norm}: ${inside.length} samples checked`);
    model.dispose();
  }
});

/** A small ReLU network with seeded weights: nonlinear boundaries. */
function reluModel(classes: number, seed: number): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(tfl.layers.flatten({ inputShape: [SIDE, SIDE, 1] }));
  model.add(tfl.layers.dense({ units: 16, activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed }) }));
  model.add(tfl.layers.dense({ units: classes, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }));
  return model;
}

test('FAB-T on a ReLU network: inside the ε ball and [0, 1], lowers the accuracy, leaves clean mistakes alone (L∞ and L2)', async () => {
  await initBackend('wasm');
  const classes = 6;
  const model = reluModel(classes, 31);
  const random = new Random(9);
  const count = 24;
  const x = Float32Array.from({ length: count * SIZE }, () => random.next());
  const labels = Int32Array.from(predictionsOf(model, x));
  labels[0] = (labels[0] + 1) % classes; // misclassified before the attack
  for (const norm of NORMS) {
    for (const eps of [0.05, 0.2]) {
      const adversarial = await fab(model, x, labels, { eps, norm, iterations: 30, targetCount: 3 });
      for (let b = 0; b < count; b++) {
        const clean = x.subarray(b * SIZE, (b + 1) * SIZE);
        const point = adversarial.subarray(b * SIZE, (b + 1) * SIZE);
        const moved = normOf(
          Float64Array.from(point, (v, i) => v - clean[i]),
          norm,
        );
        assert.ok(moved <= eps * normOf(clean, norm) * (1 + 1e-6), `${norm} ε ${eps} sample ${b}: in the ball`);
        assert.ok(Math.min(...point) >= 0 && Math.max(...point) <= 1);
      }
      assert.deepEqual(adversarial.subarray(0, SIZE), x.subarray(0, SIZE), 'a clean mistake is left as it is');
      const still = predictionsOf(model, adversarial).filter((p, b) => p === labels[b]).length;
      assert.ok(still < count - 1 - 2, `${norm} ε ${eps}: ${still} of ${count - 1} still classified correctly`);
    }
  }
  model.dispose();
});

test('FAB-T keeps the closest misclassified point: more iterations never end farther from x', async () => {
  await initBackend('wasm');
  const model = reluModel(5, 61);
  const random = new Random(12);
  const count = 16;
  const x = Float32Array.from({ length: count * SIZE }, () => random.next());
  const labels = Int32Array.from(predictionsOf(model, x));
  for (const norm of NORMS) {
    // ε = 1: the ball holds the whole box, so every point found is returned as it is.
    const distances: number[][] = [];
    for (let iterations = 1; iterations <= 12; iterations++) {
      const adversarial = await fab(model, x, labels, { eps: 1, norm, iterations, targetCount: 1 });
      const fooled = predictionsOf(model, adversarial).map((p, b) => p !== labels[b]);
      distances.push(
        Array.from(labels, (_, b) =>
          fooled[b]
            ? normOf(
                Float64Array.from(adversarial.subarray(b * SIZE, (b + 1) * SIZE), (v, i) => v - x[b * SIZE + i]),
                norm,
              )
            : Infinity,
        ),
      );
    }
    for (let k = 1; k < distances.length; k++) {
      for (let b = 0; b < count; b++)
        assert.ok(distances[k][b] <= distances[k - 1][b], `${norm} sample ${b}: ${distances[k][b]} after ${k + 1}, ${distances[k - 1][b]} after ${k}`);
    }
    const improved = distances[0].filter((d, b) => d < Infinity && distances.at(-1)![b] < d * 0.99).length;
    assert.ok(improved >= 3, `${norm}: ${improved} samples got closer`);
  }
  model.dispose();
});

test('FAB-T: the same seed gives identical results (with random restarts); cancelling stops it and leaks nothing', async () => {
  await initBackend('wasm');
  const model = reluModel(5, 41);
  const random = new Random(4);
  const count = 8;
  const x = Float32Array.from({ length: count * SIZE }, () => random.next());
  const labels = Int32Array.from(predictionsOf(model, x));
  const params = { eps: 0.03, iterations: 10, restarts: 3, targetCount: 2 };
  const first = await fab(model, x, labels, params, 5);
  assert.deepEqual(await fab(model, x, labels, params, 5), first);
  const before = tf.memory().numTensors;
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 5);
  await assert.rejects(fab(model, x, labels, { eps: 0.01, iterations: 10000, targetCount: 1 }, 0, controller.signal), { name: 'AttackCancelled' });
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test('FAB-T: a target count above D − 1 or 0 iterations is a one-line UserError', async () => {
  await initBackend('wasm');
  const model = reluModel(4, 51);
  const x = new Float32Array(2 * SIZE).fill(0.5);
  const oneLine = (message: RegExp) => (error: unknown) => error instanceof UserError && message.test(error.message) && !error.message.includes('\n');
  await assert.rejects(
    fab(model, x, Int32Array.from([0, 1]), { targetCount: 4 }),
    oneLine(/^fab-t: targetCount 4 is more than the 3 classes other than the true one$/),
  );
  assert.throws(() => resolveAttackParams('fab-t', { iterations: 0 }), oneLine(/^fab-t: iterations must be a whole number from 1 to \d+ \(got 0\)$/));
  assert.throws(() => resolveAttackParams('fab-t', { targetCount: 0 }), oneLine(/^fab-t: targetCount must be a whole number ≥ 1/));
  assert.deepEqual(resolveAttackParams('fab-t'), { eps: 0.1, norm: 'linf', iterations: 100, restarts: 1, targetCount: 9 }, "AutoAttack's standard version");
  model.dispose();
});
