/**
 * Train / validation / test splits of a loaded dataset.
 *
 * The pool is the dataset's train part followed by its test part; ranges ("start:end", end
 * exclusive) index into it. A split without a range gets its default:
 *  - dataset with both parts: the train part (for train) or the test part (for test);
 *  - dataset with one part: whatever the other split's range leaves out, or, when neither range
 *    is given, a seeded shuffle that puts 80% in train and 20% in test.
 * Train and test must not overlap. Validation is a seeded `valFraction` of the training split
 * (0 → none). Splits keep pool order; only the choice of examples is random.
 */
import { UserError } from '../errors';
import { permutation } from '../random';
import type { Examples, LoadedDataset, PartWindow } from './types';

export interface Range {
  start: number;
  /** Exclusive. */
  end: number;
}

/** The ranges of a split, which also decide which examples need loading at all. */
export interface SplitRanges {
  trainRange?: string;
  testRange?: string;
}

export interface SplitOptions extends SplitRanges {
  valFraction: number;
  seed: number;
}

export interface Splits {
  train: Examples;
  validation?: Examples;
  test: Examples;
}

/** Share of a one-part dataset that goes to the test split when no range is given. */
const DEFAULT_TEST_SHARE = 0.2;

/** "0:8000" → { start: 0, end: 8000 }. */
export function parseRange(text: string): Range {
  const match = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(text);
  if (!match) throw new UserError(`range "${text}" is invalid: expected start:end, e.g. 0:8000`);
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (start >= end) throw new UserError(`range "${text}" is empty: start must be below end`);
  return { start, end };
}

/** Copies the examples at `indices` into a new compact set. */
export function subset(examples: Examples, indices: ArrayLike<number>): Examples {
  return gather([{ examples, start: 0, total: examples.labels.length }], indices);
}

/** A loaded part: its examples are [start, start + count) of the `total` its files hold. */
interface PoolPart extends PartWindow {
  examples: Examples;
}

/** Like subset, with indices into the pool the parts' files make up (the parts share one shape). */
function gather(parts: PoolPart[], indices: ArrayLike<number>): Examples {
  const shape = parts[0].examples.shape;
  const size = shape[0] * shape[1] * shape[2];
  const pixels = new Uint8Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    let index = indices[i];
    let part = 0;
    while (index >= parts[part].total) index -= parts[part++].total;
    const { examples, start } = parts[part];
    const local = index - start;
    if (local < 0 || local >= examples.labels.length) throw new RangeError(`gather: example ${indices[i]} was not loaded`);
    pixels.set(examples.pixels.subarray(local * size, (local + 1) * size), i * size);
    labels[i] = examples.labels[local];
  }
  return { pixels, labels, shape: [...shape] };
}

function span(start: number, end: number): Int32Array {
  return Int32Array.from({ length: end - start }, (_, i) => start + i);
}

/** 0..poolSize−1 without `taken`. */
function complement(taken: Int32Array, poolSize: number): Int32Array {
  const isTaken = new Uint8Array(poolSize);
  taken.forEach((index) => (isTaken[index] = 1));
  return span(0, poolSize).filter((index) => !isTaken[index]);
}

function countShared(a: Int32Array, b: Int32Array, poolSize: number): number {
  const inA = new Uint8Array(poolSize);
  a.forEach((index) => (inA[index] = 1));
  return b.reduce((count, index) => count + inA[index], 0);
}

function checkClasses(examples: Examples, split: string, source: string): void {
  const classes = new Set(examples.labels).size;
  if (classes === 0) throw new UserError(`dataset ${source} has no examples in its ${split} split`);
  if (classes === 1) {
    throw new UserError(`dataset ${source} has only 1 class in its ${split} split; a classifier needs at least 2`);
  }
}

/** Pool indices of the train and test splits, following the rules at the top of this file. */
function trainAndTest(partSizes: number[], poolSize: number, opts: SplitOptions, source: string) {
  const fromRange = (text: string | undefined, split: string) => {
    if (text === undefined) return undefined;
    const { start, end } = parseRange(text);
    if (end > poolSize) {
      throw new UserError(
        `${split} range ${text} is out of bounds: dataset ${source} has ${poolSize} examples (train files first, then test files)`,
      );
    }
    return span(start, end);
  };
  const trainRange = fromRange(opts.trainRange, 'train');
  const testRange = fromRange(opts.testRange, 'test');
  if (partSizes.length === 2) {
    const trainPartSize = partSizes[0];
    return { train: trainRange ?? span(0, trainPartSize), test: testRange ?? span(trainPartSize, poolSize) };
  }
  if (trainRange || testRange) {
    return { train: trainRange ?? complement(testRange!, poolSize), test: testRange ?? complement(trainRange!, poolSize) };
  }
  const order = permutation(poolSize, opts.seed);
  const testSize = Math.round(poolSize * DEFAULT_TEST_SHARE);
  return { train: order.slice(testSize).sort(), test: order.slice(0, testSize).sort() };
}

/** The examples of a part that need loading: [start, end) of the `total` its files hold. */
export interface Window extends Range, PartWindow {}

export const windowSize = ({ start, end }: Range) => end - start;

/**
 * Which examples of each part (in the part's own indices) the splits of `ranges` can draw from:
 * loaders read only these, so ranges are also the way to load part of a dataset too large to
 * load whole. Every example when no range narrows the choice (a one-part dataset with one range
 * needs the rest for the other split). Ranges out of bounds are clamped here, refused by makeSplits.
 */
export function neededWindows(counts: { train?: number; test?: number }, ranges: SplitRanges): { train?: Window; test?: Window } {
  const sizes = [counts.train, counts.test].filter((n): n is number => n !== undefined);
  const poolSize = sizes.reduce((a, b) => a + b, 0);
  const range = (text: string | undefined) => (text === undefined ? undefined : parseRange(text));
  const train = range(ranges.trainRange);
  const test = range(ranges.testRange);
  let needed: Range[];
  if (sizes.length === 2) needed = [train ?? { start: 0, end: sizes[0] }, test ?? { start: sizes[0], end: poolSize }];
  else if (train && test) needed = [train, test];
  else needed = [{ start: 0, end: poolSize }];
  const windowOf = (offset: number, total: number): Window => {
    const inPart = needed
      .map(({ start, end }) => ({ start: Math.max(start, offset) - offset, end: Math.min(end, offset + total) - offset }))
      .filter(({ start, end }) => start < end);
    if (inPart.length === 0) return { start: 0, end: 0, total };
    return { start: Math.min(...inPart.map((r) => r.start)), end: Math.max(...inPart.map((r) => r.end)), total };
  };
  return {
    ...(counts.train !== undefined && { train: windowOf(0, counts.train) }),
    ...(counts.test !== undefined && { test: windowOf(counts.train ?? 0, counts.test) }),
  };
}

export function makeSplits(dataset: LoadedDataset, opts: SplitOptions): Splits {
  const { source } = dataset;
  const parts: PoolPart[] = (['train', 'test'] as const).flatMap((name) => {
    const examples = dataset[name];
    if (!examples) return [];
    return [{ examples, ...(dataset.windows?.[name] ?? { start: 0, total: examples.labels.length }) }];
  });
  if (parts.length === 0) throw new UserError(`dataset ${source} has no examples`);
  const [first, second] = parts.map(({ examples }) => examples.shape.join('×'));
  if (second !== undefined && first !== second) {
    throw new UserError(`dataset ${source}: train images are ${first} but test images are ${second}`);
  }
  if (!(opts.valFraction >= 0 && opts.valFraction < 1)) {
    throw new UserError(`validation fraction must be in [0, 1), got ${opts.valFraction}`);
  }
  const partSizes = parts.map((part) => part.total);
  const poolSize = partSizes.reduce((sum, size) => sum + size, 0);
  const { train, test } = trainAndTest(partSizes, poolSize, opts, source);
  const shared = countShared(train, test, poolSize);
  if (shared > 0) {
    const describe = (text: string | undefined, split: string) => (text ? `${split} range ${text}` : `the default ${split} split`);
    throw new UserError(
      `${describe(opts.trainRange, 'train')} and ${describe(opts.testRange, 'test')} overlap in ${shared} examples of dataset ${source}`,
    );
  }

  // seed + 1: a stream independent of the 80/20 shuffle.
  const validationSize = Math.round(train.length * opts.valFraction);
  const order = permutation(train.length, opts.seed + 1).map((i) => train[i]);
  const splits: Splits = { train: gather(parts, order.slice(validationSize).sort()), test: gather(parts, test) };
  checkClasses(splits.train, 'training', source);
  checkClasses(splits.test, 'test', source);
  if (validationSize > 0) splits.validation = gather(parts, order.slice(0, validationSize).sort());
  return splits;
}
