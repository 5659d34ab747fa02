/** MNIST and Fashion-MNIST in LeCun's IDX format: a folder of train/t10k image+label files, gzipped or raw. */
import * as path from 'node:path';
import { UserError } from '../errors';
import { DIGIT_NAMES, FMNIST_NAMES } from './classNames';
import { checkLabels } from './examples';
import { isFile, readMaybeGzipped, requireFolder } from './files';
import type { Examples, LoadedDataset } from './types';

/** Only unsigned-byte IDX files exist for (Fashion-)MNIST. */
const IDX_UBYTE = 0x08;

const IDX_FORMATS = {
  images: { ndims: 3, content: 'pixel data', header: (d: number[]) => `${d[0]} images of ${d[1]}×${d[2]}` },
  labels: { ndims: 1, content: 'label data', header: (d: number[]) => `${d[0]} labels` },
};

interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Reads one IDX file, checking the magic number, the dimensions and that the length matches the header. */
async function readIdx(file: string, format: keyof typeof IDX_FORMATS): Promise<IdxArray> {
  const { ndims, content, header } = IDX_FORMATS[format];
  const bytes = await readMaybeGzipped(file);
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== IDX_UBYTE) {
    throw new UserError(`${file}: not an unsigned-byte IDX file (bad magic number)`);
  }
  if (bytes[3] !== ndims) {
    throw new UserError(`${file}: expected ${ndims} dimension(s) for ${format} but the header says ${bytes[3]}`);
  }
  const headerSize = 4 + 4 * ndims;
  if (bytes.length < headerSize) throw new UserError(`${file}: truncated inside the header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  // IDX is big-endian.
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const held = bytes.length - headerSize;
  if (held !== expected) {
    const problem = held < expected ? 'truncated' : 'longer than its header says';
    throw new UserError(`${file}: ${problem}: header says ${header(dims)} but file holds ${held} bytes of ${content}`);
  }
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerSize, held) };
}

/** `name` or `name.gz`, whichever is in the folder. */
async function findVariant(folder: string, name: string): Promise<string | undefined> {
  for (const candidate of [name, `${name}.gz`]) {
    const file = path.join(folder, candidate);
    if (await isFile(file)) return file;
  }
  return undefined;
}

/** One train or t10k pair, or undefined when neither of its files exists. */
async function loadPair(folder: string, prefix: 'train' | 't10k', numClasses: number): Promise<Examples | undefined> {
  const imagesName = `${prefix}-images-idx3-ubyte`;
  const labelsName = `${prefix}-labels-idx1-ubyte`;
  const imagesFile = await findVariant(folder, imagesName);
  const labelsFile = await findVariant(folder, labelsName);
  if (!imagesFile && !labelsFile) return undefined;
  if (!imagesFile || !labelsFile) {
    const [found, missing] = imagesFile ? [imagesFile, labelsName] : [labelsFile!, imagesName];
    throw new UserError(`${folder}: found ${path.basename(found)} but not ${missing}[.gz] beside it`);
  }
  const images = await readIdx(imagesFile, 'images');
  const labels = await readIdx(labelsFile, 'labels');
  if (images.dims[0] !== labels.dims[0]) {
    throw new UserError(
      `${labelsFile}: holds ${labels.dims[0]} labels but ${path.basename(imagesFile)} holds ${images.dims[0]} images`,
    );
  }
  const labelArray = Int32Array.from(labels.data);
  checkLabels(labelArray, numClasses, labelsFile);
  return { pixels: images.data, labels: labelArray, shape: [images.dims[1], images.dims[2], 1] };
}

/** Loads whichever of the train and t10k pairs `folder` holds (at least one). */
export async function loadIdxFolder(folder: string, kind: 'mnist' | 'fmnist'): Promise<LoadedDataset> {
  await requireFolder(folder);
  const classNames = kind === 'mnist' ? DIGIT_NAMES : FMNIST_NAMES;
  const train = await loadPair(folder, 'train', classNames.length);
  const test = await loadPair(folder, 't10k', classNames.length);
  if (!train && !test) {
    throw new UserError(
      `${folder}: no ${kind === 'mnist' ? 'MNIST' : 'Fashion-MNIST'} files; expected train-images-idx3-ubyte[.gz] + ` +
        'train-labels-idx1-ubyte[.gz] and/or t10k-images-idx3-ubyte[.gz] + t10k-labels-idx1-ubyte[.gz]',
    );
  }
  return { kind, source: folder, classNames: [...classNames], train, test };
}
