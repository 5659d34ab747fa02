import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../src/core/errors';
import fc from 'fast-check';
import { makeSplits, neededWindows, parseRange, subset } from '../../src/core/data/split';
import type { Examples, LoadedDataset } from '../../src/core/data/types';

/** Examples whose two pixel bytes encode a pool id (first + i), labels cycling through `classes`. */
function examples(first: number, count: number, classes = 10): Examples {
  const pixels = new Uint8Array(count * 2);
  for (let i = 0; i < count; i++) pixels.set([(first + i) & 255, (first + i) >> 8], 2 * i);
  return { pixels, labels: Int32Array.from({ length: count }, (_, i) => (first + i) % classes), shape: [1, 1, 2] };
}

function ids(set: Examples | undefined): number[] {
  if (!set) return [];
  return Array.from({ length: set.labels.length }, (_, i) => set.pixels[2 * i] + 256 * set.pixels[2 * i + 1]);
}

const twoParts: LoadedDataset = { kind: 'test', source: 'two-parts', classNames: [], train: examples(0, 100), test: examples(100, 30) };
const onePart: LoadedDataset = { kind: 'test', source: 'one-part', classNames: [], train: examples(0, 200) };

function assertDisjoint(...sets: number[][]): void {
  const all = sets.flat();
  assert.equal(new Set(all).size, all.length, 'splits overlap');
}

const range = (start: number, end: number) => Array.from({ length: end - start }, (_, i) => start + i);

test('parseRange accepts start:end and rejects everything else with a UserError', () => {
  assert.deepEqual(parseRange('0:8000'), { start: 0, end: 8000 });
  assert.deepEqual(parseRange(' 10 : 20 '), { start: 10, end: 20 });
  for (const bad of ['8000:0', '5:5', '-1:3', 'a:b', '10', '1:2:3', '']) {
    assert.throws(() => parseRange(bad), (err: unknown) => err instanceof UserError && err.message.includes(`"${bad}"`), bad);
  }
});

test('dataset with both parts: train part → train (+ validation), test part → test', () => {
  const splits = makeSplits(twoParts, { valFraction: 0.2, seed: 1 });
  assert.deepEqual(ids(splits.test), range(100, 130));
  assert.equal(splits.validation!.labels.length, 20);
  assert.equal(splits.train.labels.length, 80);
  assertDisjoint(ids(splits.train), ids(splits.validation));
  assert.deepEqual([...ids(splits.train), ...ids(splits.validation)].sort((a, b) => a - b), range(0, 100));
  // Labels and pixels travel together.
  ids(splits.train).forEach((id, i) => assert.equal(splits.train.labels[i], id % 10));
  assert.equal(makeSplits(twoParts, { valFraction: 0, seed: 1 }).validation, undefined);
});

test('deterministic by seed; another seed picks another validation set', () => {
  const a = makeSplits(onePart, { valFraction: 0.1, seed: 5 });
  const b = makeSplits(onePart, { valFraction: 0.1, seed: 5 });
  const c = makeSplits(onePart, { valFraction: 0.1, seed: 6 });
  assert.deepEqual(ids(a.train), ids(b.train));
  assert.deepEqual(ids(a.validation), ids(b.validation));
  assert.deepEqual(ids(a.test), ids(b.test));
  assert.notDeepEqual(ids(a.validation), ids(c.validation));
  assert.notDeepEqual(ids(a.test), ids(c.test));
});

test('dataset with one part: seeded 80/20, disjoint and complete', () => {
  const splits = makeSplits(onePart, { valFraction: 0.25, seed: 3 });
  assert.equal(splits.test.labels.length, 40);
  assert.equal(splits.validation!.labels.length, 40);
  assert.equal(splits.train.labels.length, 120);
  assertDisjoint(ids(splits.train), ids(splits.validation), ids(splits.test));
  assert.deepEqual([...ids(splits.train), ...ids(splits.validation), ...ids(splits.test)].sort((a, b) => a - b), range(0, 200));
});

test('ranges index the pool (train part first, then test part)', () => {
  const splits = makeSplits(twoParts, { trainRange: '90:110', testRange: '120:130', valFraction: 0, seed: 1 });
  assert.deepEqual(ids(splits.train), range(90, 110));
  assert.deepEqual(ids(splits.test), range(120, 130));
  // With both parts, a missing range means that split's part.
  assert.deepEqual(ids(makeSplits(twoParts, { trainRange: '0:50', valFraction: 0, seed: 1 }).test), range(100, 130));
  // With one part, a missing range means everything the other range leaves out.
  assert.deepEqual(ids(makeSplits(onePart, { trainRange: '0:150', valFraction: 0, seed: 1 }).test), range(150, 200));
  assert.deepEqual(ids(makeSplits(onePart, { testRange: '0:50', valFraction: 0, seed: 1 }).train), range(50, 200));
  const withValidation = makeSplits(onePart, { trainRange: '0:100', testRange: '100:200', valFraction: 0.5, seed: 2 });
  assertDisjoint(ids(withValidation.train), ids(withValidation.validation));
  assert.deepEqual([...ids(withValidation.train), ...ids(withValidation.validation)].sort((a, b) => a - b), range(0, 100));
});

test('out-of-bounds and overlapping ranges are UserErrors', () => {
  assert.throws(
    () => makeSplits(twoParts, { trainRange: '0:131', testRange: '0:1', valFraction: 0, seed: 1 }),
    (err: unknown) => err instanceof UserError && /train range 0:131 is out of bounds: dataset two-parts has 130 examples/.test(err.message),
  );
  assert.throws(
    () => makeSplits(onePart, { trainRange: '0:100', testRange: '90:120', valFraction: 0, seed: 1 }),
    (err: unknown) => err instanceof UserError && /train range 0:100 and test range 90:120 overlap in 10 examples/.test(err.message),
  );
  assert.throws(
    () => makeSplits(twoParts, { trainRange: '95:105', valFraction: 0, seed: 1 }),
    (err: unknown) => err instanceof UserError && /train range 95:105 and the default test split overlap in 5 examples/.test(err.message),
  );
  assert.throws(() => makeSplits(twoParts, { valFraction: 1, seed: 1 }), UserError);
});

test('a split with a single class is a UserError', () => {
  assert.throws(
    () => makeSplits(twoParts, { trainRange: '0:1', valFraction: 0, seed: 1 }),
    (err: unknown) => err instanceof UserError && /dataset two-parts has only 1 class in its training split/.test(err.message),
  );
  const oneClass: LoadedDataset = { kind: 'test', source: 'mono', classNames: [], train: examples(0, 50, 1) };
  assert.throws(() => makeSplits(oneClass, { valFraction: 0, seed: 1 }), /only 1 class in its training split/);
  assert.throws(
    () => makeSplits(twoParts, { testRange: '100:101', valFraction: 0, seed: 1 }),
    /only 1 class in its test split/,
  );
});

test('parts with different image shapes are a UserError', () => {
  const mismatched: LoadedDataset = { ...twoParts, test: { ...examples(100, 30), shape: [2, 1, 1] } };
  assert.throws(() => makeSplits(mismatched, { valFraction: 0, seed: 1 }), /train images are 1×1×2 but test images are 2×1×1/);
});

test('subset copies the chosen examples in order', () => {
  const picked = subset(examples(0, 20), [5, 2, 19]);
  assert.deepEqual(ids(picked), [5, 2, 19]);
  assert.deepEqual(Array.from(picked.labels), [5, 2, 9]);
  assert.deepEqual(picked.shape, [1, 1, 2]);
});

test('neededWindows: only what the ranges name, everything when no range narrows it', () => {
  // Both parts: each range, or its default part.
  assert.deepEqual(neededWindows({ train: 100, test: 30 }, { trainRange: '10:20', testRange: '120:125' }), {
    train: { start: 10, end: 20, total: 100 },
    test: { start: 20, end: 25, total: 30 },
  });
  const expected = { train: { start: 0, end: 50, total: 100 }, test: { start: 0, end: 30, total: 30 } };
  assert.deepEqual(neededWindows({ train: 100, test: 30 }, { trainRange: '0:50' }), expected);
  // A part no range touches loads nothing.
  assert.deepEqual(neededWindows({ train: 100, test: 30 }, { trainRange: '0:5', testRange: '50:60' }).test, { start: 0, end: 0, total: 30 });
  // One part: both ranges give their hull; one range needs the rest for the other split.
  assert.deepEqual(neededWindows({ train: 200 }, { trainRange: '0:10', testRange: '100:120' }), { train: { start: 0, end: 120, total: 200 } });
  assert.deepEqual(neededWindows({ train: 200 }, { trainRange: '0:10' }), { train: { start: 0, end: 200, total: 200 } });
  assert.deepEqual(neededWindows({ test: 200 }, {}), { test: { start: 0, end: 200, total: 200 } });
});

/** The dataset as a loader returns it when it reads only the windows the ranges need. */
function windowed(dataset: LoadedDataset, ranges: { trainRange?: string; testRange?: string }): LoadedDataset {
  const windows = neededWindows({ train: dataset.train?.labels.length, test: dataset.test?.labels.length }, ranges);
  const cut = (part: 'train' | 'test') => {
    const examples = dataset[part];
    const window = windows[part];
    if (!examples || !window) return undefined;
    return { pixels: examples.pixels.slice(window.start * 2, window.end * 2), labels: examples.labels.slice(window.start, window.end), shape: examples.shape };
  };
  return { ...dataset, train: cut('train'), test: cut('test'), windows };
}

test('splits of a dataset loaded for its ranges equal those of the whole dataset (property, 300 cases)', () => {
  const rangeText = (max: number) => fc.tuple(fc.nat(max), fc.nat(max)).map(([a, b]) => `${Math.min(a, b)}:${Math.max(a, b) + 1}`);
  fc.assert(
    fc.property(
      fc.integer({ min: 4, max: 60 }),
      fc.option(fc.integer({ min: 4, max: 40 }), { nil: undefined }),
      fc.option(rangeText(110), { nil: undefined }),
      fc.option(rangeText(110), { nil: undefined }),
      fc.constantFrom(0, 0.2),
      fc.nat(1000),
      (trainCount, testCount, trainRange, testRange, valFraction, seed) => {
        const dataset: LoadedDataset = {
          kind: 'test',
          source: 'prop',
          classNames: [],
          train: examples(0, trainCount, 3),
          test: testCount === undefined ? undefined : examples(trainCount, testCount, 3),
        };
        const options = { trainRange, testRange, valFraction, seed };
        const outcome = (d: LoadedDataset) => {
          try {
            const splits = makeSplits(d, options);
            return { train: ids(splits.train), validation: ids(splits.validation), test: ids(splits.test) };
          } catch (err) {
            assert.ok(err instanceof UserError, String(err));
            return err.message;
          }
        };
        assert.deepEqual(outcome(windowed(dataset, options)), outcome(dataset));
      },
    ),
    { numRuns: 300, seed: 42 },
  );
});
