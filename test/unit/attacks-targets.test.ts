/**
 * The targets of APGD-T and FAB-T (rankedTargets in src/core/attacks/common.ts, the one ranking
 * both use) and the class order under them, on hand-made outputs: highest first, the true class
 * left out wherever it ranks, equal outputs in class order, NaN last.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classesByOutput, rankedTargets } from '../../src/core/attacks/common';

// 4 classes, 4 samples.
const z = Float32Array.from([
  // 0: plain order; the true class 1 is the highest.
  1,
  5,
  3,
  2,
  // 1: the three other classes tie.
  2,
  2,
  7,
  2,
  // 2: misclassified (true class 0 is not the highest), two classes tie at the top, a NaN output.
  0,
  9,
  9,
  NaN,
  // 3: the true class ties with class 0 at the top.
  4,
  4,
  1,
  0,
]);
const labels = Int32Array.from([1, 2, 0, 1]);

test('classesByOutput: highest first, equal outputs in class order, NaN last', () => {
  assert.deepEqual(classesByOutput(z, 4), [
    [1, 2, 3, 0],
    [2, 0, 1, 3],
    [1, 2, 0, 3],
    [0, 1, 2, 3],
  ]);
  // The order of the classes does not depend on where the sample sits in the batch.
  assert.deepEqual(classesByOutput(z.subarray(8, 12), 4), [[1, 2, 0, 3]]);
});

test('rankedTargets: targets[k][b] is the (k+1)-th highest class other than the true one, ties in class order', () => {
  const targets = rankedTargets(z, labels, 4, 3);
  assert.equal(targets.length, 3);
  assert.ok(targets.every((row) => row instanceof Int32Array && row.length === labels.length));
  // Per sample: its three targets, in order.
  const bySample = [...labels].map((_, b) => targets.map((row) => row[b]));
  assert.deepEqual(bySample, [
    [2, 3, 0],
    [0, 1, 3],
    [1, 2, 3],
    [0, 2, 3],
  ]);
  // Fewer targets are the first of the same ranking (AutoAttack's targetCount).
  assert.deepEqual(rankedTargets(z, labels, 4, 1), [targets[0]]);
  assert.deepEqual(rankedTargets(z, labels, 4, 0), []);
  assert.throws(() => rankedTargets(z, labels, 4, 4), RangeError);
});
