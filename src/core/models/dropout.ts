import type * as tfl from '@tensorflow/tfjs-layers';

/**
 * Reproducible dropout. A TensorFlow.js Dropout layer with a fixed `seed` draws the same mask at
 * every call, and one without draws from Math.random (runs differ). So the layers carry no seed
 * in the model; each training step sets one, derived from the run's seed and the global step
 * index (and the process's rank when training data parallel), for the duration of its forward
 * pass: masks differ between steps and repeat between runs, and a resumed run continues with the
 * seeds it would have used. The masks are drawn in JavaScript, so they are the same on every backend.
 */

/** Layer classes whose training-mode noise takes a seed (Dropout and its subclass). */
const SEEDABLE = new Set(['Dropout', 'SpatialDropout1D']);
/** Layer classes whose training-mode noise always comes from Math.random: their runs cannot repeat. */
const UNSEEDABLE = new Set(['GaussianNoise', 'GaussianDropout', 'AlphaDropout']);

type Container = { layers: tfl.layers.Layer[] };
type SeedableLayer = tfl.layers.Layer & { seed?: number };

/** Every layer of a model, nested models included, in order. */
function allLayers(model: Container): tfl.layers.Layer[] {
  return model.layers.flatMap((layer) => ('layers' in layer ? [layer, ...allLayers(layer as unknown as Container)] : [layer]));
}

/**
 * Runs `pass` (a synchronous forward/backward pass in training mode) with every dropout layer
 * seeded from `stepSeed` (layer i gets mixSeed(stepSeed, i)), then puts the layers' own seeds back,
 * so the saved model.json is unchanged.
 */
export function withDropoutSeed<T>(model: Container, stepSeed: number, pass: () => T): T {
  const layers = allLayers(model).filter((layer) => SEEDABLE.has(layer.getClassName())) as SeedableLayer[];
  const own = layers.map((layer) => layer.seed);
  layers.forEach((layer, i) => (layer.seed = mixSeed(stepSeed, i)));
  try {
    return pass();
  } finally {
    layers.forEach((layer, i) => (layer.seed = own[i]));
  }
}

/** The seed of the training step with this global index (0-based, over all epochs) of a run. */
export function dropoutStepSeed(runSeed: number, globalStep: number): number {
  return mixSeed(runSeed, globalStep);
}

/** Names of the model's layers whose noise cannot be seeded (a run with them cannot repeat). */
export function unseedableNoiseLayers(model: Container): string[] {
  return allLayers(model)
    .filter((layer) => UNSEEDABLE.has(layer.getClassName()))
    .map((layer) => `${layer.name} (${layer.getClassName()})`);
}

/** A 32-bit seed from integers (murmur3's finaliser over each part's low and high 32 bits). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    for (const word of [part >>> 0, Math.floor(part / 4294967296) >>> 0]) {
      h = Math.imul(h ^ word, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
    }
  }
  return h >>> 0;
}
