/**
 * The robustness panel's adversarial-example gallery (a worker's `examples` request): the first
 * samples of a sweep cell attacked exactly as the sweep attacked them — the cell's model, test split,
 * attack and parameters, in whole batches of the cell's batch size with batch i at seed + i
 * (robustness/samples.ts) — so the images shown are the points the cell counted.
 */
import { AttackCancelled, attackBatch, resolveAttackParams } from '../attacks';
import { classCount, outputsOf } from '../attacks/common';
import { makeBatch } from '../data/batches';
import { UserError } from '../errors';
import { loadModelDir } from '../io/modelDir';
import { GALLERY_LIMITS } from '../limits';
import { argmaxRows } from '../metrics/classification';
import { assertInputShape, assertOutputWidth } from '../models/compatibility';
import { cellAttack, testSplit } from '../sweep/evaluateCell';
import type { AdversarialExample, ExampleOutcome, ExamplesOptions, ExamplesOutput } from './types';

/** The sample's outcome as the sweep counts it: robust only when classified correctly before and after. */
export function exampleOutcome(label: number, before: number, after: number): ExampleOutcome {
  if (before !== label) return 'misclassified';
  return after === label ? 'robust' : 'broken';
}

/** One sample's record; the norms in float64 of the float32 values. */
function example(index: number, label: number, before: number, after: number, clean: Float32Array, adversarial: Float32Array): AdversarialExample {
  let linf = 0;
  let squares = 0;
  let cleanLinf = 0;
  let cleanSquares = 0;
  for (let i = 0; i < clean.length; i++) {
    const n = adversarial[i] - clean[i];
    linf = Math.max(linf, Math.abs(n));
    squares += n * n;
    cleanLinf = Math.max(cleanLinf, Math.abs(clean[i]));
    cleanSquares += clean[i] * clean[i];
  }
  const l2 = Math.sqrt(squares);
  return {
    index,
    label,
    before,
    after,
    outcome: exampleOutcome(label, before, after),
    clean: Array.from(clean),
    adversarial: Array.from(adversarial),
    linf,
    l2,
    // An all-black image has no relative perturbation.
    linfRatio: cleanLinf > 0 ? linf / cleanLinf : null,
    l2Ratio: cleanSquares > 0 ? l2 / Math.sqrt(cleanSquares) : null,
  };
}

/** The first `options.count` samples of the cell, clean and attacked, with the model's predictions. Cancelled through `signal` with AttackCancelled. */
export async function computeExamples(options: ExamplesOptions, signal?: AbortSignal): Promise<ExamplesOutput> {
  const { cell } = options;
  if (!Number.isInteger(options.count) || options.count < 1 || options.count > GALLERY_LIMITS.samples) {
    throw new UserError(`the gallery's sample count must be a whole number in 1…${GALLERY_LIMITS.samples} (got ${options.count})`);
  }
  if (!Number.isInteger(cell.batchSize) || cell.batchSize < 1)
    throw new UserError(`cell ${cell.id}: batch size must be a whole number ≥ 1 (got ${cell.batchSize})`);
  const { model, modelJson } = await loadModelDir(cell.model);
  try {
    const { test, classNames, source } = await testSplit(cell.data);
    assertOutputWidth(model, modelJson, classNames.length, source);
    assertInputShape(model, modelJson, test.shape);
    const attacked = Math.min(cell.count, test.labels.length);
    const count = Math.min(options.count, attacked);
    const size = test.shape[0] * test.shape[1] * test.shape[2];
    if (2 * count * size > GALLERY_LIMITS.values) {
      const most = Math.floor(GALLERY_LIMITS.values / (2 * size));
      throw new UserError(
        `${count} samples of ${test.shape.join('×')} hold more values than a gallery shows (${GALLERY_LIMITS.values}): ask for at most ${most}`,
      );
    }
    // A cell read back from a results file is checked again, as a user's input: its attack and parameters against the catalog.
    const [name, given] = cellAttack(cell);
    const params = resolveAttackParams(name, given);
    const dims = classCount(model);
    const samples: AdversarialExample[] = [];
    for (let start = 0, batchIndex = 0; start < count; start += cell.batchSize, batchIndex++) {
      if (signal?.aborted) throw new AttackCancelled();
      // The whole batch the sweep attacked: random starts, SPSA's and Square's draws and early stops depend on the batch.
      const indices = Array.from({ length: Math.min(cell.batchSize, attacked - start) }, (_, i) => start + i);
      const { x, y } = makeBatch(test, indices);
      y.dispose();
      const labels = Int32Array.from(indices, (i) => test.labels[i]);
      try {
        const before = argmaxRows(outputsOf(model, x), dims);
        const output = await attackBatch(model, name, x, labels, params, cell.seed + batchIndex, signal);
        const after = argmaxRows(outputsOf(model, output.adversarial), dims);
        const adversarial = Float32Array.from(output.adversarial.dataSync() as Float32Array);
        output.adversarial.dispose();
        const clean = x.dataSync() as Float32Array;
        const shown = Math.min(indices.length, count - start);
        for (let b = 0; b < shown; b++) {
          const row = (values: Float32Array) => values.subarray(b * size, (b + 1) * size);
          samples.push(example(start + b, labels[b], before[b], after[b], row(clean), row(adversarial)));
        }
      } finally {
        x.dispose();
      }
    }
    const norm = (cell.params as { norm?: 'linf' | 'l2' }).norm ?? null;
    return {
      cellId: cell.id,
      model: modelJson,
      attack: cell.attack,
      eps: cell.eps,
      norm,
      seed: cell.seed,
      batchSize: cell.batchSize,
      shape: test.shape,
      classNames,
      samples,
    };
  } finally {
    model.dispose();
  }
}
