import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../../src/core/tf';
import { initBackend } from '../../src/core/backend';
import { lossConfig } from '../../src/core/loss';
import { createModel } from '../../src/core/models';
import { dropoutStepSeed, mixSeed, unseedableNoiseLayers, withDropoutSeed } from '../../src/core/models/dropout';
import { TRAIN_DEFAULTS } from '../../src/core/train/defaults';
import { TrainConfig, TrainingCancelled, train } from '../../src/core/train/trainer';

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-repro-'));

/** A tiny run with everything random in play: dropout (MLP), shifts, shuffling, validation split, initialisers. */
function config(outDir: string, seed: number, overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    dataset: { kind: 'synthetic', syntheticTrain: 200, syntheticTest: 40, seed: 1 },
    split: { trainRange: null, testRange: null, validationFraction: 0.1 },
    model: 'mlp',
    fineTuneFrom: null,
    loss: lossConfig('gccs'),
    optimizer: TRAIN_DEFAULTS.optimizer,
    batchSize: 60,
    epochs: 3,
    seed,
    outDir,
    resume: false,
    augmentShift: 1,
    ...overrides,
  };
}

/** The bytes of every weight file model.json names, in its order. */
function weightBytes(modelDir: string): Buffer {
  const manifest = (JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] }).weightsManifest;
  return Buffer.concat(manifest.flatMap((group) => group.paths.map((p) => fs.readFileSync(path.join(modelDir, p)))));
}

function smallDropoutModel(): tfl.LayersModel {
  const inner = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [8], units: 32, kernelInitializer: 'ones' }), tfl.layers.dropout({ rate: 0.5 })] });
  const input = tfl.input({ shape: [8] });
  const hidden = inner.apply(input) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: tfl.layers.dropout({ rate: 0.5 }).apply(hidden) as tfl.SymbolicTensor });
}

test('a step seed fixes the dropout masks of every dropout layer, nested ones included, and leaves no seed in the model', async () => {
  await initBackend('wasm');
  const model = smallDropoutModel();
  const x = tf.ones([4, 8]);
  const pass = (seed: number) => withDropoutSeed(model, seed, () => tf.tidy(() => Array.from((model.apply(x, { training: true }) as tf.Tensor).dataSync())));
  const first = pass(dropoutStepSeed(0, 0));
  assert.deepEqual(pass(dropoutStepSeed(0, 0)), first, 'same step, same masks');
  const zeros = first.filter((v) => v === 0).length;
  assert.ok(zeros > 20 && zeros < 120, `both layers drop about 3/4 of 128 values (${zeros} zeros)`);
  assert.notDeepEqual(pass(dropoutStepSeed(0, 1)), first, 'the next step draws other masks');
  assert.notDeepEqual(pass(dropoutStepSeed(1, 0)), first, 'another run seed draws other masks');
  // The seeds are put back: the saved topology carries none, and inference is untouched.
  const json = JSON.stringify(model.toJSON(null, false));
  assert.ok(!/"seed":\s*\d/.test(json), 'no dropout seed left in the topology');
  x.dispose();
  model.dispose();
});

test('mixSeed: distinct seeds for distinct (run, step) pairs, including seeds beyond 32 bits and negative ones', () => {
  const seen = new Set<number>();
  for (const run of [0, 1, 2, -1, 2 ** 32, 2 ** 40 + 3]) for (let step = 0; step < 2000; step++) seen.add(dropoutStepSeed(run, step));
  assert.equal(seen.size, 6 * 2000);
  assert.equal(mixSeed(5, 7), mixSeed(5, 7));
  assert.notEqual(mixSeed(5, 7), mixSeed(7, 5));
});

test('fresh models of every architecture from the same seed have the same weights, seed 0 included', async () => {
  await initBackend('wasm');
  for (const architecture of ['mlp', 'cnn', 'resnet18'] as const) {
    for (const seed of [0, 1]) {
      const [first, second] = [await createModel(architecture, [32, 32, 3], 10, seed), await createModel(architecture, [32, 32, 3], 10, seed)];
      first.getWeights().forEach((w, i) => assert.ok(Buffer.from((w.dataSync() as Float32Array).buffer).equals(Buffer.from((second.getWeights()[i].dataSync() as Float32Array).buffer)), `${architecture}, seed ${seed}: weight ${i} differs`));
      first.dispose();
      second.dispose();
    }
  }
});

test('layers whose noise cannot be seeded are named', () => {
  const layers = [tfl.layers.dense({ inputShape: [4], units: 4 }), tfl.layers.gaussianNoise({ stddev: 0.1, name: 'noise' }), tfl.layers.dropout({ rate: 0.2 })];
  const model = tfl.sequential({ layers });
  assert.deepEqual(unseedableNoiseLayers(model), ['noise (GaussianNoise)']);
  model.dispose();
});

test('two trainings with the same seed write byte-identical weights on wasm; another seed does not', async () => {
  await initBackend('wasm');
  const [a, b, c] = [tempDir(), tempDir(), tempDir()];
  // Seed 0, the default: TensorFlow.js's normal initialisers take a layer seed of 0 for "no seed".
  await train(config(a, 0), 'wasm', () => undefined);
  await train(config(b, 0), 'wasm', () => undefined);
  await train(config(c, 1), 'wasm', () => undefined);
  const bytes = weightBytes(a);
  assert.ok(bytes.length > 100_000, 'the MLP was written');
  assert.ok(bytes.equals(weightBytes(b)), 'same seed: byte-identical weights');
  assert.ok(!bytes.equals(weightBytes(c)), 'another seed: other weights');
});

test('a run cancelled after epoch 1 and resumed ends with the same bytes as an uninterrupted run', async () => {
  await initBackend('wasm');
  const straight = tempDir();
  await train(config(straight, 5), 'wasm', () => undefined);
  const resumed = tempDir();
  const controller = new AbortController();
  await assert.rejects(
    train(config(resumed, 5), 'wasm', (event) => {
      if (event.type === 'epoch') controller.abort();
    }, controller.signal),
    TrainingCancelled,
  );
  await train(config(resumed, 5, { resume: true }), 'wasm', () => undefined);
  assert.ok(weightBytes(resumed).equals(weightBytes(straight)), 'resumed run = uninterrupted run, bit for bit');
});

test('data parallel: two 2-process trainings with the same seed write byte-identical weights', async () => {
  await initBackend('wasm');
  const [a, b] = [tempDir(), tempDir()];
  await train(config(a, 3, { epochs: 2, workers: 2 }), 'wasm', () => undefined);
  await train(config(b, 3, { epochs: 2, workers: 2 }), 'wasm', () => undefined);
  assert.ok(weightBytes(a).equals(weightBytes(b)));
});
