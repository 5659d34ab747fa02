import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, argmaxRows, confusionMatrix, latentStats, macroF1, meanDistanceRatio, outputsCollapsed } from '../../src/core/metrics';
import { Random } from '../../src/core/random';

test('accuracy, confusion matrix and macro F-score on a hand-checked case', () => {
  const labels = Int32Array.from([0, 0, 0, 1, 1, 2]);
  const predictions = Int32Array.from([0, 0, 1, 1, 2, 2]);
  assert.equal(accuracy(predictions, labels), 4 / 6);
  const confusion = confusionMatrix(predictions, labels, 3);
  assert.deepEqual(confusion, [[2, 1, 0], [0, 1, 1], [0, 0, 1]]);
  // F1 per class: 0 → 2·2/(2+3) = 0.8; 1 → 2·1/(2+2) = 0.5; 2 → 2·1/(2+1) = 2/3.
  assert.ok(Math.abs(macroF1(confusion) - (0.8 + 0.5 + 2 / 3) / 3) < 1e-12);
  assert.deepEqual(Array.from(argmaxRows(Float32Array.from([1, 3, 2, 9, 0, 0]), 3)), [1, 0]);
});

test('the earlier mean-distance ratio equals a direct float64 computation, and grows as classes move apart', () => {
  const rng = new Random(3);
  const dims = 3;
  const n = 120;
  const labels = Int32Array.from({ length: n }, (_, i) => i % dims);
  const make = (spread: number) =>
    Float32Array.from({ length: n * dims }, (_, i) => (labels[Math.floor(i / dims)] === i % dims ? 10 : 0) + spread * rng.normal());
  const z = make(1);
  // Direct: all pairs, straight from the definition.
  const dist = (a: number, b: number) => Math.hypot(...Array.from({ length: dims }, (_, k) => z[a * dims + k] - z[b * dims + k]));
  const members = (c: number) => Array.from(labels.keys()).filter((i) => labels[i] === c);
  const intra = (c: number) => {
    const m = members(c);
    let s = 0;
    let count = 0;
    for (let i = 0; i < m.length; i++) {
      for (let j = i + 1; j < m.length; j++) {
        s += dist(m[i], m[j]);
        count++;
      }
    }
    return s / count;
  };
  const ratios: number[] = [];
  for (let a = 0; a < dims; a++) {
    for (let b = a + 1; b < dims; b++) {
      let s = 0;
      for (const i of members(a)) for (const j of members(b)) s += dist(i, j);
      ratios.push(s / (members(a).length * members(b).length) / ((intra(a) + intra(b)) / 2));
    }
  }
  const expected = ratios.reduce((s, r) => s + r, 0) / ratios.length;
  const result = meanDistanceRatio(z, labels, dims);
  assert.ok(Math.abs(result.mean - expected) / expected < 1e-9, `${result.mean} vs ${expected}`);
  assert.equal(result.pairs, 3);
  assert.ok(result.ci95[0] <= result.mean && result.mean <= result.ci95[1]);
  assert.ok(meanDistanceRatio(make(0.2), labels, dims).mean > 3 * result.mean);
});

test('latent statistics: mean, covariance, kurtosis and distance to the vertex', () => {
  const rng = new Random(5);
  const n = 20000;
  const z = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    z[2 * i] = 7 + 2 * rng.normal();
    z[2 * i + 1] = rng.normal();
  }
  const [stats] = latentStats(z, new Int32Array(n), 2, 7);
  assert.equal(stats.count, n);
  assert.ok(Math.abs(stats.mean[0] - 7) < 0.05 && Math.abs(stats.mean[1]) < 0.05);
  assert.ok(Math.abs(stats.covariance[0][0] - 4) < 0.15 && Math.abs(stats.covariance[0][1]) < 0.05);
  assert.ok(Math.abs(stats.kurtosis - 3) < 0.15, `Gaussian kurtosis ${stats.kurtosis}`);
  assert.ok(stats.distanceToVertex < 0.1);
});

test('outputsCollapsed: constant outputs are a collapse, any varying output is not', () => {
  const dims = 3;
  const constant = new Float32Array([5, -2, 70, 5, -2, 70, 5, -2, 70]);
  assert.equal(outputsCollapsed(constant, dims), true);
  const varying = constant.slice();
  varying[5] = 70.01; // one output of one sample differs
  assert.equal(outputsCollapsed(varying, dims), false);
  assert.equal(outputsCollapsed(new Float32Array([1, 2, 3]), dims), false, 'one sample cannot show a collapse');
});
