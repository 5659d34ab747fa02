/** SVHN "cropped digits" (train_32x32.mat / test_32x32.mat): X uint8 [H, W, 3, N] and y [N, 1] with 10 meaning digit 0. */
import * as path from 'node:path';
import { UserError } from '../errors';
import { DIGIT_NAMES } from './classNames';
import { copyToHWC } from './examples';
import { DeclaredPart, checkDatasetMemory, checkImageSize } from './budget';
import { dataFileSize, requireFolder } from './files';
import { MX_UINT8_CLASS, MatHeader, readMat } from './mat';
import type { Examples, LoadedDataset } from './types';

const TRAIN_FILE = 'train_32x32.mat';
const TEST_FILE = 'test_32x32.mat';

/**
 * Reads one SVHN file; X's declared size is checked (image size, and memory together with the
 * parts already loaded) before its data is inflated or copied.
 */
async function readSvhnFile(file: string, loaded: DeclaredPart[]): Promise<Examples> {
  const checkX = ({ name, dims }: MatHeader) => {
    if (name !== 'X' || dims.length < 3 || dims.length > 4) return;
    const [height, width, channels, count = 1] = dims;
    checkImageSize(file, height, width);
    checkDatasetMemory(file, [...loaded, { count, shape: [height, width, channels] }], 'use a file with fewer images');
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
  const imageBytes = height * width * channels;
  const pixels = new Uint8Array(count * imageBytes);
  // MATLAB is column-major: X(h, w, c, n) sits at h + H·w + H·W·c + H·W·C·n.
  const strides = { h: 1, w: height, c: height * width };
  for (let n = 0; n < count; n++) {
    copyToHWC(data, n * imageBytes, strides, pixels, n * imageBytes, [height, width, channels]);
  }
  return { pixels, labels, shape: [height, width, channels] };
}

/** Loads whichever of train_32x32.mat and test_32x32.mat `folder` holds (at least one). */
export async function loadSvhnFolder(folder: string): Promise<LoadedDataset> {
  await requireFolder(folder);
  const loaded: DeclaredPart[] = [];
  const load = async (name: string) => {
    const file = path.join(folder, name);
    if ((await dataFileSize(file)) === undefined) return undefined;
    const examples = await readSvhnFile(file, loaded);
    loaded.push({ count: examples.labels.length, shape: examples.shape });
    return examples;
  };
  const train = await load(TRAIN_FILE);
  const test = await load(TEST_FILE);
  if (!train && !test) throw new UserError(`${folder}: no SVHN files; expected ${TRAIN_FILE} and/or ${TEST_FILE}`);
  return { kind: 'svhn', source: folder, classNames: [...DIGIT_NAMES], train, test };
}
