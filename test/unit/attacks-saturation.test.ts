import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../src/core/tf';
import { initBackend } from '../../src/core/backend';
import { attackLoss } from '../../src/core/attacks/objectives';

test('the cross-entropy attack gradient keeps its direction where float32 softmax saturates', async () => {
  await initBackend('wasm');
  // Logit gaps of 30–60: softmax(z)_y rounds to 1, so the plain float32 gradient p − e_y has a 0 at y.
  const z = [
    [60, 10, 25, -5],
    [1, 2, 40, 3],
  ];
  const classes = Int32Array.from([0, 2]);
  const gradient = tf.tidy(
    () =>
      tf
        .grad((x: tf.Tensor) => tf.sum(attackLoss('crossentropy', x as tf.Tensor2D, classes, 0)))(tf.tensor2d(z))
        .arraySync() as number[][],
  );
  const plain = tf.tidy(
    () =>
      tf
        .grad((x: tf.Tensor) => tf.sum(tf.neg(tf.sum(tf.mul(tf.oneHot(tf.tensor1d(classes, 'int32'), 4), tf.logSoftmax(x)), 1))))(tf.tensor2d(z))
        .arraySync() as number[][],
  );
  z.forEach((row, b) => {
    const y = classes[b];
    assert.equal(plain[b][y], 0, 'the plain float32 gradient vanishes at the true class');
    // float64 reference: p − e_y with p_y − 1 written as −Σ_{j≠y} p_j (1 − p_y would round), normalised.
    const max = Math.max(...row);
    const exp = row.map((v) => Math.exp(v - max));
    const sum = exp.reduce((a, c) => a + c, 0);
    const others = exp.reduce((a, e, j) => (j === y ? a : a + e), 0);
    const reference = exp.map((e, j) => (j === y ? -others : e) / sum);
    const norm = (v: number[]) => Math.hypot(...v);
    const unit = (v: number[]) => v.map((x) => x / norm(v));
    const [a, r] = [unit(gradient[b]), unit(reference)];
    a.forEach((v, j) => assert.ok(Math.abs(v - r[j]) < 1e-5, `sample ${b} component ${j}: ${v} vs ${r[j]}`));
    assert.ok(gradient[b][y] < 0, 'pushing the true logit down raises the loss');
  });
});
