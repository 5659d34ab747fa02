/**
 * Packed passes (src/core/attacks/packed.ts): DeepFool's and JSMA's class-tiled gradients and SPSA's
 * packed ± pairs give what one pass per class (per pair) gave. The references below are the
 * straightforward implementations the attacks had before packing (one inputGradient per class, one
 * forward per pair), run on random models and inputs with fixed seeds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../../src/core/tf';
import { initBackend } from '../../src/core/backend';
import { attackBatch, resolveAttackParams } from '../../src/core/attacks';
import { classCount, inputGradient, logitsOf, oneHotRows, outputsOf, rowOutputs, rowsTensor } from '../../src/core/attacks/common';
import { maxAbs, project } from '../../src/core/attacks/gradientCore';
import { attackLoss, targetClasses } from '../../src/core/attacks/objectives';
import { rowsPerPass, tiledInputGradients } from '../../src/core/attacks/packed';
import { argmaxRows } from '../../src/core/metrics/classification';
import { Random } from '../../src/core/random';

/** A small CNN with seeded random weights: conv 3×3 (relu), max pool, dense to `classes`. */
function randomCnn(side: number, classes: number, seed: number): tfl.LayersModel {
  const model = tfl.sequential();
  const kernelInitializer = tfl.initializers.glorotUniform({ seed });
  model.add(tfl.layers.conv2d({ inputShape: [side, side, 1], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: classes, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }), biasInitializer: 'randomNormal' }));
  return model;
}

function randomImages(count: number, side: number, seed: number): tf.Tensor4D {
  const random = new Random(seed);
  return tf.tensor4d(Float32Array.from({ length: count * side * side }, () => random.next()), [count, side, side, 1]);
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

test('tiledInputGradients: each weighting gives inputGradient, z is the forward pass, also when split across passes', async () => {
  await initBackend('wasm');
  const [side, classes, count] = [8, 5, 5];
  const model = randomCnn(side, classes, 3);
  const x = randomImages(count, side, 4);
  const random = new Random(5);
  const weights = Array.from({ length: 3 }, () => Float32Array.from({ length: count * classes }, () => random.uniform(-1, 1)));
  const size = side * side;
  const before = tf.memory().numTensors;
  // 4 rows per pass: 15 tiled rows in 4 passes, the passes straddling the weightings.
  for (const valuesPerPass of [undefined, 4 * size]) {
    const { gradients, z } = tiledInputGradients(model, x, weights, valuesPerPass);
    weights.forEach((w, k) => {
      const reference = inputGradient(model, x, w);
      assert.ok(maxDifference(gradients.subarray(k * count * size, (k + 1) * count * size), reference) < 1e-5, `weighting ${k}, ${valuesPerPass} values per pass`);
    });
    assert.ok(maxDifference(z, outputsOf(model, x)) < 1e-5);
  }
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  assert.equal(rowsPerPass(100, 250), 2);
  assert.equal(rowsPerPass(1000, 250), 1, 'a row larger than a pass still gets a pass of its own');
  x.dispose();
  model.dispose();
});

/** DeepFool with one backward pass per candidate class (the implementation before packing). */
function referenceDeepfool(model: tfl.LayersModel, x: tf.Tensor4D, labels: Int32Array, overshoot: number, maxIterations: number): Float32Array {
  const [batch, ...shape] = x.shape;
  const size = shape[0] * shape[1] * shape[2];
  const dims = classCount(model);
  const clean = Float32Array.from(x.dataSync());
  const adversarial = Float32Array.from(clean);
  const total = new Float32Array(batch * size);
  const z = outputsOf(model, x);
  const ranks = Math.min(10, dims);
  const candidates = Array.from({ length: batch }, (_, b) => {
    const row = z.subarray(b * dims, (b + 1) * dims);
    return [labels[b], ...[...row.keys()].filter((k) => k !== labels[b]).sort((i, j) => row[j] - row[i]).slice(0, ranks - 1)];
  });
  const stillCorrect = (rows: number[]) => rows.filter((b) => argmaxRows(z, dims)[b] === labels[b]);
  let active = stillCorrect([...Array(batch).keys()]);
  for (let iteration = 0; iteration < maxIterations && active.length > 0; iteration++) {
    const input = rowsTensor(adversarial, active, shape);
    const gradients = Array.from({ length: ranks }, (_, r) => inputGradient(model, input, oneHotRows(active.map((b) => candidates[b][r]), dims)));
    input.dispose();
    active = active.filter((b, i) => {
      const own = gradients[0].subarray(i * size, (i + 1) * size);
      let best: { w: Float32Array; f: number; norm2: number } | undefined;
      for (let k = 1; k < ranks; k++) {
        const w = gradients[k].subarray(i * size, (i + 1) * size).map((g, p) => g - own[p]);
        const norm2 = w.reduce((sum, v) => sum + v * v, 0);
        const f = Math.abs(z[b * dims + candidates[b][k]] - z[b * dims + labels[b]]);
        if (norm2 > 0 && (!best || f / Math.sqrt(norm2) < best.f / Math.sqrt(best.norm2))) best = { w, f, norm2 };
      }
      if (!best) return false;
      for (let p = 0; p < size; p++) {
        total[b * size + p] += ((best.f + 1e-4) / best.norm2) * best.w[p];
        adversarial[b * size + p] = Math.min(Math.max(clean[b * size + p] + (1 + overshoot) * total[b * size + p], 0), 1);
      }
      return true;
    });
    rowOutputs(model, adversarial, active, shape).forEach((value, j) => (z[active[Math.floor(j / dims)] * dims + (j % dims)] = value));
    active = stillCorrect(active);
  }
  return adversarial;
}

test('DeepFool with class-tiled gradients moves every sample as one backward pass per class did (12 classes: 10 candidates)', async () => {
  await initBackend('wasm');
  const [side, classes, count] = [10, 12, 16];
  const model = randomCnn(side, classes, 7);
  const x = randomImages(count, side, 8);
  const labels = argmaxRows(outputsOf(model, x), classes).map((k, b) => (b % 4 === 0 ? (k + 1) % classes : k)); // a quarter misclassified from the start
  const params = resolveAttackParams('deepfool', { overshoot: 0.02, maxIterations: 20 });
  const { adversarial, perturbationNorms } = await attackBatch(model, 'deepfool', x, labels, params, 0);
  const packed = adversarial.dataSync();
  const reference = referenceDeepfool(model, x, labels, params.overshoot, params.maxIterations);
  assert.ok(maxDifference(packed, reference) < 1e-4, `largest difference ${maxDifference(packed, reference)}`);
  assert.ok(perturbationNorms!.some((n) => n > 0), 'some samples moved');
  assert.ok(perturbationNorms!.every((n, b) => b % 4 !== 0 || n === 0), 'misclassified samples stay where they are');
  tf.dispose([x, adversarial]);
  model.dispose();
});

/** JSMA with one backward pass for ∇z_t and one for ∇Σz, and a separate forward pass (the implementation before packing). */
function referenceJsma(model: tfl.LayersModel, x: tf.Tensor4D, targets: Int32Array, maxIterations: number, gamma: number): Float32Array {
  const [batch, ...shape] = x.shape;
  const size = shape[0] * shape[1] * shape[2];
  const dims = classCount(model);
  const adversarial = Float32Array.from(x.dataSync());
  const changed = new Uint8Array(batch * size);
  const counts = new Int32Array(batch);
  let active = [...Array(batch).keys()];
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const reached = argmaxRows(rowOutputs(model, adversarial, active, shape), dims);
    active = active.filter((b, i) => reached[i] !== targets[b] && counts[b] < Math.floor(gamma * size));
    if (active.length === 0) break;
    const input = rowsTensor(adversarial, active, shape);
    const alpha = inputGradient(model, input, oneHotRows(active.map((b) => targets[b]), dims));
    const all = inputGradient(model, input, new Float32Array(active.length * dims).fill(1));
    input.dispose();
    active = active.filter((b, i) => {
      let [best, bestSaliency] = [-1, 0];
      for (let p = 0; p < size; p++) {
        const [a, beta] = [alpha[i * size + p], all[i * size + p] - alpha[i * size + p]];
        const free = !changed[b * size + p] && adversarial[b * size + p] < 1;
        if (free && a > 0 && beta < 0 && -a * beta > bestSaliency) [best, bestSaliency] = [b * size + p, -a * beta];
      }
      if (best < 0) return false;
      [adversarial[best], changed[best]] = [1, 1];
      counts[b]++;
      return true;
    });
  }
  return adversarial;
}

test('JSMA with one class-tiled pass per iteration changes the same values as separate passes did', async () => {
  await initBackend('wasm');
  const [side, classes, count] = [10, 6, 12];
  const model = randomCnn(side, classes, 11);
  const x = randomImages(count, side, 12);
  const labels = argmaxRows(outputsOf(model, x), classes);
  const params = resolveAttackParams('jsma', { target: 'next', maxIterations: 30, gamma: 0.3 });
  const { adversarial, changedPixelFraction } = await attackBatch(model, 'jsma', x, labels, params, 0);
  const packed = adversarial.dataSync();
  const reference = referenceJsma(model, x, targetClasses(model, x, labels, 'next'), params.maxIterations, params.gamma);
  assert.deepEqual(Array.from(packed), Array.from(reference));
  assert.ok(changedPixelFraction!.some((f) => f > 0), 'some values changed');
  tf.dispose([x, adversarial]);
  model.dispose();
});

type SpsaParams = ReturnType<typeof resolveAttackParams<'spsa'>>;

/** SPSA with one forward pass per ± pair (the implementation before packing). */
function referenceSpsa(model: tfl.LayersModel, x: tf.Tensor4D, labels: Int32Array, params: SpsaParams, seed: number): Float32Array {
  const { eps, iterations, samples, delta, learningRate } = params;
  const [batch, ...shape] = x.shape;
  const size = shape[0] * shape[1] * shape[2];
  const random = new Random(seed);
  const radius = tf.tidy(() => tf.mul(maxAbs(x), eps) as tf.Tensor4D);
  const [moment1, moment2] = [new Float32Array(batch * size), new Float32Array(batch * size)];
  let adversarial = tf.clone(x);
  let active = [...Array(batch).keys()];
  for (let t = 1; t <= iterations; t++) {
    const current = adversarial.dataSync() as Float32Array;
    const predictions = argmaxRows(rowOutputs(model, current, active, shape), classCount(model));
    active = active.filter((b, i) => predictions[i] === labels[b]);
    if (active.length === 0) break;
    const base = rowsTensor(current, active, shape);
    const gradient = new Float32Array(base.size);
    const pairLabels = Int32Array.from([...active, ...active], (b) => labels[b]);
    for (let k = 0; k < samples; k++) {
      const direction = new Float32Array(base.size).map(() => (random.next() < 0.5 ? -1 : 1));
      const losses = tf.tidy(() => {
        const offset = tf.mul(tf.tensor(direction, base.shape), delta);
        return attackLoss('margin', logitsOf(model, tf.concat([tf.add(base, offset), tf.sub(base, offset)])), pairLabels, 0).dataSync();
      });
      active.forEach((_, i) => {
        const scale = (losses[i] - losses[active.length + i]) / (2 * delta * samples);
        for (let p = i * size; p < (i + 1) * size; p++) gradient[p] += scale * direction[p];
      });
    }
    base.dispose();
    const step = new Float32Array(batch * size);
    active.forEach((b, i) => {
      for (let p = 0; p < size; p++) {
        const [g, at] = [gradient[i * size + p], b * size + p];
        moment1[at] = 0.9 * moment1[at] + 0.1 * g;
        moment2[at] = 0.999 * moment2[at] + 0.001 * g * g;
        step[at] = (learningRate * (moment1[at] / (1 - 0.9 ** t))) / (Math.sqrt(moment2[at] / (1 - 0.999 ** t)) + 1e-8);
      }
    });
    const previous = adversarial;
    adversarial = tf.tidy(() => project(tf.add(previous, tf.tensor4d(step, x.shape)), x, radius));
    previous.dispose();
  }
  const out = adversarial.dataSync() as Float32Array;
  tf.dispose([adversarial, radius]);
  return out;
}

test('SPSA with packed ± pairs takes the steps one forward pass per pair took, also when the pairs need several passes', async () => {
  await initBackend('wasm');
  // 64×64 images: a pass holds 128 rows, so 2 pairs of 2 × 25 rows; 5 pairs take 3 passes.
  const [side, classes, count] = [64, 4, 25];
  const dense = tfl.layers.dense({ units: classes, kernelInitializer: tfl.initializers.glorotUniform({ seed: 13 }) });
  const model = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [side, side, 1] }), dense] });
  assert.equal(Math.floor(rowsPerPass(side * side) / (2 * count)), 2);
  const x = randomImages(count, side, 14);
  const labels = argmaxRows(outputsOf(model, x), classes);
  const params = resolveAttackParams('spsa', { eps: 0.05, iterations: 4, samples: 5, delta: 0.01, learningRate: 0.01 });
  const { adversarial } = await attackBatch(model, 'spsa', x, labels, params, 21);
  const packed = adversarial.dataSync();
  const reference = referenceSpsa(model, x, labels, params, 21);
  assert.ok(maxDifference(packed, reference) < 1e-5, `largest difference ${maxDifference(packed, reference)}`);
  assert.ok(maxDifference(packed, x.dataSync()) > 0.01, 'the attack moved the samples');
  tf.dispose([x, adversarial]);
  model.dispose();
});
