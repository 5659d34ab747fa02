import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../../src/core/tf';
import { initBackend } from '../../src/core/backend';
import type { Examples } from '../../src/core/data';
import { UserError } from '../../src/core/errors';
import { ATTACK_NAMES, AttackName, AttackParams, attackBatch, resolveAttackParams } from '../../src/core/attacks';
import { evaluateAttack } from '../../src/core/robustness/samples';
import { Random } from '../../src/core/random';
import { linearModel as linearModelOf } from '../helpers/linearModel';

const SIDE = 6;
const SIZE = SIDE * SIDE;
const CLASSES = 3;

const linearModel = (w: number[][], b: number[]) => linearModelOf(w, b, SIDE);

/** Class k is "bright block k" (rows 2k, 2k+1): weight 1 on its block, −0.2 elsewhere. */
const blockModel = () =>
  linearModel(Array.from({ length: CLASSES }, (_, k) => Array.from({ length: SIZE }, (_, p) => (Math.floor(p / (2 * SIDE)) === k ? 1 : -0.2))), [0, 0, 0]);

/** Images of the block classes: the label's block at ~0.8, the rest at ~0.1, as bytes. */
function blockExamples(count: number, seed: number): Examples {
  const random = new Random(seed);
  const labels = Int32Array.from({ length: count }, (_, b) => b % CLASSES);
  const pixels = Uint8Array.from({ length: count * SIZE }, (_, i) => {
    const inBlock = Math.floor((i % SIZE) / (2 * SIDE)) === labels[Math.floor(i / SIZE)];
    return Math.round(255 * (inBlock ? random.uniform(0.7, 0.9) : random.uniform(0, 0.2)));
  });
  return { pixels, labels, shape: [SIDE, SIDE, 1] };
}

async function attack(model: tfl.LayersModel, name: AttackName, examples: Examples, params: AttackParams) {
  const x = tf.tensor4d(Float32Array.from(examples.pixels, (v) => v / 255), [examples.labels.length, SIDE, SIDE, 1]);
  const output = await attackBatch(model, name, x, examples.labels, resolveAttackParams(name, params), 0);
  const result = { ...output, adversarial: output.adversarial.dataSync() as Float32Array, clean: x.dataSync() as Float32Array };
  tf.dispose([x, output.adversarial]);
  return result;
}

function predictions(model: tfl.LayersModel, x: Float32Array): number[] {
  const z = tf.tidy(() => (model.predict(tf.tensor4d(x, [x.length / SIZE, SIDE, SIDE, 1])) as tf.Tensor).dataSync());
  const dims = z.length / (x.length / SIZE);
  return Array.from({ length: x.length / SIZE }, (_, b) => {
    const row = Array.from(z.subarray(b * dims, (b + 1) * dims));
    return row.indexOf(Math.max(...row));
  });
}

test('JSMA reaches the target y+1 mod D, and never changes more values than γ allows', async () => {
  await initBackend('wasm');
  const model = blockModel();
  const examples = blockExamples(6, 1);
  assert.deepEqual(predictions(model, Float32Array.from(examples.pixels, (v) => v / 255)), Array.from(examples.labels));
  for (const gamma of [0.5, 0.1]) {
    const { adversarial, clean, changedPixelFraction } = await attack(model, 'jsma', examples, { gamma });
    const reached = predictions(model, adversarial);
    examples.labels.forEach((label, b) => {
      let changed = 0;
      for (let p = b * SIZE; p < (b + 1) * SIZE; p++) {
        if (adversarial[p] !== clean[p]) {
          changed++;
          assert.equal(adversarial[p], 1, 'JSMA sets a chosen value to the maximum');
        }
      }
      assert.ok(changed <= Math.floor(gamma * SIZE), `γ = ${gamma}, sample ${b}: ${changed} values changed`);
      assert.equal(changedPixelFraction?.[b], Math.fround(changed / SIZE));
      if (gamma === 0.5) assert.equal(reached[b], (label + 1) % CLASSES, `sample ${b} reached its target`);
    });
  }
  model.dispose();
});

test('DeepFool on a two-class linear model moves each sample |f(x)|/‖w0 − w1‖ (× 1 + overshoot) toward the hyperplane', async () => {
  await initBackend('wasm');
  const random = new Random(2);
  const w = Array.from({ length: 2 }, () => Array.from({ length: SIZE }, () => random.normal() * 0.3));
  const b = [0.2, -0.1];
  const model = linearModel(w, b);
  const count = 8;
  const pixels = Uint8Array.from({ length: count * SIZE }, () => Math.round(255 * random.uniform(0.35, 0.65)));
  const x = Float32Array.from(pixels, (v) => v / 255);
  const examples: Examples = { pixels, labels: Int32Array.from(predictions(model, x)), shape: [SIDE, SIDE, 1] };
  const { adversarial, perturbationNorms } = await attack(model, 'deepfool', examples, { overshoot: 0.02 });
  const normal = w[0].map((v, p) => v - w[1][p]);
  const normalLength = Math.hypot(...normal);
  const flipped = predictions(model, adversarial);
  for (let s = 0; s < count; s++) {
    const f = normal.reduce((sum, v, p) => sum + v * x[s * SIZE + p], b[0] - b[1]);
    const expected = (1.02 * Math.abs(f)) / normalLength;
    const actual = perturbationNorms?.[s] ?? NaN;
    assert.ok(Math.abs(actual - expected) <= 0.01 * expected, `sample ${s}: ‖r‖ = ${actual}, expected ${expected}`);
    assert.notEqual(flipped[s], examples.labels[s], `sample ${s} crossed the boundary`);
  }
  model.dispose();
});

test('bad attack parameters give one-line UserErrors; defaults fill in the rest', () => {
  const bad: [string, AttackParams, RegExp][] = [
    ['cw', {}, /^unknown attack "cw": expected one of fgsm, pgd, tgsm, jsma, deepfool, spsa, apgd-ce, apgd-dlr, apgd-t, fab-t, square$/],
    ['fgsm', { eps: -0.1 }, /^fgsm: eps must be a number in \[0, 1\], relative to the image .* \(got -0\.1\)$/],
    ['pgd', { eps: 1.5 }, /^pgd: eps must be/],
    ['pgd', { steps: 0 }, /^pgd: steps must be a whole number from 1 to 10000 \(got 0\)$/],
    ['pgd', { steps: 2.5 }, /^pgd: steps must be/],
    ['jsma', { gamma: 0 }, /^jsma: gamma must be a number in \(0, 1\]/],
    ['jsma', { gamma: 1.2 }, /^jsma: gamma must be/],
    ['tgsm', { target: -1 }, /^tgsm: target must be next, least-likely or a class index ≥ 0/],
    ['pgd', { loss: 'hinge' as 'margin' }, /^pgd: loss must be crossentropy, margin, dlr, latent \(got "hinge"\)$/],
    ['deepfool', { overshoot: -1 }, /^deepfool: overshoot must be/],
    ['spsa', { delta: 0 }, /^spsa: delta must be a number > 0/],
    ['fgsm', { gamma: 0.1 }, /^fgsm takes no parameter "gamma" \(it takes eps, norm, loss, muT\)$/],
  ];
  for (const [name, params, message] of bad) {
    assert.throws(() => resolveAttackParams(name as AttackName, params), (error: unknown) => {
      assert.ok(error instanceof UserError, `${name} ${JSON.stringify(params)} gives a UserError`);
      assert.match(error.message, message);
      assert.ok(!error.message.includes('\n'));
      return true;
    });
  }
  assert.deepEqual(resolveAttackParams('pgd', { eps: 0.2, gamma: undefined }), {
    eps: 0.2, norm: 'linf', steps: 5, stepSize: 0.1, randomStart: false, restarts: 1, loss: 'crossentropy', muT: 70,
  });
  assert.equal(resolveAttackParams('jsma').maxIterations, 200);
  assert.equal(resolveAttackParams('deepfool').maxIterations, 50);
});

test('evaluateAttack: no tensor leaks, reproducible, clean mistakes count as failures', async () => {
  await initBackend('wasm');
  const model = blockModel();
  const examples = blockExamples(10, 3);
  examples.labels[0] = 1; // now misclassified before any attack
  const quick: Record<AttackName, AttackParams> = {
    fgsm: { eps: 0.5 },
    pgd: { eps: 0.5, randomStart: true },
    tgsm: { eps: 0.5 },
    jsma: { gamma: 0.5 },
    deepfool: {},
    spsa: { eps: 1, iterations: 10, samples: 4, learningRate: 0.1 },
    'apgd-ce': { eps: 0.5, iterations: 10 },
    'apgd-dlr': { eps: 0.5, iterations: 10 },
    'apgd-t': { eps: 0.5, iterations: 10, targetCount: 1 },
    'fab-t': { eps: 0.5, iterations: 10, targetCount: 1 },
    square: { eps: 0.5, queries: 50 },
  };
  for (const name of ATTACK_NAMES) {
    const before = tf.memory().numTensors;
    const progress: number[] = [];
    const result = await evaluateAttack(model, examples, name, quick[name], { batchSize: 4, seed: 5, onProgress: (done) => progress.push(done) });
    assert.equal(tf.memory().numTensors, before, `${name} leaks no tensors`);
    assert.deepEqual(progress, [4, 8, 10]);
    assert.equal(result.count, 10);
    assert.equal(result.cleanAccuracy, 0.9, name);
    assert.ok(result.accuracy < result.cleanAccuracy, `${name} lowers the accuracy (${result.accuracy})`);
    assert.equal((result.rho ?? -1) > 0, name === 'deepfool', `${name}: ρ = ${result.rho}`);
    assert.equal((result.meanChangedPixels ?? -1) > 0, name === 'jsma', `${name}: changed pixels ${result.meanChangedPixels}`);
    const again = await evaluateAttack(model, examples, name, quick[name], { batchSize: 4, seed: 5 });
    assert.deepEqual({ ...again, seconds: 0 }, { ...result, seconds: 0 }, `${name} is reproducible`);
  }
  const zero = await evaluateAttack(model, examples, 'fgsm', { eps: 0 }, { seed: 0 });
  assert.equal(zero.accuracy, zero.cleanAccuracy, 'ε = 0 changes nothing');
  // Aborted between two batches, and in the middle of a long attack: nothing is left behind.
  const before = tf.memory().numTensors;
  const betweenBatches = new AbortController();
  await assert.rejects(
    evaluateAttack(model, examples, 'pgd', {}, { batchSize: 4, seed: 0, signal: betweenBatches.signal, onProgress: () => betweenBatches.abort() }),
    { name: 'AttackCancelled' },
  );
  const midAttack = new AbortController();
  setTimeout(() => midAttack.abort(), 20);
  await assert.rejects(
    evaluateAttack(model, examples, 'spsa', { iterations: 10000, earlyStop: false }, { seed: 0, signal: midAttack.signal }),
    { name: 'AttackCancelled' },
  );
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
