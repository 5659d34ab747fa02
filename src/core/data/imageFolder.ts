/**
 * A folder of images with one sub-folder per class (PNG or JPEG). Every image is resized
 * bilinearly (see resize.ts) to the requested size or else to the size of the first image
 * (first class, first file, in sorted order). Alpha is dropped, not composited.
 */
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { UserError } from '../errors';
import { readBytes, requireFolder } from './files';
import { resizeBilinear } from './resize';
import type { LoadedDataset } from './types';

export interface ImageFolderOptions {
  /** [height, width] to resize every image to; default: the first image's size. */
  imageSize?: [number, number];
  /** Default: 1 if every image is grayscale (R = G = B everywhere), else 3. */
  channels?: 1 | 3;
}

const IMAGE_EXTENSIONS = /\.(png|jpe?g)$/i;

interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Decodes by content (magic bytes), not by extension, to RGBA. */
function decodeImage(file: string, bytes: Buffer): Rgba {
  const isPng = bytes.length >= 4 && bytes.readUInt32BE(0) === 0x89504e47;
  const isJpeg = bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xd8;
  if (!isPng && !isJpeg) throw new UserError(`${file}: not a PNG or JPEG image`);
  try {
    return isPng ? PNG.sync.read(bytes) : jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  } catch (err) {
    throw new UserError(`${file}: cannot decode ${isPng ? 'PNG' : 'JPEG'} image (${(err as Error).message})`);
  }
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

export async function loadImageFolder(folder: string, options: ImageFolderOptions = {}): Promise<LoadedDataset> {
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

  const decodeFile = async (file: string) => decodeImage(file, await readBytes(file));
  const first = await decodeFile(files[0].file);
  const [height, width] = options.imageSize ?? [first.height, first.width];
  // Resize to RGB first; whether the set is grayscale is only known once every image is decoded.
  const rgb = new Uint8Array(files.length * height * width * 3);
  let allGray = true;
  for (const [n, { file }] of files.entries()) {
    const image = n === 0 ? first : await decodeFile(file);
    allGray &&= isGray(image);
    resizeBilinear(image.data, [image.height, image.width, 4], rgb, n * height * width * 3, [height, width, 3]);
  }
  const channels = options.channels ?? (allGray ? 1 : 3);
  const labels = Int32Array.from(files, ({ label }) => label);
  return {
    kind: 'folder',
    source: folder,
    classNames,
    train: { pixels: channels === 3 ? rgb : luminance(rgb), labels, shape: [height, width, channels] },
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
