/** SVHN "cropped digits" (train_32x32.mat / test_32x32.mat): X uint8 [H, W, 3, N] and y [N, 1] with 10 meaning digit 0. */
import * as path from 'node:path';
import { UserError } from '../errors';
import { DIGIT_NAMES } from './classNames';
import { copyToHWC } from './examples';
import { checkDatasetMemory, checkImageSize } from './budget';
import { dataFileSize, requireFolder } from './files';
import { MX_UINT8_CLASS, MatHeader, readMat } from './mat';
import { Range, SplitRanges, neededWindows, windowSize } from './split';
import type { Examples, LoadedDataset } from './types';

const TRAIN_FILE = 'train_32x32.mat';
const TEST_FILE = 'test_32x32.mat';

/** One SVHN file's variables, checked: X as MATLAB stores it, and every label mapped to 0..9. */
interface SvhnFile {
  file: string;
  /** [H, W, C] */
  shape: [number, number, number];
  count: number;
  /** X's data, column-major [H, W, C, N]. */
  columnMajor: Uint8Array;
  labels: Int32Array;
}

/** Reads one SVHN file; X's image size is checked before its data is inflated or copied. */
async function readSvhnFile(file: string): Promise<SvhnFile> {
  const checkX = ({ name, dims }: MatHeader) => {
    if (name === 'X' && dims.length >= 3 && dims.length <= 4) checkImageSize(file, dims[0], dims[1]);
  };
  const variables = await readMat(file, checkX);
  const x = variables.get('X');
  const y = variables.get('y');
  if (!x || !y) throw new UserError(`${file}: expected numeric variables X and y (SVHN cropped digits)`);
  // MATLAB drops a trailing singleton dimension, so a file with one image has X of rank 3.
  const [height, width, channels, count = 1] = x.dims;
  const { data } = x;
  if (x.classId !== MX_UINT8_CLASS || !(data instanceof Uint8Array) || x.dims.length < 3 || x.dims.length > 4 || channels !== 3) {
    throw new UserError(
      `${file}: X must be a uint8 array of size [H, W, 3, N], got MATLAB class ${x.classId} of size ${x.dims.join('×')}`,
    );
  }
  if (y.data.length !== count) throw new UserError(`${file}: y holds ${y.data.length} labels but X holds ${count} images`);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const value = y.data[i];
    if (!Number.isInteger(value) || value < 1 || value > 10) {
      throw new UserError(`${file}: label ${value} of example ${i} is outside 1..10`);
    }
    labels[i] = value % 10;
  }
  return { file, shape: [height, width, channels], count, columnMajor: data, labels };
}

/** The examples `window` of a file, in the HWC order of Examples. */
function toExamples({ shape, columnMajor, labels }: SvhnFile, window: Range): Examples {
  const [height, width, channels] = shape;
  const imageBytes = height * width * channels;
  const pixels = new Uint8Array(windowSize(window) * imageBytes);
  // MATLAB is column-major: X(h, w, c, n) sits at h + H·w + H·W·c + H·W·C·n.
  const strides = { h: 1, w: height, c: height * width };
  for (let n = window.start; n < window.end; n++) {
    copyToHWC(columnMajor, n * imageBytes, strides, pixels, (n - window.start) * imageBytes, shape);
  }
  return { pixels, labels: labels.slice(window.start, window.end), shape: [...shape] };
}

/**
 * Loads whichever of train_32x32.mat and test_32x32.mat `folder` holds (at least one): only the
 * examples the split `ranges` can use (see neededWindows) are copied out of the files.
 */
export async function loadSvhnFolder(folder: string, ranges: SplitRanges = {}): Promise<LoadedDataset> {
  await requireFolder(folder);
  const files: { train?: SvhnFile; test?: SvhnFile } = {};
  for (const [part, name] of [['train', TRAIN_FILE], ['test', TEST_FILE]] as const) {
    const file = path.join(folder, name);
    if ((await dataFileSize(file)) !== undefined) files[part] = await readSvhnFile(file);
  }
  const parts = (['train', 'test'] as const).filter((part) => files[part] !== undefined);
  if (parts.length === 0) throw new UserError(`${folder}: no SVHN files; expected ${TRAIN_FILE} and/or ${TEST_FILE}`);
  const windows = neededWindows({ train: files.train?.count, test: files.test?.count }, ranges);
  checkDatasetMemory(folder, parts.map((part) => ({ count: windowSize(windows[part]!), shape: files[part]!.shape })));
  const loaded: { train?: Examples; test?: Examples } = {};
  for (const part of parts) loaded[part] = toExamples(files[part]!, windows[part]!);
  return { kind: 'svhn', source: folder, classNames: [...DIGIT_NAMES], ...loaded, windows };
}
