import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../../src/core/tf';
import { initBackend } from '../../src/core/backend';
import { UserError } from '../../src/core/errors';
import { attackBatch, resolveAttackParams } from '../../src/core/attacks';
import type { ThreatModel } from '../../src/core/attacks/common';
import { squareFraction } from '../../src/core/attacks/square';
import { Random } from '../../src/core/random';

const SIDE = 8;

/** A small ReLU network on side×side×channels images, seeded. */
function reluModel(channels: number, classes: number, seed: number): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(tfl.layers.flatten({ inputShape: [SIDE, SIDE, channels] }));
  model.add(tfl.layers.dense({ units: 16, activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed }) }));
  model.add(tfl.layers.dense({ units: classes, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }));
  return model;
}

async function square(
  model: tfl.LayersModel,
  x: Float32Array,
  channels: number,
  labels: Int32Array,
  params: { eps: number; norm: ThreatModel; queries: number },
  seed = 0,
) {
  const input = tf.tensor4d(x, [labels.length, SIDE, SIDE, channels]);
  const output = await attackBatch(model, 'square', input, labels, resolveAttackParams('square', params), seed);
  const adversarial = output.adversarial.dataSync() as Float32Array;
  tf.dispose([input, output.adversarial]);
  return { adversarial, queries: output.queries! };
}

function predictions(model: tfl.LayersModel, x: Float32Array, channels: number): number[] {
  const count = x.length / (SIDE * SIDE * channels);
  const z = tf.tidy(() => (model.predict(tf.tensor4d(x, [count, SIDE, SIDE, channels])) as tf.Tensor).dataSync());
  const dims = z.length / count;
  return Array.from({ length: count }, (_, b) => {
    const row = Array.from(z.subarray(b * dims, (b + 1) * dims));
    return row.indexOf(Math.max(...row));
  });
}

test("the square size follows the paper's schedule, rescaled to the query budget", () => {
  // At 10 000 queries the iterations are the paper's own.
  const at = (iteration: number) => squareFraction(iteration, 10000, 0.8);
  assert.deepEqual(
    [0, 10, 11, 50, 51, 200, 201, 500, 501, 1000, 1001, 2000, 2001, 4000, 4001, 6000, 6001, 8000, 8001, 9999].map(at),
    [0.8, 0.8, 0.4, 0.4, 0.2, 0.2, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125, 0.00625, 0.00625, 0.003125, 0.003125, 0.0015625, 0.0015625],
  );
  // AutoAttack's 5000 queries: twice as fast.
  assert.equal(squareFraction(6, 5000, 0.8), 0.4);
  assert.equal(squareFraction(2500, 5000, 0.8), 0.8 / 128);
});

test('Square stays in the ε-ball and [0, 1], spends at most its query budget, and lowers the accuracy (L∞ and L2, 1 and 3 channels)', async () => {
  await initBackend('wasm');
  const random = new Random(3);
  for (const channels of [1, 3]) {
    const size = SIDE * SIDE * channels;
    const model = reluModel(channels, 4, 10 + channels);
    const count = 12;
    const x = Float32Array.from({ length: count * size }, () => random.uniform(0, 1));
    const labels = Int32Array.from(predictions(model, x, channels));
    labels[0] = (labels[0] + 1) % 4; // misclassified before the attack: left alone, no query spent
    for (const norm of ['linf', 'l2'] as ThreatModel[]) {
      const eps = norm === 'linf' ? 0.1 : 0.15;
      const queries = 60;
      const { adversarial, queries: used } = await square(model, x, channels, labels, { eps, norm, queries });
      const after = predictions(model, adversarial, channels);
      assert.equal(used[0], 0);
      assert.deepEqual(adversarial.subarray(0, size), x.subarray(0, size));
      let fooled = 0;
      for (let b = 1; b < count; b++) {
        const row = x.subarray(b * size, (b + 1) * size);
        const n = Array.from(row, (v, p) => adversarial[b * size + p] - v);
        const [norm2, normInf] = [Math.hypot(...n), Math.max(...n.map(Math.abs))];
        const bound = eps * (norm === 'linf' ? Math.max(...row) : Math.hypot(...row));
        assert.ok(
          (norm === 'linf' ? normInf : norm2) <= bound * (1 + 1e-5),
          `${norm}, ${channels} channels, sample ${b}: ${norm === 'linf' ? normInf : norm2} > ${bound}`,
        );
        assert.ok(adversarial.subarray(b * size, (b + 1) * size).every((v) => v >= 0 && v <= 1));
        assert.ok(used[b] >= 1 && used[b] <= queries, `sample ${b} used ${used[b]} queries`);
        if (after[b] !== labels[b]) fooled++;
        // Only a sample still classified correctly uses up the whole budget.
        else assert.equal(used[b], queries, `sample ${b} is still correct after ${used[b]} queries`);
      }
      assert.ok(fooled > 0, `${norm}, ${channels} channels: Square fooled some samples`);
    }
    model.dispose();
  }
});

test('Square: the same seed gives identical results, another seed does not; a budget of 0 is a one-line error', async () => {
  await initBackend('wasm');
  const random = new Random(7);
  const model = reluModel(1, 3, 20);
  const count = 6;
  const x = Float32Array.from({ length: count * SIDE * SIDE }, () => random.uniform(0, 1));
  const labels = Int32Array.from(predictions(model, x, 1));
  for (const norm of ['linf', 'l2'] as ThreatModel[]) {
    const params = { eps: 0.03, norm, queries: 20 };
    const first = await square(model, x, 1, labels, params, 1);
    assert.deepEqual(await square(model, x, 1, labels, params, 1), first, `${norm}: same seed`);
    assert.notDeepEqual((await square(model, x, 1, labels, params, 2)).adversarial, first.adversarial, `${norm}: another seed`);
  }
  model.dispose();
  for (const [params, message] of [
    [{ queries: 0 }, 'square: queries must be a whole number from 1 to 1000000 (got 0)'],
    [{ pInit: 0 }, 'square: pInit must be a number in (0, 1] (got 0)'],
    [{ norm: 'l2', eps: 2 }, 'square: eps must be a number in [0, 1], relative to the image (‖n‖ ≤ ε·‖x‖ in the norm of the threat model) (got 2)'],
  ] as const) {
    assert.throws(
      () => resolveAttackParams('square', params),
      (error: unknown) => error instanceof UserError && error.message === message,
    );
  }
});
