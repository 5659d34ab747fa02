/**
 * A small classification problem with a plain (unmasked) linear classifier, and two deliberately
 * masked versions of it: one whose outputs pass through a softmax, one through a steep tanh. All
 * three classify alike; only the masked ones hide their gradients.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../../src/core/tf';
import type { Examples } from '../../src/core/data/types';
import { Random } from '../../src/core/random';

const LOW = 0.2;
const HIGH = 0.8;

export interface Problem {
  side: number;
  /** Each class's prototype image: half its pixels at 0.8, the others at 0.2 (so all have the same norm). */
  prototypes: number[][];
  examples: Examples;
}

/**
 * `perClass` samples of each of `classes` random prototypes, interleaved by class: each moved a
 * random part (up to `blend`) of the way toward another class's prototype, plus ±noise per pixel,
 * so that samples lie at varied distances from the decision boundaries.
 */
export function prototypeProblem({ classes = 4, side = 6, perClass = 50, noise = 0.1, blend = 0.4, seed = 1 } = {}): Problem {
  const random = new Random(seed);
  const size = side * side;
  const prototypes = Array.from({ length: classes }, () => {
    const order = Array.from({ length: size }, (_, i) => i).sort(() => random.next() - 0.5);
    const p = new Array<number>(size).fill(LOW);
    order.slice(0, size / 2).forEach((i) => (p[i] = HIGH));
    return p;
  });
  const n = classes * perClass;
  const pixels = new Uint8Array(n * size);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % classes;
    const [own, other] = [prototypes[labels[i]], prototypes[(labels[i] + 1 + random.int(classes - 1)) % classes]];
    const t = random.uniform(0, blend);
    for (let j = 0; j < size; j++) {
      const value = own[j] + t * (other[j] - own[j]) + random.uniform(-noise, noise);
      pixels[i * size + j] = Math.round(255 * Math.min(1, Math.max(0, value)));
    }
  }
  return { side, prototypes, examples: { pixels, labels, shape: [side, side, 1] } };
}

/**
 * z_k = scale·(2·p_k·x − ‖p_k‖² − ‖p‖² + margin) ≈ scale·(margin − ‖x − p_k‖²) near the
 * prototypes (all ‖p‖ are equal and ‖x‖ ≈ ‖p‖): positive for the nearest class only.
 */
function logitsLayer(problem: Problem, scale: number): { flatten: tfl.layers.Layer; dense: tfl.layers.Layer } {
  const { prototypes, side } = problem;
  const size = side * side;
  const norm = prototypes[0].reduce((a, v) => a + v * v, 0);
  const margin = 3;
  const flatten = tfl.layers.flatten({ inputShape: [side, side, 1] });
  const dense = tfl.layers.dense({ units: prototypes.length });
  const classes = prototypes.length;
  const kernel = Float32Array.from({ length: size * classes }, (_, i) => 2 * scale * prototypes[i % classes][Math.floor(i / classes)]);
  dense.build([null, size]);
  dense.setWeights([tf.tensor2d(kernel, [size, prototypes.length]), tf.fill([prototypes.length], scale * (margin - 2 * norm))]);
  return { flatten, dense };
}

function build(problem: Problem, after: tfl.layers.Layer[] = [], scale = 1): tfl.LayersModel {
  const { flatten, dense } = logitsLayer(problem, scale);
  return tfl.sequential({ layers: [flatten, dense, ...after] });
}

/** The plain classifier: raw logits. */
export const plainModel = (problem: Problem) => build(problem);

/** Masked: its outputs are the probabilities of a confident softmax (logits × 20, so most rows round to one-hot). */
export const softmaxModel = (problem: Problem) => build(problem, [tfl.layers.activation({ activation: 'softmax' })], 20);

/** Masked: its outputs are tanh(100·z), ±1 almost everywhere. */
export const saturatedModel = (problem: Problem) => build(problem, [tfl.layers.rescaling({ scale: 100 }), tfl.layers.activation({ activation: 'tanh' })]);
