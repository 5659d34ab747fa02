import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../../src/core/tf';
import { initBackend } from '../../src/core/backend';
import { UserError } from '../../src/core/errors';
import { loadModelDir, saveModelDir } from '../../src/core/io/modelDir';
import { lossConfig } from '../../src/core/loss';
import { TRAIN_DEFAULTS } from '../../src/core/train/defaults';
import { TrainConfig, TrainingCancelled, train } from '../../src/core/train/trainer';

function config(outDir: string, overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    dataset: { kind: 'synthetic', syntheticTrain: 400, syntheticTest: 100, seed: 1 },
    split: { trainRange: null, testRange: null, validationFraction: 0.1 },
    model: 'cnn',
    fineTuneFrom: null,
    loss: lossConfig('gccs'),
    optimizer: TRAIN_DEFAULTS.optimizer,
    batchSize: 100,
    epochs: 3,
    seed: 1,
    outDir,
    resume: false,
    ...overrides,
  };
}

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-train-'));

test('no tensor leaks: tf.memory().numTensors is the same after epoch 2 as after epoch 1', async () => {
  await initBackend('wasm');
  const counts: number[] = [];
  const result = await train(config(tempDir()), 'wasm', (event) => {
    if (event.type === 'epoch') counts.push(tf.memory().numTensors);
  });
  assert.equal(counts.length, 3);
  assert.equal(counts[1], counts[0], `tensors after each epoch: ${counts.join(', ')}`);
  assert.equal(counts[2], counts[0]);
  assert.equal(result.meta.epochs.length, 3);
});

test('no tensor leaks across trainings: a finished train() leaves as many tensors as it found (the soak found 2 per weight)', async () => {
  await initBackend('wasm');
  const before = tf.memory().numTensors;
  await train(config(tempDir(), { model: 'mlp', epochs: 1 }), 'wasm', () => undefined);
  await train(config(tempDir(), { model: 'mlp', epochs: 1, loss: lossConfig('crossentropy') }), 'wasm', () => undefined);
  assert.equal(tf.memory().numTensors, before);
});

test('a cancelled run resumes from its checkpoint and finishes with every epoch recorded', async () => {
  await initBackend('wasm');
  const outDir = tempDir();
  const controller = new AbortController();
  await assert.rejects(
    train(config(outDir, { loss: lossConfig('crossentropy') }), 'wasm', (event) => {
      if (event.type === 'epoch') controller.abort();
    }, controller.signal),
    TrainingCancelled,
  );
  assert.ok(fs.existsSync(path.join(outDir, 'checkpoint', 'state.json')), 'epoch 1 was checkpointed');
  assert.ok(!fs.existsSync(path.join(outDir, 'model.json')), 'no final model yet');
  let startEpoch = 0;
  const result = await train(config(outDir, { loss: lossConfig('crossentropy'), resume: true }), 'wasm', (event) => {
    if (event.type === 'start') startEpoch = event.startEpoch;
  });
  assert.equal(startEpoch, 2);
  assert.deepEqual(result.meta.epochs.map((r) => r.epoch), [1, 2, 3]);
  const { meta, model } = await loadModelDir(outDir);
  assert.equal(meta?.numClasses, 10);
  assert.equal(meta?.loss.kind, 'crossentropy');
  assert.equal(meta?.backend, 'wasm');
  assert.equal(meta?.training.augmentShift, TRAIN_DEFAULTS.augmentShift, 'the default augmentation is applied and recorded');
  model.dispose();
  // Resuming with another configuration is refused rather than mixed.
  await assert.rejects(train(config(outDir, { resume: true, batchSize: 50 }), 'wasm', () => undefined), /different training configuration/);
});

test('a diverging run stops with a clear error naming the epoch and step', async () => {
  await initBackend('wasm');
  const diverging = config(tempDir(), {
    model: 'mlp',
    optimizer: { ...TRAIN_DEFAULTS.optimizer, kind: 'sgd', learningRate: 1e6, momentum: 0, schedule: 'constant' },
  });
  await assert.rejects(train(diverging, 'wasm', () => undefined), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.match(error.message, /^training diverged: the loss became (NaN|Infinity|-Infinity) at epoch 1, step \d+/);
    return true;
  });
});

test('a run whose network stops depending on the input stops with a clear error, before checkpointing it', async () => {
  await initBackend('wasm');
  // A model whose first hidden layer is dead for every input: its outputs are constant, its loss
  // finite, and no gradient can revive it.
  const source = tempDir();
  const trained = await train(config(source, { model: 'mlp', loss: lossConfig('crossentropy'), epochs: 1 }), 'wasm', () => undefined);
  const { model } = await loadModelDir(source);
  const hidden = model.layers.find((layer) => layer.getClassName() === 'Dense') as tfl.layers.Layer;
  const [kernel, bias] = hidden.getWeights();
  hidden.setWeights([kernel, tf.fill(bias.shape, -1e4)]);
  await saveModelDir(source, model, trained.meta);
  model.dispose();
  const outDir = tempDir();
  await assert.rejects(train(config(outDir, { fineTuneFrom: source, epochs: 2 }), 'wasm', () => undefined), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.match(error.message, /^training collapsed at epoch 1: the network's outputs no longer depend on the input .*; no checkpoint was written yet\. Lower optimizer\.learningRate or set optimizer\.clipNorm$/);
    return true;
  });
  assert.ok(!fs.existsSync(path.join(outDir, 'checkpoint', 'state.json')), 'the collapsed epoch was not checkpointed');
});

test('GCCS on the synthetic dataset learns (a smoke test of the whole loop)', async () => {
  await initBackend('wasm');
  const result = await train(config(tempDir(), { dataset: { kind: 'synthetic', syntheticTrain: 1500, syntheticTest: 300, seed: 2 }, epochs: 4 }), 'wasm', () => undefined);
  assert.ok(result.testAccuracy > 0.5, `test accuracy ${result.testAccuracy}`);
});

test('fine-tuning starts from a saved model and records where it came from', async () => {
  await initBackend('wasm');
  const source = tempDir();
  await train(config(source, { model: 'mlp', loss: lossConfig('crossentropy'), epochs: 1 }), 'wasm', () => undefined);
  const tuned = await train(config(tempDir(), { fineTuneFrom: source, epochs: 1 }), 'wasm', () => undefined);
  assert.equal(tuned.meta.architecture, 'mlp');
  assert.equal(tuned.meta.training.fineTunedFrom, path.join(source, 'model.json'));
  assert.equal(tuned.meta.loss.kind, 'gccs');
});

test('a resumed fine-tuning still records where it came from (gccs.json said fineTunedFrom: null)', async () => {
  await initBackend('wasm');
  const source = tempDir();
  await train(config(source, { model: 'mlp', loss: lossConfig('crossentropy'), epochs: 1 }), 'wasm', () => undefined);
  const outDir = tempDir();
  const fineTuning = config(outDir, { fineTuneFrom: source, epochs: 2 });
  const controller = new AbortController();
  await assert.rejects(
    train(fineTuning, 'wasm', (event) => event.type === 'epoch' && controller.abort(), controller.signal),
    TrainingCancelled,
  );
  let startEpoch = 0;
  const resumed = await train({ ...fineTuning, resume: true }, 'wasm', (event) => {
    if (event.type === 'start') startEpoch = event.startEpoch;
  });
  assert.equal(startEpoch, 2, 'it resumed from the checkpoint');
  const { meta, model } = await loadModelDir(outDir);
  model.dispose();
  for (const recorded of [resumed.meta, meta!]) {
    assert.equal(recorded.training.fineTunedFrom, path.join(source, 'model.json'));
    assert.equal(recorded.architecture, 'mlp');
  }
});
