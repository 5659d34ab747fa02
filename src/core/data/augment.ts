import { Random } from '../random';

/**
 * Shifts each image of a batch by a random whole number of pixels in [−maxShift, maxShift] along
 * each axis, filling the uncovered border with 0 (training-time augmentation; in place).
 */
export function shiftImages(x: Float32Array, shape: readonly [number, number, number], maxShift: number, random: Random): void {
  const [height, width, channels] = shape;
  const size = height * width * channels;
  const copy = new Float32Array(size);
  for (let offset = 0; offset < x.length; offset += size) {
    const dy = random.int(2 * maxShift + 1) - maxShift;
    const dx = random.int(2 * maxShift + 1) - maxShift;
    if (dx === 0 && dy === 0) continue;
    copy.set(x.subarray(offset, offset + size));
    for (let r = 0; r < height; r++) {
      for (let c = 0; c < width; c++) {
        const sr = r - dy;
        const sc = c - dx;
        const inside = sr >= 0 && sr < height && sc >= 0 && sc < width;
        for (let k = 0; k < channels; k++) x[offset + (r * width + c) * channels + k] = inside ? copy[(sr * width + sc) * channels + k] : 0;
      }
    }
  }
}
