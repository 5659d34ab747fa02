import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../../src/core/tf';
import { initBackend } from '../../src/core/backend';
import { AttackName, AttackParams, attackBatch, resolveAttackParams } from '../../src/core/attacks';
import { attackLoss } from '../../src/core/attacks/objectives';
import { Random } from '../../src/core/random';
import { linearModel as linearModelOf } from '../helpers/linearModel';

const SIDE = 4;
const SIZE = SIDE * SIDE;

const linearModel = (w: number[][], b: number[]) => linearModelOf(w, b, SIDE);

function randomRows(random: Random, rows: number, size: number, lo: number, hi: number): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: size }, () => random.uniform(lo, hi)));
}

/** Images whose maxima differ (1, 0.5, 0.25, …), so the per-sample scaling ε·‖x‖∞ shows. */
function images(random: Random, count: number): Float32Array {
  return Float32Array.from({ length: count * SIZE }, (_, i) => random.uniform(0, 1) / 2 ** (Math.floor(i / SIZE) % 3));
}

async function run(model: tfl.LayersModel, name: AttackName, x: Float32Array, labels: Int32Array, params: AttackParams, seed = 0) {
  const input = tf.tensor4d(x, [labels.length, SIDE, SIDE, 1]);
  const output = await attackBatch(model, name, input, labels, resolveAttackParams(name, params), seed);
  const adversarial = output.adversarial.dataSync() as Float32Array;
  tf.dispose([input, output.adversarial]);
  return adversarial;
}

function logits(model: tfl.LayersModel, x: Float32Array, count: number): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor4d(x, [count, SIDE, SIDE, 1])) as tf.Tensor).dataSync() as Float32Array);
}

test('FGSM on a two-class linear model is exactly clip(x − ε‖x‖∞·sign(w_y − w_other))', async () => {
  await initBackend('wasm');
  const random = new Random(1);
  const w = randomRows(random, 2, SIZE, -1, 1);
  const model = linearModel(w, [0.1, -0.2]);
  const count = 6;
  const x = images(random, count);
  const labels = Int32Array.from({ length: count }, (_, b) => b % 2);
  const eps = 0.3;
  const adversarial = await run(model, 'fgsm', x, labels, { eps });
  let clipped = 0;
  for (let b = 0; b < count; b++) {
    const row = x.subarray(b * SIZE, (b + 1) * SIZE);
    // float32 arithmetic, as the tensors do it
    const bound = Math.fround(Math.fround(eps) * Math.max(...row));
    for (let p = 0; p < SIZE; p++) {
      const sign = Math.sign(w[labels[b]][p] - w[1 - labels[b]][p]);
      const unclipped = Math.fround(row[p] - sign * bound);
      const expected = Math.min(Math.max(unclipped, 0), 1);
      if (expected !== unclipped) clipped++;
      assert.equal(adversarial[b * SIZE + p], expected, `sample ${b}, pixel ${p}`);
    }
  }
  assert.ok(clipped > 0, 'the pixel-range clipping was exercised');
  model.dispose();
});

test('PGD (random start, restarts), TGSM, SPSA, APGD and Square stay inside the ε·‖x‖∞ ball and [0, 1]', async () => {
  await initBackend('wasm');
  const random = new Random(2);
  const model = tfl.sequential();
  model.add(tfl.layers.flatten({ inputShape: [SIDE, SIDE, 1] }));
  model.add(tfl.layers.dense({ units: 8, activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed: 3 }) }));
  model.add(tfl.layers.dense({ units: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }) }));
  const count = 9;
  const x = images(random, count);
  const labels = Int32Array.from({ length: count }, (_, b) => b % 3);
  const eps = 0.2;
  const cases: [AttackName, AttackParams][] = [
    ['pgd', { eps, steps: 7, randomStart: true }],
    ['pgd', { eps, loss: 'margin', stepSize: 0.5 }],
    ['tgsm', { eps, steps: 4, target: 'least-likely', loss: 'latent', muT: 5 }],
    ['spsa', { eps, iterations: 5, samples: 4, learningRate: 0.1, earlyStop: false }],
    ['pgd', { eps, steps: 3, restarts: 3 }],
    ['apgd-ce', { eps, iterations: 10, restarts: 2 }],
    ['apgd-dlr', { eps, iterations: 10 }],
    ['apgd-t', { eps, iterations: 5, targetCount: 2 }],
    ['square', { eps, queries: 30 }],
  ];
  for (const [name, params] of cases) {
    const adversarial = await run(model, name, x, labels, params, 7);
    let moved = 0;
    for (let b = 0; b < count; b++) {
      const row = x.subarray(b * SIZE, (b + 1) * SIZE);
      const bound = eps * Math.max(...row);
      for (let p = 0; p < SIZE; p++) {
        const value = adversarial[b * SIZE + p];
        assert.ok(value >= 0 && value <= 1, `${name}: pixel ${value} outside [0, 1]`);
        assert.ok(Math.abs(value - row[p]) <= bound * (1 + 1e-6), `${name} sample ${b}: |n| = ${Math.abs(value - row[p])} > ${bound}`);
        moved = Math.max(moved, Math.abs(value - row[p]));
      }
    }
    assert.ok(moved > 0, `${name} perturbed something`);
  }
  model.dispose();
});

test('TGSM reaches its target (y+1 mod D) on an undefended 3-class linear model at large ε', async () => {
  await initBackend('wasm');
  const random = new Random(3);
  const model = linearModel(randomRows(random, 3, SIZE, -1, 1), [0, 0, 0]);
  const count = 12;
  const x = Float32Array.from({ length: count * SIZE }, () => random.uniform(0.2, 0.8));
  const labels = Int32Array.from({ length: count }, (_, b) => b % 3);
  const adversarial = await run(model, 'tgsm', x, labels, { eps: 1, steps: 10 });
  const z = logits(model, adversarial, count);
  for (let b = 0; b < count; b++) {
    const row = Array.from(z.subarray(b * 3, b * 3 + 3));
    assert.equal(row.indexOf(Math.max(...row)), (labels[b] + 1) % 3, `sample ${b}: z = ${row}`);
  }
  model.dispose();
});

test('the margin and latent losses have the right values and sign: an attack step increases them for the true class', async () => {
  await initBackend('wasm');
  const random = new Random(4);
  const dims = 3;
  const muT = 4;
  const model = linearModel(randomRows(random, dims, SIZE, -1, 1), [0.5, 0, -0.5]);
  const count = 6;
  const x = images(random, count);
  const labels = Int32Array.from({ length: count }, (_, b) => b % dims);
  const margin = (z: Float32Array, b: number) => Math.max(...[0, 1, 2].filter((j) => j !== labels[b]).map((j) => z[b * dims + j])) - z[b * dims + labels[b]];
  const latent = (z: Float32Array, b: number) => [0, 1, 2].reduce((sum, j) => sum + (z[b * dims + j] - (j === labels[b] ? muT : 0)) ** 2, 0);
  for (const [loss, reference] of [['margin', margin], ['latent', latent]] as const) {
    const z = logits(model, x, count);
    const values = tf.tidy(() => attackLoss(loss, tf.tensor2d(z, [count, dims]), labels, muT).dataSync());
    const attacked = logits(model, await run(model, 'fgsm', x, labels, { eps: 0.05, loss, muT }), count);
    for (let b = 0; b < count; b++) {
      assert.ok(Math.abs(values[b] - reference(z, b)) < 1e-4, `${loss} sample ${b}: ${values[b]} vs ${reference(z, b)}`);
      assert.ok(reference(attacked, b) > reference(z, b), `${loss} sample ${b}: ${reference(z, b)} → ${reference(attacked, b)}`);
    }
  }
  model.dispose();
});

test('the same seed gives identical results (PGD with random start, SPSA); another seed does not', async () => {
  await initBackend('wasm');
  const random = new Random(5);
  const model = linearModel(randomRows(random, 3, SIZE, -1, 1), [0, 0, 0]);
  const count = 4;
  const x = images(random, count);
  const labels = Int32Array.from({ length: count }, (_, b) => b % 3);
  const cases: [AttackName, AttackParams][] = [
    // Short steps: with 2.5ε in total every start would end in the same corner of a linear model's ball.
    ['pgd', { eps: 0.3, randomStart: true, steps: 2, stepSize: 0.05 }],
    ['spsa', { eps: 0.3, iterations: 3, samples: 3, earlyStop: false }],
  ];
  for (const [name, params] of cases) {
    const first = await run(model, name, x, labels, params, 11);
    assert.deepEqual(await run(model, name, x, labels, params, 11), first, `${name} is reproducible`);
    assert.notDeepEqual(await run(model, name, x, labels, params, 12), first, `${name} depends on the seed`);
  }
  model.dispose();
});
