/**
 * The robustness panel's adversarial-example gallery, worker side (src/core/inspect/examples.ts):
 * the images it returns are exactly attackBatch's for those samples with the cell's seeds (batch i
 * at seed + i), inside the cell's ε ball and [0, 1]; its predictions are the model's on those images
 * and its outcomes are the per-sample results the sweep recorded for the cell.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../../src/core/tf';
import { initBackend } from '../../src/core/backend';
import { attackBatch } from '../../src/core/attacks';
import { outputsOf } from '../../src/core/attacks/common';
import { makeBatch } from '../../src/core/data/batches';
import type { Examples } from '../../src/core/data/types';
import { UserError } from '../../src/core/errors';
import { computeExamples, exampleOutcome } from '../../src/core/inspect/examples';
import { loadModelDir } from '../../src/core/io/modelDir';
import { GALLERY_LIMITS } from '../../src/core/limits';
import { lossConfig } from '../../src/core/loss';
import { argmaxRows } from '../../src/core/metrics/classification';
import { decodeBits } from '../../src/core/robustness/bits';
import { CellEvaluator, planSweep } from '../../src/core/sweep';
import { cellAttack, testSplit } from '../../src/core/sweep/evaluateCell';
import type { SweepCell } from '../../src/core/sweep/types';
import { TRAIN_DEFAULTS } from '../../src/core/train/defaults';
import { train } from '../../src/core/train/trainer';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-examples-'));
const modelDir = path.join(dir, 'tiny');
let cells: SweepCell[];
let model: tfl.LayersModel;
let testSet: Examples;

before(async () => {
  await initBackend('wasm');
  await train(
    {
      dataset: { kind: 'synthetic', syntheticTrain: 600, syntheticTest: 200, seed: 1 },
      split: { trainRange: null, testRange: null, validationFraction: 0 },
      model: 'mlp',
      fineTuneFrom: null,
      loss: lossConfig('gccs'),
      optimizer: { ...TRAIN_DEFAULTS.optimizer, learningRate: 0.003 },
      batchSize: 50,
      epochs: 2,
      seed: 1,
      outDir: modelDir,
      resume: false,
    },
    'wasm',
    () => undefined,
  );
  // 70 samples in batches of 25: a gallery of 30 spans two batches, the second attacked whole (25 samples), as the sweep did.
  const plan = planSweep({
    models: [modelDir],
    attacks: [
      { name: 'pgd', eps: [0.08], params: { randomStart: true, steps: 5 } },
      { name: 'fgsm', eps: [0] },
      { name: 'square', eps: [0.1], params: { queries: 30, norm: 'l2' } },
    ],
    count: 70,
    batchSize: 25,
    seed: 7,
  });
  cells = plan.cells;
  model = (await loadModelDir(modelDir)).model;
  testSet = (await testSplit(cells[0].data)).test;
});

const cellOf = (attack: string) => cells.find((cell) => cell.attack === attack)!;
const predictions = (values: number[][], shape: number[]) => {
  const x = tf.tensor4d(values.flat(), [values.length, ...shape] as [number, number, number, number]);
  const predicted = argmaxRows(outputsOf(model, x), model.outputs[0].shape[1] as number);
  x.dispose();
  return Array.from(predicted);
};

for (const attack of ['pgd', 'square']) {
  test(`${attack}: the gallery's adversarial images are attackBatch's for those samples, batch i at seed + i; predictions are the model's; outcomes are the sweep's`, async () => {
    const cell = cellOf(attack);
    const output = await computeExamples({ cell, count: 30 });
    assert.equal(output.samples.length, 30);
    assert.deepEqual(
      output.samples.map((s) => s.index),
      Array.from({ length: 30 }, (_, i) => i),
    );
    assert.deepEqual(
      output.samples.map((s) => s.label),
      Array.from(testSet.labels.subarray(0, 30)),
    );
    assert.deepEqual([output.cellId, output.attack, output.eps, output.seed, output.batchSize, output.shape], [cell.id, attack, cell.eps, 7, 25, [28, 28, 1]]);
    assert.equal(output.classNames.length, 10);
    // The reference: the attack run directly on the sweep's whole batches.
    const [name, params] = cellAttack(cell);
    for (const [batchIndex, first, shown] of [
      [0, 0, 25],
      [1, 25, 5],
    ]) {
      const indices = Array.from({ length: 25 }, (_, i) => first + i);
      const { x, y } = makeBatch(testSet, indices);
      y.dispose();
      const reference = await attackBatch(
        model,
        name,
        x,
        Int32Array.from(indices, (i) => testSet.labels[i]),
        params,
        7 + batchIndex,
      );
      const values = reference.adversarial.dataSync() as Float32Array;
      const clean = x.dataSync() as Float32Array;
      for (let b = 0; b < shown; b++) {
        const sample = output.samples[first + b];
        assert.deepEqual(sample.adversarial, Array.from(values.subarray(b * 784, (b + 1) * 784)), `sample ${first + b}: the adversarial image`);
        assert.deepEqual(sample.clean, Array.from(clean.subarray(b * 784, (b + 1) * 784)), `sample ${first + b}: the clean image`);
      }
      reference.adversarial.dispose();
      x.dispose();
    }
    const eps = cell.eps as number;
    assert.equal(output.norm, attack === 'pgd' ? 'linf' : 'l2');
    for (const s of output.samples) {
      assert.ok(
        s.adversarial.every((v) => v >= 0 && v <= 1),
        `sample ${s.index}: values in [0, 1]`,
      );
      const n = s.adversarial.map((v, i) => v - s.clean[i]);
      const linf = Math.max(...n.map(Math.abs));
      const l2 = Math.hypot(...n);
      assert.equal(s.linf, linf);
      assert.ok(Math.abs(s.l2 - l2) <= 1e-9 * (1 + l2));
      const xInf = Math.max(...s.clean);
      const x2 = Math.hypot(...s.clean);
      assert.ok(Math.abs((s.linfRatio as number) - linf / xInf) < 1e-12 && Math.abs((s.l2Ratio as number) - l2 / x2) < 1e-9);
      // Inside the ε ball of the threat model (float32 rounding aside).
      if (attack === 'pgd') assert.ok(linf <= eps * xInf * (1 + 1e-5) + 1e-6, `sample ${s.index}: ‖n‖∞ ${linf} > ε‖x‖∞ ${eps * xInf}`);
      else assert.ok(l2 <= eps * x2 * (1 + 1e-5) + 1e-6, `sample ${s.index}: ‖n‖₂ ${l2} > ε‖x‖₂ ${eps * x2}`);
    }
    assert.ok(
      output.samples.some((s) => s.linf > 0),
      'the attack moved some image',
    );
    assert.deepEqual(
      output.samples.map((s) => s.after),
      predictions(
        output.samples.map((s) => s.adversarial),
        output.shape,
      ),
    );
    assert.deepEqual(
      output.samples.map((s) => s.before),
      predictions(
        output.samples.map((s) => s.clean),
        output.shape,
      ),
    );
    assert.deepEqual(
      output.samples.map((s) => s.outcome),
      output.samples.map((s) => exampleOutcome(s.label, s.before, s.after)),
    );
    // The points the sweep counted: its per-sample results for the cell say the same.
    const result = await new CellEvaluator('wasm').evaluate(cell);
    const robust = decodeBits(result.robust as string, result.count, 'cell');
    assert.deepEqual(
      output.samples.map((s) => (s.outcome === 'robust' ? 1 : 0)),
      Array.from(robust.subarray(0, 30)),
    );
  });
}

test('at ε = 0 (the clean pass) the adversarial images are the clean ones', async () => {
  const output = await computeExamples({ cell: cellOf('fgsm'), count: 12 });
  assert.equal(output.samples.length, 12);
  for (const s of output.samples) {
    assert.deepEqual(s.adversarial, s.clean);
    assert.equal(s.before, s.after);
    assert.deepEqual([s.linf, s.l2, s.linfRatio], [0, 0, 0]);
    assert.notEqual(s.outcome, 'broken');
  }
});

test('the outcome: broken only when classified correctly before and wrongly after', () => {
  assert.equal(exampleOutcome(3, 3, 5), 'broken');
  assert.equal(exampleOutcome(3, 3, 3), 'robust');
  assert.equal(exampleOutcome(3, 4, 3), 'misclassified');
  assert.equal(exampleOutcome(3, 4, 4), 'misclassified');
});

test('a count beyond the cell is cut to the cell; a count outside 1…limit, a missing model or a hostile cell is one line', async () => {
  const small = { ...cellOf('fgsm'), count: 5 };
  assert.equal((await computeExamples({ cell: small, count: 12 })).samples.length, 5);
  for (const count of [0, 1.5, GALLERY_LIMITS.samples + 1]) {
    await assert.rejects(
      computeExamples({ cell: small, count }),
      (error: Error) => error instanceof UserError && /sample count must be a whole number/.test(error.message),
    );
  }
  await assert.rejects(computeExamples({ cell: { ...small, model: path.join(dir, 'missing') }, count: 3 }), UserError);
  // A cell read from a hostile results file: its attack, parameters and batch size are checked again.
  const hostile = (change: object) => computeExamples({ cell: { ...cellOf('pgd'), ...change } as SweepCell, count: 3 });
  await assert.rejects(hostile({ attack: 'rm -rf' }), UserError);
  await assert.rejects(
    hostile({ params: { ...cellOf('pgd').params, steps: 1e12 } }),
    (error: Error) => error instanceof UserError && /steps/.test(error.message),
  );
  await assert.rejects(hostile({ batchSize: 0 }), (error: Error) => error instanceof UserError && /batch size/.test(error.message));
});
