/** Helpers for turning raw file contents into `Examples`. */
import { UserError } from '../errors';

/** How far apart (in elements) neighbouring rows, columns and channels are in a source image. */
export interface Strides {
  h: number;
  w: number;
  c: number;
}

/**
 * Copies one image stored in any layout (planar CHW for CIFAR, column-major for MATLAB) into
 * `dst` at `dstStart` in the HWC order that `Examples` uses.
 */
export function copyToHWC(
  src: Uint8Array,
  srcStart: number,
  strides: Strides,
  dst: Uint8Array,
  dstStart: number,
  [height, width, channels]: [number, number, number],
): void {
  let out = dstStart;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const base = srcStart + y * strides.h + x * strides.w;
      for (let c = 0; c < channels; c++) dst[out++] = src[base + c * strides.c];
    }
  }
}

/** Fails unless every label is an integer in [0, numClasses). */
export function checkLabels(labels: Int32Array, numClasses: number, file: string): void {
  const bad = labels.findIndex((label) => label < 0 || label >= numClasses);
  if (bad >= 0) {
    throw new UserError(`${file}: label ${labels[bad]} of example ${bad} is outside 0..${numClasses - 1}`);
  }
}
