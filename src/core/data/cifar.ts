/** CIFAR-10 and CIFAR-100 in their binary versions (fixed-size records of label byte(s) + planar RGB). */
import * as path from 'node:path';
import { UserError } from '../errors';
import { CIFAR10_NAMES, CIFAR100_NAMES } from './classNames';
import { checkLabels, copyToHWC } from './examples';
import { checkDatasetMemory } from './budget';
import { dataFileSize, isFolder, readBytes, requireFolder } from './files';
import { Range, SplitRanges, neededWindows, windowSize } from './split';
import type { Examples, LoadedDataset } from './types';

const SIDE = 32;
/** batches.meta.txt / fine_label_names.txt: 100 short names at most. */
const NAMES_FILE_BYTES = 64 * 1024;
const IMAGE_BYTES = SIDE * SIDE * 3;
/** Records store each image as 3 planes (R, G, B) of 32×32 rows. */
const PLANAR = { h: SIDE, w: 1, c: SIDE * SIDE };

interface CifarFormat {
  title: string;
  /** The folder the official archive extracts to. */
  subfolder: string;
  trainFiles: string[];
  testFiles: string[];
  /** Label bytes before the pixels, and which of them is the label we use. */
  labelBytes: number;
  labelIndex: number;
  namesFile: string;
  defaultNames: string[];
}

const FORMATS: Record<'cifar10' | 'cifar100', CifarFormat> = {
  cifar10: {
    title: 'CIFAR-10',
    subfolder: 'cifar-10-batches-bin',
    trainFiles: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
    testFiles: ['test_batch.bin'],
    labelBytes: 1,
    labelIndex: 0,
    namesFile: 'batches.meta.txt',
    defaultNames: CIFAR10_NAMES,
  },
  cifar100: {
    title: 'CIFAR-100',
    subfolder: 'cifar-100-binary',
    trainFiles: ['train.bin'],
    testFiles: ['test.bin'],
    // Coarse label, then fine label: we classify the 100 fine classes.
    labelBytes: 2,
    labelIndex: 1,
    namesFile: 'fine_label_names.txt',
    defaultNames: CIFAR100_NAMES,
  },
};

interface SizedFile {
  file: string;
  size: number;
}

/** Those of the named files that exist in `root`, with their sizes. */
async function existing(root: string, names: string[]): Promise<SizedFile[]> {
  const found: SizedFile[] = [];
  for (const file of names.map((name) => path.join(root, name))) {
    const size = await dataFileSize(file);
    if (size !== undefined) found.push({ file, size });
  }
  return found;
}

/** Fails unless every file is a whole number of records; the number of records of all of them. */
function countRecords(files: SizedFile[], format: CifarFormat): number {
  const recordSize = format.labelBytes + IMAGE_BYTES;
  for (const { file, size } of files) {
    if (size === 0 || size % recordSize !== 0) {
      throw new UserError(
        `${file}: truncated or not ${format.title} binary: ${size} bytes is not a multiple of the ${recordSize}-byte record`,
      );
    }
  }
  return files.reduce((sum, { size }) => sum + size / recordSize, 0);
}

/** Reads the examples `window` of the given batch files (the records of one after the other) into one set. */
async function readPart(files: SizedFile[], format: CifarFormat, window: Range): Promise<Examples> {
  const recordSize = format.labelBytes + IMAGE_BYTES;
  const count = windowSize(window);
  const pixels = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Int32Array(count);
  let first = 0; // the part's index of the file's first record
  for (const { file, size } of files) {
    const records = size / recordSize;
    const [from, to] = [Math.max(window.start, first), Math.min(window.end, first + records)];
    if (from < to) {
      const bytes = await readBytes(file);
      // The file may have changed since it was measured; never read past what was checked.
      if (bytes.length !== size) throw new UserError(`${file}: changed while being read`);
      for (let n = from; n < to; n++) {
        const start = (n - first) * recordSize;
        const out = n - window.start;
        labels[out] = bytes[start + format.labelIndex];
        copyToHWC(bytes, start + format.labelBytes, PLANAR, pixels, out * IMAGE_BYTES, [SIDE, SIDE, 3]);
      }
      checkLabels(labels.subarray(from - window.start, to - window.start), format.defaultNames.length, file);
    }
    first += records;
  }
  return { pixels, labels, shape: [SIDE, SIDE, 3] };
}

/** Names from the archive's names file when present, else the published list. */
async function readClassNames(root: string, format: CifarFormat): Promise<string[]> {
  const file = path.join(root, format.namesFile);
  if ((await dataFileSize(file)) === undefined) return [...format.defaultNames];
  const names = (await readBytes(file, NAMES_FILE_BYTES)).toString('utf8').split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
  if (names.length !== format.defaultNames.length) {
    throw new UserError(`${file}: lists ${names.length} class names, expected ${format.defaultNames.length}`);
  }
  return names;
}

/**
 * Loads CIFAR from `folder` itself or from the archive's folder inside it (cifar-10-batches-bin /
 * cifar-100-binary): only the examples the split `ranges` can use (see neededWindows).
 */
export async function loadCifarFolder(folder: string, kind: 'cifar10' | 'cifar100', ranges: SplitRanges = {}): Promise<LoadedDataset> {
  await requireFolder(folder);
  const format = FORMATS[kind];
  const dataFiles = [...format.trainFiles, ...format.testFiles];
  const nested = path.join(folder, format.subfolder);
  const root = (await existing(folder, dataFiles)).length === 0 && (await isFolder(nested)) ? nested : folder;
  const trainFiles = await existing(root, format.trainFiles);
  const testFiles = await existing(root, format.testFiles);
  if (trainFiles.length + testFiles.length === 0) {
    throw new UserError(
      `${folder}: no ${format.title} binary files; expected ${dataFiles.join(', ')} here or in ${format.subfolder}/`,
    );
  }
  const partFiles = { train: trainFiles, test: testFiles };
  const parts = (['train', 'test'] as const).filter((part) => partFiles[part].length > 0);
  const counts = Object.fromEntries(parts.map((part) => [part, countRecords(partFiles[part], format)]));
  const windows = neededWindows(counts, ranges);
  checkDatasetMemory(root, parts.map((part) => ({ count: windowSize(windows[part]!), shape: [SIDE, SIDE, 3] })), 'use fewer batch files');
  const classNames = await readClassNames(root, format);
  const loaded: { train?: Examples; test?: Examples } = {};
  for (const part of parts) loaded[part] = await readPart(partFiles[part], format, windows[part]!);
  return { kind, source: root, classNames, ...loaded, windows };
}
