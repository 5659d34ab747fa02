/**
 * Checks on what a dataset's headers declare, made before any pixel is allocated: the image size
 * (the model's input) and the memory the whole dataset will take.
 */
import { UserError } from '../errors';
import { DATA_LIMITS } from '../limits';
import { megabytes } from './files';

/**
 * A dataset is held twice: the examples as loaded and the train/validation/test splits copied
 * from them (split.ts); each example is its pixels as bytes plus an int32 label.
 */
const COPIES_HELD = 2;
const LABEL_BYTES = 4;

/** One part of a dataset as its headers declare it. */
export interface DeclaredPart {
  count: number;
  /** [H, W, C]. */
  shape: readonly number[];
}

/** Bytes a dataset of these parts takes once loaded and split. */
function datasetBytes(parts: readonly DeclaredPart[]): number {
  return parts.reduce((sum, { count, shape }) => sum + count * (shape[0] * shape[1] * shape[2] + LABEL_BYTES) * COPIES_HELD, 0);
}

/** Fails unless `height`×`width` is a size a dataset's images may have (README › Limits). */
export function checkImageSize(file: string, height: number, width: number, wayOut = 'use smaller images'): void {
  if (!(Number.isInteger(height) && Number.isInteger(width) && height >= 1 && width >= 1)) {
    throw new UserError(`${file}: images of ${height}×${width} pixels: each side must be a whole number ≥ 1`);
  }
  const side = DATA_LIMITS.imageSide;
  if (height > side || width > side) {
    throw new UserError(
      `${file}: images of ${height}×${width} pixels are above the ${side}×${side} limit for a dataset's images (README › Limits); ${wayOut}`,
    );
  }
}

/**
 * Fails, with the figure and the way out, when loading `parts` would take more memory than
 * DATA_LIMITS.datasetBytes. `source` names the file or folder; `otherWayOut` adds a way to load less.
 */
export function checkDatasetMemory(source: string, parts: readonly DeclaredPart[], otherWayOut?: string): void {
  const bytes = datasetBytes(parts);
  if (bytes <= DATA_LIMITS.datasetBytes) return;
  const count = parts.reduce((sum, part) => sum + part.count, 0);
  const [h, w, c] = parts[0].shape;
  throw new UserError(
    `${source}: ${count} images of ${h}×${w}×${c} would need about ${megabytes(bytes)} of memory ` +
      `(images and labels held as loaded and as splits), above the ${megabytes(DATA_LIMITS.datasetBytes)} limit (README › Limits); ` +
      `load fewer with --train-range a:b --test-range c:d (split.trainRange/testRange): only the examples from the first to the last they name in each part are loaded` +
      (otherWayOut ? `, or ${otherWayOut}` : ''),
  );
}
