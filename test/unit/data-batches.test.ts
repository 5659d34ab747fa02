import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../../src/core/errors';
import { batchOrders, makeBatch } from '../../src/core/data/batches';
import type { Examples } from '../../src/core/data/types';

const examples: Examples = {
  pixels: Uint8Array.from({ length: 5 * 2 * 3 * 3 }, (_, i) => (i * 37) % 256),
  labels: Int32Array.from([4, 1, 0, 3, 2]),
  shape: [2, 3, 3],
};

test('makeBatch: x float32 [B, H, W, C] in [0, 1] equal to pixels / 255, y int32 labels', async () => {
  await tf.setBackend('cpu');
  const { x, y } = makeBatch(examples, [3, 0]);
  try {
    assert.deepEqual(x.shape, [2, 2, 3, 3]);
    assert.equal(x.dtype, 'float32');
    assert.equal(y.dtype, 'int32');
    assert.deepEqual(Array.from(y.dataSync()), [3, 4]);
    const values = x.dataSync();
    assert.ok(values.every((v) => v >= 0 && v <= 1));
    for (let i = 0; i < 18; i++) {
      assert.ok(Math.abs(values[i] - examples.pixels[3 * 18 + i] / 255) < 1e-7);
      assert.ok(Math.abs(values[18 + i] - examples.pixels[i] / 255) < 1e-7);
    }
  } finally {
    tf.dispose([x, y]);
  }
  assert.throws(() => makeBatch(examples, [5]), RangeError);
});

test('batchOrders: every index once per epoch, batches of batchSize with a smaller last one, seeded', () => {
  const batches = [...batchOrders(10, 4, 1)];
  assert.deepEqual(batches.map((b) => b.length), [4, 4, 2]);
  assert.deepEqual(batches.flatMap((b) => Array.from(b)).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const again = [...batchOrders(10, 4, 1)].flatMap((b) => Array.from(b));
  assert.deepEqual(batches.flatMap((b) => Array.from(b)), again);
  assert.notDeepEqual([...batchOrders(10, 4, 2)].flatMap((b) => Array.from(b)), again);
  assert.deepEqual([...batchOrders(0, 4, 1)], []);
  assert.throws(() => [...batchOrders(10, 0, 1)], UserError);
});
