/**
 * Attacks with per-sample outcomes: which samples are still classified correctly after each attack.
 * The worst case over attacks is then exact (a per-sample minimum), and a cascade can attack only
 * the samples every earlier attack left standing.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import { AttackCancelled, AttackName, AttackParams, ResolvedAttackParams, attackBatch, resolveAttackParams } from '../attacks';
import { classCount, outputsOf } from '../attacks/common';
import { makeBatch } from '../data/batches';
import type { Examples } from '../data/types';
import { UserError } from '../errors';
import { argmaxRows } from '../metrics/classification';

export interface SampleAttackOptions {
  batchSize: number;
  /** Batch i uses seed + i, so a run is reproducible and a cell's result does not depend on the worker. */
  seed: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface SampleAttackResult {
  /** Per attacked sample (in the order of `indices`): 1 when classified correctly before the attack. */
  clean: Uint8Array;
  /** Per attacked sample: 1 when classified correctly before and after the attack. */
  robust: Uint8Array;
  /** DeepFool: mean ‖r‖₂/‖x‖₂ over the samples classified correctly before the attack (NaN if none). */
  rho?: number;
  /** JSMA: mean fraction of input values changed over the same samples (NaN if none). */
  meanChangedPixels?: number;
  seconds: number;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** The samples `indices` of `examples`, attacked batch by batch in order; `params` as resolveAttackParams gives them. */
export async function attackSamples<N extends AttackName>(
  model: tfl.LayersModel,
  examples: Examples,
  indices: ArrayLike<number>,
  name: N,
  params: ResolvedAttackParams<N>,
  options: SampleAttackOptions,
): Promise<SampleAttackResult> {
  const started = performance.now();
  const dims = classCount(model);
  const clean = new Uint8Array(indices.length);
  const robust = new Uint8Array(indices.length);
  let ratios: number[] | undefined;
  let changed: number[] | undefined;
  for (let start = 0, batchIndex = 0; start < indices.length; start += options.batchSize, batchIndex++) {
    if (options.signal?.aborted) throw new AttackCancelled();
    const batch = Array.from({ length: Math.min(options.batchSize, indices.length - start) }, (_, i) => indices[start + i]);
    const { x, y } = makeBatch(examples, batch);
    y.dispose();
    const labels = Int32Array.from(batch, (i) => examples.labels[i]);
    try {
      const before = argmaxRows(outputsOf(model, x), dims);
      const output = await attackBatch(model, name, x, labels, params, options.seed + batchIndex, options.signal);
      const after = argmaxRows(outputsOf(model, output.adversarial), dims);
      output.adversarial.dispose();
      const { perturbationNorms, changedPixelFraction } = output;
      const imageNorms = perturbationNorms && (tf.tidy(() => tf.norm(tf.reshape(x, [batch.length, -1]), 2, 1).dataSync()) as Float32Array);
      if (perturbationNorms) ratios ??= [];
      if (changedPixelFraction) changed ??= [];
      labels.forEach((label, b) => {
        if (before[b] !== label) return;
        clean[start + b] = 1;
        robust[start + b] = after[b] === label ? 1 : 0;
        // An all-black image has no relative perturbation.
        if (perturbationNorms && imageNorms && imageNorms[b] > 0) ratios?.push(perturbationNorms[b] / imageNorms[b]);
        if (changedPixelFraction) changed?.push(changedPixelFraction[b]);
      });
    } finally {
      x.dispose();
    }
    options.onProgress?.(start + batch.length, indices.length);
  }
  return {
    clean,
    robust,
    ...(ratios && { rho: mean(ratios) }),
    ...(changed && { meanChangedPixels: mean(changed) }),
    seconds: (performance.now() - started) / 1000,
  };
}

/** 1 for each sample of `examples` the model classifies correctly. */
export function cleanCorrect(model: tfl.LayersModel, examples: Examples, batchSize: number): Uint8Array {
  const dims = classCount(model);
  const correct = new Uint8Array(examples.labels.length);
  for (let start = 0; start < correct.length; start += batchSize) {
    const batch = Array.from({ length: Math.min(batchSize, correct.length - start) }, (_, i) => start + i);
    const { x, y } = makeBatch(examples, batch);
    y.dispose();
    const predicted = argmaxRows(outputsOf(model, x), dims);
    x.dispose();
    batch.forEach((i, b) => (correct[i] = predicted[b] === examples.labels[i] ? 1 : 0));
  }
  return correct;
}

/** Fraction of the flags that are 1 (0 for none). */
export function fractionOf(flags: Uint8Array): number {
  let ones = 0;
  for (const flag of flags) ones += flag;
  return flags.length ? ones / flags.length : 0;
}

export interface AttackEvaluationOptions {
  /** Default 100, as in the paper. */
  batchSize?: number;
  seed: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface AttackEvaluation<N extends AttackName> {
  /** Fraction of all samples classified correctly after the attack (clean mistakes count as wrong). */
  accuracy: number;
  cleanAccuracy: number;
  count: number;
  /**
   * DeepFool: ρ = mean of ‖r‖₂/‖x‖₂ over the samples classified correctly before the attack
   * (the others need no perturbation); NaN if there are none.
   */
  rho?: number;
  /** JSMA: mean fraction of input values changed, over the samples classified correctly before the attack; NaN if none. */
  meanChangedPixels?: number;
  seconds: number;
  params: ResolvedAttackParams<N>;
}

/**
 * Attacks every example, batch by batch in order, and reports accuracy under attack: attackSamples
 * over all of `examples`, summed up, the parameters checked once here. Cancelled through `signal`
 * with AttackCancelled.
 */
export async function evaluateAttack<N extends AttackName>(
  model: tfl.LayersModel,
  examples: Examples,
  name: N,
  params: AttackParams,
  options: AttackEvaluationOptions,
): Promise<AttackEvaluation<N>> {
  const resolved = resolveAttackParams(name, params);
  const batchSize = options.batchSize ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UserError(`attack batch size must be a whole number ≥ 1 (got ${batchSize})`);
  const count = examples.labels.length;
  const indices = Int32Array.from({ length: count }, (_, i) => i);
  const result = await attackSamples(model, examples, indices, name, resolved, { ...options, batchSize });
  return {
    accuracy: fractionOf(result.robust),
    cleanAccuracy: fractionOf(result.clean),
    count,
    rho: result.rho,
    meanChangedPixels: result.meanChangedPixels,
    seconds: result.seconds,
    params: resolved,
  };
}
