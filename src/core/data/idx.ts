/** MNIST and Fashion-MNIST in LeCun's IDX format: a folder of train/t10k image+label files, gzipped or raw. */
import * as path from 'node:path';
import { UserError } from '../errors';
import { DATA_LIMITS } from '../limits';
import { DIGIT_NAMES, FMNIST_NAMES } from './classNames';
import { checkLabels } from './examples';
import { checkDatasetMemory, checkImageSize } from './budget';
import { ByteStream, dataFileSize, megabytes, openMaybeGzipped, requireFolder } from './files';
import { Range, SplitRanges, neededWindows, windowSize } from './split';
import type { Examples, LoadedDataset } from './types';

/** Only unsigned-byte IDX files exist for (Fashion-)MNIST. */
const IDX_UBYTE = 0x08;

const IDX_FORMATS = {
  images: { ndims: 3, content: 'pixel data', header: (d: number[]) => `${d[0]} images of ${d[1]}×${d[2]}` },
  labels: { ndims: 1, content: 'label data', header: (d: number[]) => `${d[0]} labels` },
};

/** An IDX file whose header has been read; its data is still in the (possibly gunzipped) stream. */
interface OpenIdx {
  file: string;
  format: keyof typeof IDX_FORMATS;
  dims: number[];
  stream: ByteStream;
}

/** Opens one IDX file and reads its header, checking the magic number and the number of dimensions. */
async function openIdx(file: string, format: keyof typeof IDX_FORMATS): Promise<OpenIdx> {
  const { ndims } = IDX_FORMATS[format];
  const stream = await openMaybeGzipped(file);
  try {
    const magic = await stream.reader.read(4);
    if (!magic || magic[0] !== 0 || magic[1] !== 0 || magic[2] !== IDX_UBYTE) {
      throw new UserError(`${file}: not an unsigned-byte IDX file (bad magic number)`);
    }
    if (magic[3] !== ndims) {
      throw new UserError(`${file}: expected ${ndims} dimension(s) for ${format} but the header says ${magic[3]}`);
    }
    const header = await stream.reader.read(4 * ndims);
    if (!header) throw new UserError(`${file}: truncated inside the header`);
    // IDX is big-endian.
    const dims = Array.from({ length: ndims }, (_, i) => header.readUInt32BE(4 * i));
    const declared = dims.reduce((a, b) => a * b, 1);
    // A plain file holds what it declares (checked against its size); a gzipped one could inflate to anything.
    if (stream.gzipped && declared > DATA_LIMITS.inflatedBytes) {
      throw new UserError(
        `${file}: gzipped file declares ${megabytes(declared)} of ${IDX_FORMATS[format].content}, above the ${megabytes(DATA_LIMITS.inflatedBytes)} limit for one compressed stream (README › Limits); gunzip it to load it`,
      );
    }
    return { file, format, dims, stream };
  } catch (err) {
    stream.close();
    throw err;
  }
}

/**
 * Reads the examples `window` of an opened IDX file (its header checked against the limits
 * beforehand) into a buffer of their size, streaming past the others, and refuses a file that
 * holds fewer or more bytes than its header declares: a gzip bomb stops one chunk past that size.
 */
async function readIdxData({ file, format, dims, stream }: OpenIdx, window: Range): Promise<Uint8Array> {
  const { ndims, content, header } = IDX_FORMATS[format];
  const exampleBytes = dims.slice(1).reduce((a, b) => a * b, 1);
  const declared = dims[0] * exampleBytes;
  const mismatch = (held: number) =>
    new UserError(`${file}: ${held < declared ? 'truncated' : 'longer than its header says'}: header says ${header(dims)} but file holds ${held} bytes of ${content}`);
  try {
    // A plain file's size is known: compare before allocating. A gzipped one is read up to one chunk past the declared size.
    if (!stream.gzipped && stream.size - 4 - 4 * ndims !== declared) throw mismatch(stream.size - 4 - 4 * ndims);
    let held = 0;
    const skip = (bytes: number) => stream.reader.stream(bytes, (chunk) => (held += chunk.length));
    await skip(window.start * exampleBytes);
    const data = new Uint8Array((window.end - window.start) * exampleBytes);
    if (held === window.start * exampleBytes) held += await stream.reader.readInto(data);
    await skip(declared - held);
    if (held < declared) throw mismatch(held);
    if (!(await stream.reader.atEnd())) {
      throw new UserError(`${file}: longer than its header says: header says ${header(dims)} (${declared} bytes of ${content})`);
    }
    return data;
  } finally {
    stream.close();
  }
}

/** `name` or `name.gz`, whichever is in the folder. */
async function findVariant(folder: string, name: string): Promise<string | undefined> {
  for (const candidate of [name, `${name}.gz`]) {
    const file = path.join(folder, candidate);
    if ((await dataFileSize(file)) !== undefined) return file;
  }
  return undefined;
}

/** One train or t10k pair with its headers read and checked against each other and the image-size limit. */
interface OpenPair {
  images: OpenIdx;
  labels: OpenIdx;
}

/** Opens one train or t10k pair, or undefined when neither of its files exists. */
async function openPair(folder: string, prefix: 'train' | 't10k'): Promise<OpenPair | undefined> {
  const imagesName = `${prefix}-images-idx3-ubyte`;
  const labelsName = `${prefix}-labels-idx1-ubyte`;
  const imagesFile = await findVariant(folder, imagesName);
  const labelsFile = await findVariant(folder, labelsName);
  if (!imagesFile && !labelsFile) return undefined;
  if (!imagesFile || !labelsFile) {
    const [found, missing] = imagesFile ? [imagesFile, labelsName] : [labelsFile!, imagesName];
    throw new UserError(`${folder}: found ${path.basename(found)} but not ${missing}[.gz] beside it`);
  }
  const images = await openIdx(imagesFile, 'images');
  try {
    checkImageSize(imagesFile, images.dims[1], images.dims[2]);
    const labels = await openIdx(labelsFile, 'labels');
    if (images.dims[0] !== labels.dims[0]) {
      labels.stream.close();
      throw new UserError(
        `${labelsFile}: holds ${labels.dims[0]} labels but ${path.basename(imagesFile)} holds ${images.dims[0]} images`,
      );
    }
    return { images, labels };
  } catch (err) {
    images.stream.close();
    throw err;
  }
}

async function readPair({ images, labels }: OpenPair, window: Range, numClasses: number): Promise<Examples> {
  const pixels = await readIdxData(images, window);
  const labelArray = Int32Array.from(await readIdxData(labels, window));
  checkLabels(labelArray, numClasses, labels.file);
  return { pixels, labels: labelArray, shape: [images.dims[1], images.dims[2], 1] };
}

/**
 * Loads whichever of the train and t10k pairs `folder` holds (at least one): only the examples
 * the split `ranges` can use (see neededWindows).
 */
export async function loadIdxFolder(folder: string, kind: 'mnist' | 'fmnist', ranges: SplitRanges = {}): Promise<LoadedDataset> {
  await requireFolder(folder);
  const classNames = kind === 'mnist' ? DIGIT_NAMES : FMNIST_NAMES;
  // Both pairs' headers are read and checked before any pixel is allocated.
  const pairs: { train?: OpenPair; test?: OpenPair } = {};
  try {
    pairs.train = await openPair(folder, 'train');
    pairs.test = await openPair(folder, 't10k');
    const parts = (['train', 'test'] as const).filter((part) => pairs[part] !== undefined);
    if (parts.length === 0) {
      throw new UserError(
        `${folder}: no ${kind === 'mnist' ? 'MNIST' : 'Fashion-MNIST'} files; expected train-images-idx3-ubyte[.gz] + ` +
          'train-labels-idx1-ubyte[.gz] and/or t10k-images-idx3-ubyte[.gz] + t10k-labels-idx1-ubyte[.gz]',
      );
    }
    const windows = neededWindows({ train: pairs.train?.images.dims[0], test: pairs.test?.images.dims[0] }, ranges);
    checkDatasetMemory(
      folder,
      parts.map((part) => ({ count: windowSize(windows[part]!), shape: [pairs[part]!.images.dims[1], pairs[part]!.images.dims[2], 1] })),
    );
    const loaded: { train?: Examples; test?: Examples } = {};
    for (const part of parts) loaded[part] = await readPair(pairs[part]!, windows[part]!, classNames.length);
    return { kind, source: folder, classNames: [...classNames], ...loaded, windows };
  } finally {
    for (const pair of Object.values(pairs)) {
      pair?.images.stream.close();
      pair?.labels.stream.close();
    }
  }
}
