/**
 * A folder of images with one sub-folder per class (PNG or JPEG). Every image is resized
 * bilinearly (see resize.ts) to the requested size or else to the size of the first image
 * (first class, first file, in sorted order). Alpha is dropped, not composited.
 */
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { constants, inflateSync } from 'node:zlib';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { UserError } from '../errors';
import { DATA_LIMITS } from '../limits';
import { checkDatasetMemory, checkImageSize } from './budget';
import { describe, readBytes, requireFolder } from './files';
import { resizeBilinear } from './resize';
import { SplitRanges, neededWindows, windowSize } from './split';
import type { LoadedDataset } from './types';

export interface ImageFolderOptions {
  /** [height, width] to resize every image to; default: the first image's size. */
  imageSize?: [number, number];
  /** Default: 1 if every image is grayscale (R = G = B everywhere), else 3. */
  channels?: 1 | 3;
}

const IMAGE_EXTENSIONS = /\.(png|jpe?g)$/i;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** JPEG markers without a length field (TEM, RST0–7, SOI, EOI). */
const STANDALONE_MARKERS = new Set([0x01, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9]);
/** Real JPEGs have a few dozen segments before the frame header (SOF); a hostile one could have millions. */
const MAX_SEGMENTS_BEFORE_FRAME = 1024;
/** jpeg-js's own guard on what it allocates while decoding (its default is 512). */
const JPEG_DECODER_MEMORY_MB = 256;

interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

/** What an image's header declares, read without decoding it. */
export interface ImageHeader {
  format: 'PNG' | 'JPEG';
  width: number;
  height: number;
  /** PNG only: Adam7 interlacing. */
  interlaced: boolean;
}

/** The size an image file declares (PNG IHDR, JPEG SOFn), by content, not extension. */
export function readImageHeader(file: string, bytes: Buffer): ImageHeader {
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(PNG_SIGNATURE)) {
    if (bytes.length < 33 || bytes.toString('latin1', 12, 16) !== 'IHDR') {
      throw new UserError(`${file}: cannot decode PNG image (no IHDR header)`);
    }
    return { format: 'PNG', width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20), interlaced: bytes[28] !== 0 };
  }
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    let at = 2;
    for (let segment = 0; segment < MAX_SEGMENTS_BEFORE_FRAME && at + 4 <= bytes.length; segment++) {
      if (bytes[at] !== 0xff) break;
      const marker = bytes[at + 1];
      if (marker === 0xff) {
        at++; // fill byte
        continue;
      }
      const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
      if (isFrame) {
        if (at + 9 > bytes.length) break;
        return { format: 'JPEG', height: bytes.readUInt16BE(at + 5), width: bytes.readUInt16BE(at + 7), interlaced: false };
      }
      at += STANDALONE_MARKERS.has(marker) ? 2 : 2 + bytes.readUInt16BE(at + 2);
    }
    throw new UserError(`${file}: cannot decode JPEG image (no frame header found)`);
  }
  throw new UserError(`${file}: not a PNG or JPEG image`);
}

/** Fails unless a source image's declared size is within DATA_LIMITS.sourceImagePixels. */
function checkSourceSize(file: string, { format, width, height }: ImageHeader): void {
  if (width < 1 || height < 1) throw new UserError(`${file}: ${format} header declares an empty ${width}×${height} image`);
  if (width * height > DATA_LIMITS.sourceImagePixels) {
    throw new UserError(
      `${file}: ${format} header declares ${width}×${height} pixels, above the ${DATA_LIMITS.sourceImagePixels} pixel limit for one image (README › Limits)`,
    );
  }
}

/** Samples per pixel of each PNG colour type (grey, RGB, palette, grey + alpha, RGBA). */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Adam7 passes: first column and row, and the steps between them. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

/** Bytes a PNG's image data inflates to: per row of each (Adam7) pass, a filter byte and the packed samples. */
function pngDataBytes(width: number, height: number, bitsPerPixel: number, interlaced: boolean): number {
  const rows = (w: number, h: number) => (w > 0 && h > 0 ? h * (Math.ceil((w * bitsPerPixel) / 8) + 1) : 0);
  if (!interlaced) return rows(width, height);
  return ADAM7.reduce((sum, [x0, y0, dx, dy]) => sum + rows(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy)), 0);
}

/**
 * Inflates a PNG's image data, at most the size its header implies, and refuses data that is
 * shorter or longer: pngjs inflates interlaced images without a limit, and for short data it
 * returns pixels from uninitialised memory.
 */
function checkPngData(file: string, bytes: Buffer, { width, height, interlaced }: ImageHeader): void {
  const channels = PNG_CHANNELS[bytes[25]];
  const depth = bytes[24];
  if (channels === undefined || ![1, 2, 4, 8, 16].includes(depth)) {
    throw new UserError(`${file}: cannot decode PNG image (colour type ${bytes[25]} with bit depth ${depth})`);
  }
  const expected = pngDataBytes(width, height, channels * depth, interlaced);
  const idat: Buffer[] = [];
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = bytes.readUInt32BE(at);
    if (bytes.toString('latin1', at + 4, at + 8) === 'IDAT') idat.push(bytes.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  let inflated: Buffer;
  try {
    inflated = inflateSync(Buffer.concat(idat), { maxOutputLength: expected, finishFlush: constants.Z_SYNC_FLUSH });
  } catch (err) {
    const problem = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? `image data inflates to more than the ${expected} bytes of a ${width}×${height} image` : describe(err);
    throw new UserError(`${file}: cannot decode PNG image (${problem})`);
  }
  if (inflated.length !== expected) {
    throw new UserError(`${file}: cannot decode PNG image (image data holds ${inflated.length} of the ${expected} bytes of a ${width}×${height} image)`);
  }
}

/** Decodes to RGBA, after checking the declared size against the limits (decoders trust it). */
function decodeImage(file: string, bytes: Buffer): Rgba {
  const header = readImageHeader(file, bytes);
  checkSourceSize(file, header);
  if (header.format === 'PNG') checkPngData(file, bytes, header);
  let image: Rgba;
  try {
    image =
      header.format === 'PNG'
        ? PNG.sync.read(bytes)
        : jpeg.decode(bytes, {
            useTArray: true,
            formatAsRGBA: true,
            maxResolutionInMP: DATA_LIMITS.sourceImagePixels / 1e6,
            maxMemoryUsageInMB: JPEG_DECODER_MEMORY_MB,
          });
  } catch (err) {
    throw new UserError(`${file}: cannot decode ${header.format} image (${(err as Error).message})`);
  }
  if (image.width !== header.width || image.height !== header.height || image.data.length !== image.width * image.height * 4) {
    throw new UserError(`${file}: cannot decode ${header.format} image (decoded ${image.width}×${image.height}, header says ${header.width}×${header.height})`);
  }
  return image;
}

function isGray({ data }: Rgba): boolean {
  for (let i = 0; i < data.length; i += 4) {
    if (data[i] !== data[i + 1] || data[i] !== data[i + 2]) return false;
  }
  return true;
}

/** Visible (non-hidden) entries of `folder` that pass `keep`, sorted so the class order is stable. */
async function listSorted(folder: string, keep: (entry: { name: string; isDirectory(): boolean }) => boolean): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  return entries.filter((entry) => !entry.name.startsWith('.') && keep(entry)).map((entry) => entry.name).sort();
}

function checkOptions({ imageSize, channels }: ImageFolderOptions): void {
  if (imageSize && !imageSize.every((side) => Number.isInteger(side) && side > 0)) {
    throw new UserError(`image size ${imageSize.join('×')} is invalid: expected two positive integers`);
  }
  if (channels !== undefined && channels !== 1 && channels !== 3) {
    throw new UserError(`channels must be 1 or 3, got ${channels}`);
  }
}

/** Loads the folder's images: only those the split `ranges` can use (see neededWindows) are kept. */
export async function loadImageFolder(folder: string, options: ImageFolderOptions = {}, ranges: SplitRanges = {}): Promise<LoadedDataset> {
  checkOptions(options);
  await requireFolder(folder);
  const classNames = await listSorted(folder, (entry) => entry.isDirectory());
  if (classNames.length < 2) {
    throw new UserError(
      `${folder}: found ${classNames.length} class folder(s); need at least 2 (one sub-folder of images per class)`,
    );
  }
  const files: { file: string; label: number }[] = [];
  for (const [label, name] of classNames.entries()) {
    const classFolder = path.join(folder, name);
    const images = await listSorted(classFolder, (entry) => !entry.isDirectory() && IMAGE_EXTENSIONS.test(entry.name));
    if (images.length === 0) throw new UserError(`${classFolder}: no PNG or JPEG images in this class folder`);
    for (const image of images) files.push({ file: path.join(classFolder, image), label });
  }

  const decodeFile = async (file: string) => decodeImage(file, await readBytes(file, DATA_LIMITS.sourceImageBytes));
  const first = await decodeFile(files[0].file);
  const [height, width] = options.imageSize ?? [first.height, first.width];
  const sizeSource = options.imageSize ? 'the requested image size' : files[0].file;
  checkImageSize(sizeSource, height, width, "use smaller images or set the dataset's imageSize");
  const { train: window } = neededWindows({ train: files.length }, ranges);
  checkDatasetMemory(folder, [{ count: windowSize(window!), shape: [height, width, 3] }], 'set a smaller dataset imageSize');
  // Resize to RGB first; whether the set is grayscale is only known once every image is decoded
  // (all of them, loaded or not, so that a range does not change the number of channels).
  const rgb = new Uint8Array(windowSize(window!) * height * width * 3);
  let allGray = true;
  for (const [n, { file }] of files.entries()) {
    const loaded = n >= window!.start && n < window!.end;
    if (!loaded && options.channels !== undefined) continue;
    const image = n === 0 ? first : await decodeFile(file);
    allGray &&= isGray(image);
    if (loaded) resizeBilinear(image.data, [image.height, image.width, 4], rgb, (n - window!.start) * height * width * 3, [height, width, 3]);
  }
  const channels = options.channels ?? (allGray ? 1 : 3);
  const labels = Int32Array.from(files.slice(window!.start, window!.end), ({ label }) => label);
  return {
    kind: 'folder',
    source: folder,
    classNames,
    train: { pixels: channels === 3 ? rgb : luminance(rgb), labels, shape: [height, width, channels] },
    windows: { train: window },
  };
}

/** ITU-R BT.601 luma; leaves gray pixels (R = G = B) unchanged. */
function luminance(rgb: Uint8Array): Uint8Array {
  const gray = new Uint8Array(rgb.length / 3);
  for (let i = 0; i < gray.length; i++) {
    gray[i] = Math.round(0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2]);
  }
  return gray;
}
