import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { GCCS_DEFAULTS, GccsOptions, gccsLoss, gccsWarnings } from '../../src/core/loss';
import { choleskyLogDetInverse } from '../../src/core/loss/logdet';
import { Random } from '../../src/core/random';

/** Independent float64 reference: a loop over classes, straight from the formula. */
function referenceLoss(z: Float64Array, labels: Int32Array, dims: number, o: GccsOptions): number {
  const sigma2 = o.sigmaT * o.sigmaT;
  const ridge = o.ridge * sigma2;
  let total = 0;
  for (let k = 0; k < dims; k++) {
    const rows: number[] = [];
    labels.forEach((label, b) => label === k && rows.push(b));
    const n = rows.length;
    if (n < 2) continue;
    const mean = new Float64Array(dims);
    for (const b of rows) for (let j = 0; j < dims; j++) mean[j] += z[b * dims + j] / n;
    const cov = new Float64Array(dims * dims);
    for (const b of rows) {
      for (let i = 0; i < dims; i++) {
        for (let j = 0; j < dims; j++) cov[i * dims + j] += ((z[b * dims + i] - mean[i]) * (z[b * dims + j] - mean[j])) / n;
      }
    }
    for (let i = 0; i < dims; i++) cov[i * dims + i] += ridge;
    const { logDet } = choleskyLogDetInverse(cov, dims);
    let trace = 0;
    let mahalanobis = 0;
    let kurt = 0;
    for (let j = 0; j < dims; j++) {
      trace += cov[j * dims + j] / sigma2;
      const diff = (j === k ? o.muT : 0) - mean[j];
      mahalanobis += (diff * diff) / sigma2;
      let m4 = 0;
      for (const b of rows) m4 += (z[b * dims + j] - mean[j]) ** 4 / n;
      kurt += m4 / cov[j * dims + j] ** 2 / dims;
    }
    const excess = kurt - 3;
    const penalty = o.kurtosis === 'linear' ? excess : o.kurtosis === 'abs' ? Math.abs(excess) : excess * excess;
    total += dims * Math.log(sigma2) - logDet - dims + trace + mahalanobis + o.lambda * penalty;
  }
  return total;
}

function randomBatch(seed: number, batch: number, dims: number, scale: number) {
  const rng = new Random(seed);
  const labels = new Int32Array(batch).map(() => rng.int(dims));
  labels[0] = 0; // one class with a single sample is skipped: make sure one exists
  for (let b = 1; b < batch; b++) if (labels[b] === 0) labels[b] = 1;
  const z = new Float64Array(batch * dims).map(() => scale * rng.normal() + rng.uniform(-5, 5));
  return { labels, z };
}

const configs: GccsOptions[] = [
  GCCS_DEFAULTS,
  { ...GCCS_DEFAULTS, muT: 10, sigmaT: 2, lambda: 0.5, kurtosis: 'abs' },
  { ...GCCS_DEFAULTS, muT: 5, sigmaT: 0.5, lambda: 1, kurtosis: 'squared', ridge: 1e-3 },
];

test('GCCS loss equals an independent float64 computation (relative error < 1e-4)', async () => {
  await tf.setBackend('cpu');
  configs.forEach((options, c) => {
    for (const [batch, dims] of [[200, 10], [60, 4], [30, 3]]) {
      const { z, labels } = randomBatch(100 + c * 7 + dims, batch, dims, 3);
      const expected = referenceLoss(z, labels, dims, options);
      const actual = tf.tidy(() => gccsLoss(tf.tensor2d(Float32Array.from(z), [batch, dims]), labels, options).dataSync()[0]);
      const relative = Math.abs(actual - expected) / Math.abs(expected);
      assert.ok(relative < 1e-4, `config ${c} B=${batch} D=${dims}: ${actual} vs ${expected} (rel ${relative})`);
    }
  });
});

test('GCCS gradient matches central finite differences of the float64 reference', async () => {
  await tf.setBackend('cpu');
  configs.forEach((options, c) => {
    const [batch, dims] = [40, 4];
    const { z, labels } = randomBatch(7 + c, batch, dims, 2);
    const grad = tf.tidy(() => {
      const g = tf.grad((x: tf.Tensor) => gccsLoss(x as tf.Tensor2D, labels, options));
      return g(tf.tensor2d(Float32Array.from(z), [batch, dims])).dataSync();
    });
    const rng = new Random(99 + c);
    let worst = 0;
    for (let t = 0; t < 30; t++) {
      const i = rng.int(batch * dims);
      const h = 1e-5;
      const plus = Float64Array.from(z);
      const minus = Float64Array.from(z);
      plus[i] += h;
      minus[i] -= h;
      const numeric = (referenceLoss(plus, labels, dims, options) - referenceLoss(minus, labels, dims, options)) / (2 * h);
      const error = Math.abs(grad[i] - numeric) / Math.max(1, Math.abs(numeric));
      worst = Math.max(worst, error);
    }
    assert.ok(worst < 1e-3, `config ${c}: worst gradient error ${worst}`);
  });
});

test('the KL part is 0 when the batch statistics equal the targets', async () => {
  await tf.setBackend('cpu');
  // Two samples per dimension at μ_T·e_k ± √D·σ_T·e_j give mean μ_T·e_k and covariance σ_T²·I exactly.
  const dims = 3;
  const options: GccsOptions = { ...GCCS_DEFAULTS, muT: 8, sigmaT: 1.5, lambda: 0, ridge: 0 };
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let k = 0; k < dims; k++) {
    for (let j = 0; j < dims; j++) {
      for (const sign of [1, -1]) {
        const row = new Array(dims).fill(0);
        row[k] += options.muT;
        row[j] += sign * Math.sqrt(dims) * options.sigmaT;
        rows.push(row);
        labels.push(k);
      }
    }
  }
  const value = tf.tidy(() => gccsLoss(tf.tensor2d(rows), Int32Array.from(labels), options).dataSync()[0]);
  assert.ok(Math.abs(value) < 1e-4, `KL at the target is ${value}`);
  const moved = rows.map((row) => row.map((v) => v + 0.5));
  const away = tf.tidy(() => gccsLoss(tf.tensor2d(moved), Int32Array.from(labels), options).dataSync()[0]);
  assert.ok(away > 0.1, `KL away from the target is ${away}`);
});

test('warns when μ_T/σ_T ≤ √(2D), and when batches hold few samples of each class', () => {
  assert.equal(gccsWarnings({ ...GCCS_DEFAULTS, muT: 4, sigmaT: 1 }, 10, 100).length, 1);
  assert.equal(gccsWarnings(GCCS_DEFAULTS, 10, 100).length, 0);
  const [small] = gccsWarnings(GCCS_DEFAULTS, 100, 100);
  assert.match(small, /^batch size 100 gives about 1\.0 samples per class: .* use a batch size of 400 or more$/);
});
