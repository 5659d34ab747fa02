/**
 * The converged GCCS loss (core/loss/converged.ts, a closed form) against its definition: the mean
 * of gccsLoss over batches whose outputs are drawn from the targets N(μ_T e_y, σ_T² I), with labels
 * drawn uniformly (fixed seeds). The closed form leaves out the ridge's shift of the non-zero
 * eigenvalues (it raises log|S + rI| by about r·tr S⁻¹, so the closed form reads up to ~1% high).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { GCCS_DEFAULTS, GccsOptions, convergedGccsLoss, gccsLoss } from '../../src/core/loss';
import { digamma } from '../../src/core/loss/converged';
import { Random } from '../../src/core/random';

test('digamma: ψ(1) = −γ, ψ(1/2) = −γ − 2 ln 2, ψ(x + 1) = ψ(x) + 1/x', () => {
  const gamma = 0.5772156649015329;
  assert.ok(Math.abs(digamma(1) + gamma) < 1e-12);
  assert.ok(Math.abs(digamma(0.5) + gamma + 2 * Math.LN2) < 1e-12);
  for (const x of [0.3, 2.5, 9.9, 10, 17.25]) assert.ok(Math.abs(digamma(x + 1) - digamma(x) - 1 / x) < 1e-12, `at ${x}`);
});

/** Mean and standard error of gccsLoss over `batches` batches drawn from the targets. */
function sampledLoss(options: GccsOptions, dims: number, batchSize: number, batches: number, seed: number): { mean: number; error: number } {
  const random = new Random(seed);
  const losses: number[] = [];
  for (let i = 0; i < batches; i++) {
    const labels = Int32Array.from({ length: batchSize }, () => random.int(dims));
    const z = new Float32Array(batchSize * dims);
    labels.forEach((y, b) => {
      for (let j = 0; j < dims; j++) z[b * dims + j] = (j === y ? options.muT : 0) + options.sigmaT * random.normal();
    });
    losses.push(tf.tidy(() => gccsLoss(tf.tensor2d(z, [batchSize, dims]), labels, options).dataSync()[0]));
  }
  const mean = losses.reduce((a, b) => a + b, 0) / batches;
  const variance = losses.reduce((a, b) => a + (b - mean) ** 2, 0) / (batches - 1);
  return { mean, error: Math.sqrt(variance / batches) };
}

const cases: [string, GccsOptions, number, number, number][] = [
  // D = 10, B = 100: most classes have n ≤ D samples, a singular covariance held up by the ridge.
  ["the paper's settings, batch 100", { ...GCCS_DEFAULTS }, 10, 100, 300],
  ['batch 256 (full-rank covariances)', { ...GCCS_DEFAULTS }, 10, 256, 150],
  ['batch 32 (2–3 samples per class), |K − 3| penalty', { ...GCCS_DEFAULTS, kurtosis: 'abs' }, 10, 32, 300],
  ['D = 4, μ_T 10, σ_T 2, λ 1, (K − 3)² penalty', { ...GCCS_DEFAULTS, muT: 10, sigmaT: 2, lambda: 1, kurtosis: 'squared' }, 4, 64, 600],
];

for (const [name, options, dims, batchSize, batches] of cases) {
  test(`converged GCCS loss = mean gccsLoss of target-distributed outputs: ${name}`, async () => {
    await tf.setBackend('cpu');
    const closed = convergedGccsLoss(options, dims, batchSize);
    const sampled = sampledLoss(options, dims, batchSize, batches, 1000 + batchSize);
    const gap = Math.abs(sampled.mean - closed);
    assert.ok(gap <= 4 * sampled.error + 0.01 * Math.abs(closed), `closed form ${closed.toFixed(3)}, sampled ${sampled.mean.toFixed(3)} ± ${sampled.error.toFixed(3)}`);
  });
}

test('the converged loss does not depend on μ_T or σ_T, and falls as batches grow (better class statistics)', () => {
  const base = convergedGccsLoss(GCCS_DEFAULTS, 10, 100);
  assert.equal(convergedGccsLoss({ ...GCCS_DEFAULTS, muT: 5, sigmaT: 3 } as GccsOptions, 10, 100), base);
  const sizes = [32, 64, 100, 256, 1000].map((b) => convergedGccsLoss(GCCS_DEFAULTS, 10, b));
  sizes.slice(1).forEach((value, i) => assert.ok(value < sizes[i], `${value} < ${sizes[i]}`));
});
