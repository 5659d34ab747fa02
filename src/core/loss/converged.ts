/**
 * What a converged GCCS loss looks like: the expected loss of a training batch when the network's
 * outputs are distributed exactly as the targets, z ~ N(μ_T e_y, σ_T² I). It is not zero: each
 * class's mean and covariance are estimated from its few samples in the batch. No TensorFlow.js
 * here (the extension host shows it too).
 *
 * Closed form, per class with n ≥ 2 samples in the batch (in units of σ_T, r the ridge; with
 * S the class's maximum-likelihood covariance, n·S ~ Wishart_D(n − 1, I)):
 *   E[tr S] = D(n − 1)/n and E‖μ_T e_i − z̄‖² = D/n, which cancel the −D, leaving
 *   E[KL] = D·r − E[log|S + r·I|], where, with p = min(D, n − 1) and q = max(D, n − 1),
 *   E[log|S + r·I|] ≈ Σ_{j<p} ψ((q − j)/2) + p·ln 2 − p·ln n + (D − p)·ln r
 *   (the Wishart log-determinant of the p non-zero eigenvalues; the ridge kept only where S is
 *   singular, its D − p zero eigenvalues; elsewhere it shifts the value by about r·tr S⁻¹).
 *   The kurtosis of n normal samples, b₂, has E[b₂] = 3(n − 1)/(n + 1) and
 *   Var[b₂] = 24n(n − 2)(n − 3)/((n + 1)²(n + 3)(n + 5)); K is the mean of D independent ones.
 *   Linear penalty: λ·E[K − 3] = −6λ/(n + 1), exact; squared: λ(Var[b₂]/D + (6/(n + 1))²), exact;
 *   abs: λ·E|K − 3| with K taken as normal (exact as D grows).
 * The class counts of a batch of B drawn at random from equally frequent classes are
 * Binomial(B, 1/D); classes with fewer than 2 samples add nothing, as in the loss.
 * μ_T and σ_T drop out: the figure depends on B, D, λ, the kurtosis penalty and the ridge only.
 * test/unit/loss-converged.test.ts checks it against the mean of gccsLoss on sampled batches.
 */
import type { GccsOptions } from '../catalog';

/** ψ, the digamma function, for x > 0: the recurrence up to x ≥ 10, then its asymptotic series (error < 1e-13). */
export function digamma(x: number): number {
  let shift = 0;
  for (; x < 10; x++) shift -= 1 / x;
  const f = 1 / (x * x);
  return shift + Math.log(x) - 0.5 / x - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f / 132))));
}

/** The standard normal CDF Φ (Abramowitz & Stegun 7.1.26 through erf; absolute error < 1.5e-7). */
function normalCdf(x: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const erf = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** E[penalty(K − 3)] for one class of n samples in D dimensions. */
function expectedPenalty(n: number, dims: number, kurtosis: GccsOptions['kurtosis']): number {
  const mean = -6 / (n + 1);
  const variance = (24 * n * (n - 2) * (n - 3)) / ((n + 1) ** 2 * (n + 3) * (n + 5)) / dims;
  if (kurtosis === 'linear') return mean;
  if (kurtosis === 'squared') return variance + mean * mean;
  // E|X| of X ~ N(mean, variance).
  if (variance === 0) return Math.abs(mean);
  const sd = Math.sqrt(variance);
  return sd * Math.sqrt(2 / Math.PI) * Math.exp(-(mean * mean) / (2 * variance)) + mean * (1 - 2 * normalCdf(-mean / sd));
}

/** The expected GCCS loss of one class with n ≥ 2 samples in the batch. */
function expectedClassLoss(n: number, dims: number, options: Pick<GccsOptions, 'lambda' | 'kurtosis' | 'ridge'>): number {
  const p = Math.min(dims, n - 1);
  const q = Math.max(dims, n - 1);
  let logDet = p * Math.log(2) - p * Math.log(n) + (dims - p) * Math.log(options.ridge);
  for (let j = 0; j < p; j++) logDet += digamma((q - j) / 2);
  return dims * options.ridge - logDet + options.lambda * expectedPenalty(n, dims, options.kurtosis);
}

/**
 * The expected GCCS loss of a batch of `batchSize` samples over `numClasses` equally frequent
 * classes when the outputs follow the targets exactly: what a converged training's loss is near
 * (an epoch's loss is the mean of its batches').
 */
export function convergedGccsLoss(options: Pick<GccsOptions, 'lambda' | 'kurtosis' | 'ridge'>, numClasses: number, batchSize: number): number {
  const p = 1 / numClasses;
  // Binomial(B, p) probabilities by their recurrence, from P(0) = (1 − p)^B (in logs: no underflow for large B).
  let logP = batchSize * Math.log1p(-p);
  let total = 0;
  for (let n = 0; n <= batchSize; n++) {
    if (n > 0) logP += Math.log((batchSize - n + 1) / n) + Math.log(p / (1 - p));
    if (n >= 2) total += Math.exp(logP) * expectedClassLoss(n, numClasses, options);
  }
  return numClasses * total;
}

/**
 * The line the CLI and the extension print beside a GCCS training's losses. With W processes each
 * computes the loss on its share of a batch (B/W samples), so the figure is for a share.
 */
export function convergedLossNote(options: Pick<GccsOptions, 'lambda' | 'kurtosis' | 'ridge'>, numClasses: number, batchSize: number, workers = 1): string {
  const share = Math.max(1, Math.round(batchSize / workers));
  const per = workers > 1 ? `per share of ${share} samples (batch ${batchSize} on ${workers} processes)` : `per batch of ${batchSize}`;
  const value = convergedGccsLoss(options, numClasses, share);
  return `a converged GCCS loss is about ${value.toFixed(1)} ${per}: its mean when the ${numClasses} outputs follow the targets N(μ_T·e_y, σ_T²·I) exactly`;
}
