/**
 * The built-in dataset: 10 classes of procedurally drawn 28×28 grayscale shapes, no download.
 * Position, size, rotation, stroke width, intensity and noise level vary per image (seeded), so a
 * small CNN has to learn shape rather than pixel positions, yet reaches ~95–100%.
 */
import { UserError } from '../errors';
import { CONFIG_LIMITS } from '../limits';
import { Random } from '../random';
import type { Examples, LoadedDataset } from './types';

export interface SyntheticOptions {
  /** Default 5000. */
  train?: number;
  /** Default 1000. */
  test?: number;
  /** Default 0. */
  seed?: number;
}

const SIDE = 28;

/** Math.hypot is several times slower, and this runs for every pixel. */
function length(x: number, y: number): number {
  return Math.sqrt(x * x + y * y);
}

/** Distance from (u, v) to the segment (ax, ay)–(bx, by). */
function segment(u: number, v: number, ax: number, ay: number, bx: number, by: number): number {
  const ex = bx - ax;
  const ey = by - ay;
  const t = Math.min(Math.max(((u - ax) * ex + (v - ay) * ey) / (ex * ex + ey * ey), 0), 1);
  return length(u - ax - t * ex, v - ay - t * ey);
}

/**
 * Each shape is a distance field in shape coordinates (the shape fits in [-1, 1]², y down):
 * 0 on the stroke or inside a filled area, growing with the distance from it.
 */
const SHAPES: { name: string; distance: (u: number, v: number) => number }[] = [
  { name: 'ring', distance: (u, v) => Math.abs(length(u, v) - 0.9) },
  { name: 'corner', distance: (u, v) => Math.min(segment(u, v, -0.8, -0.9, -0.8, 0.8), segment(u, v, -0.8, 0.8, 0.9, 0.8)) },
  {
    name: 'square',
    distance: (u, v) => length(Math.max(Math.abs(u) - 0.7, 0), Math.max(Math.abs(v) - 0.7, 0)),
  },
  {
    name: 'triangle',
    distance: (u, v) =>
      Math.min(segment(u, v, 0, -0.9, 0.95, 0.75), segment(u, v, 0.95, 0.75, -0.95, 0.75), segment(u, v, -0.95, 0.75, 0, -0.9)),
  },
  { name: 'plus', distance: (u, v) => Math.min(segment(u, v, -1, 0, 1, 0), segment(u, v, 0, -1, 0, 1)) },
  {
    name: 'cross',
    distance: (u, v) => Math.min(segment(u, v, -0.75, -0.75, 0.75, 0.75), segment(u, v, -0.75, 0.75, 0.75, -0.75)),
  },
  { name: 'horizontal bar', distance: (u, v) => segment(u, v, -1, 0, 1, 0) },
  { name: 'vertical bar', distance: (u, v) => segment(u, v, 0, -1, 0, 1) },
  { name: 'diagonal', distance: (u, v) => segment(u, v, -0.75, 0.75, 0.75, -0.75) },
  { name: 'two dots', distance: (u, v) => Math.max(Math.min(length(u + 0.6, v), length(u - 0.6, v)) - 0.3, 0) },
];

export const SYNTHETIC_CLASS_NAMES = SHAPES.map((shape) => shape.name);

/** Draws one anti-aliased shape with random pose and style, plus uniform noise, into `out`. */
function drawShape(label: number, rng: Random, out: Uint8Array, offset: number): void {
  const { distance } = SHAPES[label];
  const scale = rng.uniform(4.5, 9); // half-size in pixels
  const angle = rng.uniform(-0.3, 0.3); // small enough that bars and diagonals stay distinct
  // Rotated corners reach 1.2·scale from the centre; keep them inside the image.
  const cx = rng.uniform(1.2 * scale + 1, SIDE - 1.2 * scale - 1);
  const cy = rng.uniform(1.2 * scale + 1, SIDE - 1.2 * scale - 1);
  const halfWidth = rng.uniform(0.6, 1.8);
  const intensity = rng.uniform(0.5, 1);
  const noise = rng.uniform(0.05, 0.25);
  const cos = Math.cos(angle) / scale;
  const sin = Math.sin(angle) / scale;
  // Beyond this distance from the centre nothing is drawn, so the distance field is skipped there.
  const reach = 1.2 * scale + halfWidth + 1;
  for (let y = 0; y < SIDE; y++) {
    const dy = y + 0.5 - cy;
    for (let x = 0; x < SIDE; x++) {
      const dx = x + 0.5 - cx;
      let coverage = 0;
      if (Math.abs(dx) < reach && Math.abs(dy) < reach) {
        const pixelDistance = distance(cos * dx + sin * dy, cos * dy - sin * dx) * scale;
        coverage = Math.min(Math.max(halfWidth + 0.5 - pixelDistance, 0), 1);
      }
      // Uniform rather than Gaussian noise: a Box–Muller draw per pixel would double the generation time.
      const value = intensity * coverage + noise * rng.uniform(-1, 1);
      out[offset + y * SIDE + x] = Math.round(Math.min(Math.max(value, 0), 1) * 255);
    }
  }
}

/** `count` images with classes in turn (0, 1, …, 9, 0, …), so every class is (almost) equally common. */
function generate(count: number, seed: number): Examples {
  const rng = new Random(seed);
  const pixels = new Uint8Array(count * SIDE * SIDE);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % SHAPES.length;
    drawShape(labels[i], rng, pixels, i * SIDE * SIDE);
  }
  return { pixels, labels, shape: [SIDE, SIDE, 1] };
}

function checkCount(count: number, name: string): number {
  if (!Number.isInteger(count) || count < 0) {
    throw new UserError(`synthetic ${name} count must be a whole number ≥ 0, got ${count}`);
  }
  if (count > CONFIG_LIMITS.syntheticExamples) throw new UserError(`synthetic ${name} count must be at most ${CONFIG_LIMITS.syntheticExamples}, got ${count} (README › Limits)`);
  return count;
}

export function makeSynthetic({ train = 5000, test = 1000, seed = 0 }: SyntheticOptions = {}): LoadedDataset {
  return {
    kind: 'synthetic',
    source: 'built-in',
    classNames: [...SYNTHETIC_CLASS_NAMES],
    train: generate(checkCount(train, 'train'), seed),
    // A separate stream, so the test images do not depend on how many training images were asked for.
    test: generate(checkCount(test, 'test'), (seed + 0x9e3779b9) >>> 0),
  };
}
