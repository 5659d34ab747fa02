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
import type { Examples, LoadedDataset } from './types';

export interface Range {
  start: number;
  /** Exclusive. */
  end: number;
}

export interface SplitOptions {
  trainRange?: string;
  testRange?: string;
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
  return gather([examples], indices);
}

/** Like subset, with indices into the concatenation of `parts` (which share one shape). */
function gather(parts: Examples[], indices: ArrayLike<number>): Examples {
  const shape = parts[0].shape;
  const size = shape[0] * shape[1] * shape[2];
  const pixels = new Uint8Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    let index = indices[i];
    let part = 0;
    while (index >= parts[part].labels.length) index -= parts[part++].labels.length;
    pixels.set(parts[part].pixels.subarray(index * size, (index + 1) * size), i * size);
    labels[i] = parts[part].labels[index];
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
function trainAndTest(parts: Examples[], poolSize: number, opts: SplitOptions, source: string) {
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
  if (parts.length === 2) {
    const trainPartSize = parts[0].labels.length;
    return { train: trainRange ?? span(0, trainPartSize), test: testRange ?? span(trainPartSize, poolSize) };
  }
  if (trainRange || testRange) {
    return { train: trainRange ?? complement(testRange!, poolSize), test: testRange ?? complement(trainRange!, poolSize) };
  }
  const order = permutation(poolSize, opts.seed);
  const testSize = Math.round(poolSize * DEFAULT_TEST_SHARE);
  return { train: order.slice(testSize).sort(), test: order.slice(0, testSize).sort() };
}

export function makeSplits(dataset: LoadedDataset, opts: SplitOptions): Splits {
  const { source } = dataset;
  const parts = [dataset.train, dataset.test].filter((part): part is Examples => part !== undefined);
  if (parts.length === 0) throw new UserError(`dataset ${source} has no examples`);
  if (parts.length === 2 && parts[0].shape.join() !== parts[1].shape.join()) {
    throw new UserError(
      `dataset ${source}: train images are ${parts[0].shape.join('×')} but test images are ${parts[1].shape.join('×')}`,
    );
  }
  if (!(opts.valFraction >= 0 && opts.valFraction < 1)) {
    throw new UserError(`validation fraction must be in [0, 1), got ${opts.valFraction}`);
  }
  const poolSize = parts.reduce((sum, part) => sum + part.labels.length, 0);
  const { train, test } = trainAndTest(parts, poolSize, opts, source);
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
