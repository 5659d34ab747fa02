import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../src/core/errors';
import { SYNTHETIC_CLASS_NAMES, makeSynthetic } from '../../src/core/data/synthetic';

// Its speed is not asserted: tests must pass on a busy machine.
test('defaults: 5000 train / 1000 test images of 28×28×1, 10 named classes', () => {
  const dataset = makeSynthetic();
  assert.equal(dataset.kind, 'synthetic');
  assert.equal(dataset.source, 'built-in');
  assert.deepEqual(dataset.classNames, SYNTHETIC_CLASS_NAMES);
  assert.equal(new Set(dataset.classNames).size, 10);
  assert.deepEqual(dataset.train!.shape, [28, 28, 1]);
  assert.equal(dataset.train!.labels.length, 5000);
  assert.equal(dataset.train!.pixels.length, 5000 * 784);
  assert.equal(dataset.test!.labels.length, 1000);
});

test('all 10 classes, balanced, and every image has a visible shape', () => {
  const { train } = makeSynthetic({ train: 1003, test: 10, seed: 4 });
  const counts = new Array(10).fill(0);
  train!.labels.forEach((label) => counts[label]++);
  assert.ok(counts.every((count) => count >= 100 && count <= 101), counts.join(','));
  for (let i = 0; i < 1003; i++) {
    const image = train!.pixels.subarray(i * 784, (i + 1) * 784);
    assert.ok(image.filter((v) => v > 100).length >= 8, `image ${i} has too little ink`);
  }
});

test('deterministic for a seed; different seeds and the train/test streams differ', () => {
  const a = makeSynthetic({ train: 200, test: 50, seed: 7 });
  const b = makeSynthetic({ train: 200, test: 50, seed: 7 });
  assert.deepEqual(a.train!.pixels, b.train!.pixels);
  assert.deepEqual(a.test!.pixels, b.test!.pixels);
  assert.notDeepEqual(makeSynthetic({ train: 200, test: 50, seed: 8 }).train!.pixels, a.train!.pixels);
  assert.notDeepEqual(a.test!.pixels, a.train!.pixels.subarray(0, a.test!.pixels.length));
  // The test images do not depend on the number of training images.
  assert.deepEqual(makeSynthetic({ train: 10, test: 50, seed: 7 }).test!.pixels, a.test!.pixels);
});

test('not trivial: a nearest-class-mean classifier on raw pixels is far from perfect', () => {
  const { train, test: testSet } = makeSynthetic({ train: 2000, test: 500, seed: 1 });
  const means = Array.from({ length: 10 }, () => new Float64Array(784));
  const counts = new Array(10).fill(0);
  for (let i = 0; i < 2000; i++) {
    const label = train!.labels[i];
    counts[label]++;
    for (let p = 0; p < 784; p++) means[label][p] += train!.pixels[i * 784 + p];
  }
  means.forEach((mean, k) => mean.forEach((_, p) => (mean[p] /= counts[k])));
  let correct = 0;
  for (let i = 0; i < 500; i++) {
    let best = 0;
    let bestDistance = Infinity;
    means.forEach((mean, k) => {
      let distance = 0;
      for (let p = 0; p < 784; p++) distance += (testSet!.pixels[i * 784 + p] - mean[p]) ** 2;
      if (distance < bestDistance) [best, bestDistance] = [k, distance];
    });
    if (best === testSet!.labels[i]) correct++;
  }
  const accuracy = correct / 500;
  assert.ok(accuracy > 0.15 && accuracy < 0.8, `nearest-mean accuracy ${accuracy}`);
});

test('invalid counts are UserErrors', () => {
  assert.throws(() => makeSynthetic({ train: -1 }), UserError);
  assert.throws(() => makeSynthetic({ test: 2.5 }), UserError);
});
