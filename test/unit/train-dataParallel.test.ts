import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../../src/core/tf';
import { initBackend } from '../../src/core/backend';
import { saveLayersModel } from '../../src/core/io/layersModelFiles';
import { loadModelDir } from '../../src/core/io/modelDir';
import { lossConfig } from '../../src/core/loss';
import { TRAIN_DEFAULTS } from '../../src/core/train/defaults';
import { TrainConfig, TrainingCancelled, train } from '../../src/core/train/trainer';
import { ReplicaGroup } from '../../src/core/train/dataParallel';
import { Optimizer } from '../../src/core/train/optimizer';

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-dp-'));

function config(outDir: string, overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    dataset: { kind: 'synthetic', syntheticTrain: 300, syntheticTest: 50, seed: 3 },
    split: { trainRange: null, testRange: null, validationFraction: 0 },
    model: 'cnn',
    fineTuneFrom: null,
    loss: lossConfig('crossentropy'),
    optimizer: TRAIN_DEFAULTS.optimizer,
    batchSize: 100,
    epochs: 2,
    seed: 5,
    outDir,
    resume: false,
    ...overrides,
  };
}

/** A small conv net without dropout, so that a training step is a deterministic function of the weights. */
async function dropoutFreeModel(): Promise<string> {
  const model = tfl.sequential();
  model.add(tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, strides: 2, activation: 'relu' }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: 24, activation: 'relu' }));
  model.add(tfl.layers.dense({ units: 10 }));
  const dir = tempDir();
  await saveLayersModel(model, dir);
  model.dispose();
  return path.join(dir, 'model.json');
}

async function weightsOf(outDir: string): Promise<Float64Array> {
  const { model } = await loadModelDir(outDir);
  const values = model.getWeights().flatMap((w) => Array.from(w.dataSync()));
  model.dispose();
  return Float64Array.from(values);
}

/** Command lines of this process's children that run a worker: in these tests, the training replicas. */
function replicaChildren(): string[] {
  return execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => /src\/worker\/index\.ts|worker\.js/.test(line));
}

test('two processes train to the same weights as one process on the whole batch (cross-entropy, no dropout)', async () => {
  await initBackend('wasm');
  const modelJson = await dropoutFreeModel();
  // 300 examples over 2 epochs, so later steps follow Adam and weight-decay updates applied by
  // both processes. Batches of 57 split unevenly (29 + 28, last 15 = 8 + 7); batches of 299 end
  // with a batch of 1, which leaves the leader without a share.
  for (const batchSize of [100, 57, 299]) {
    const single = tempDir();
    const parallel = tempDir();
    await train(config(single, { model: modelJson, batchSize }), 'wasm', () => undefined);
    await train(config(parallel, { model: modelJson, batchSize, workers: 2 }), 'wasm', () => undefined);
    const [a, b] = [await weightsOf(single), await weightsOf(parallel)];
    const start = await weightsOf(path.dirname(modelJson));
    let diff = 0;
    let norm = 0;
    let moved = 0;
    a.forEach((value, i) => {
      diff += (value - b[i]) ** 2;
      norm += value ** 2;
      moved += (value - start[i]) ** 2;
    });
    const relative = Math.sqrt(diff / norm);
    assert.ok(relative <= 1e-4, `batch ${batchSize}: relative weight difference ${relative}`);
    // Training did change the weights, so the comparison is not between two untouched models.
    assert.ok(Math.sqrt(moved / norm) > 1e-2, `batch ${batchSize}: the weights hardly moved`);
  }
});

test('data-parallel GCCS training leaks no tensors in the leader and leaves no replica behind', async () => {
  await initBackend('wasm');
  const counts: number[] = [];
  const result = await train(config(tempDir(), { loss: lossConfig('gccs'), epochs: 3, workers: 2 }), 'wasm', (event) => {
    if (event.type === 'epoch') counts.push(tf.memory().numTensors);
  });
  assert.deepEqual(counts, [counts[0], counts[0], counts[0]], `tensors after each epoch: ${counts.join(', ')}`);
  assert.ok(Number.isFinite(result.meta.epochs[2].loss));
  assert.deepEqual(replicaChildren(), []);
});

test('cancelling data-parallel training stops the replicas and keeps the checkpoint', async () => {
  await initBackend('wasm');
  const outDir = tempDir();
  const controller = new AbortController();
  await assert.rejects(
    train(config(outDir, { workers: 2 }), 'wasm', (event) => {
      if (event.type === 'epoch') controller.abort();
    }, controller.signal),
    TrainingCancelled,
  );
  assert.ok(fs.existsSync(path.join(outDir, 'checkpoint', 'state.json')));
  assert.deepEqual(replicaChildren(), []);
});

test('a replica that dies stops training with an error naming it', async () => {
  await initBackend('wasm');
  let killed = 0;
  await assert.rejects(
    train(config(tempDir(), { workers: 2 }), 'wasm', (event) => {
      if (event.type !== 'step' || killed) return;
      killed = Number(replicaChildren()[0].trim().split(/\s+/)[0]);
      process.kill(killed, 'SIGKILL');
    }),
    (error: Error) => {
      assert.equal(error.message, `training replica ${killed} stopped (signal SIGKILL)`);
      return true;
    },
  );
  assert.deepEqual(replicaChildren(), []);
});

test('a replica that stops answering (no heartbeat) is killed, and the step fails naming it', async () => {
  await initBackend('wasm');
  const model = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [2, 2, 1] }), tfl.layers.dense({ units: 2 })] });
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizerConfig = TRAIN_DEFAULTS.optimizer;
  const optimizer = new Optimizer(optimizerConfig, variables);
  // Long enough for a healthy replica on a busy machine (its modules load before its first heartbeat).
  const heartbeatTimeoutMs = 20_000;
  // Inherited by the replica: it blocks its event loop on its first step.
  process.env.GCCS_TEST_HANG_REQUEST = 'replicaStep';
  try {
    const group = await ReplicaGroup.start({ processes: 2, backend: 'wasm', model, variables, optimizer, optimizerConfig, loss: lossConfig('crossentropy'), heartbeatTimeoutMs });
    const [pid] = group.pids;
    const share = () => ({ x: Float32Array.from({ length: 8 }, (_, i) => i / 8), labels: Int32Array.from([0, 1]) });
    await assert.rejects(group.step(share, [2, 2, 1], 1e-3, 1), (error: Error) => {
      assert.equal(error.message, `training replica: worker ${pid} stopped answering (no heartbeat for 20 s) and was killed`);
      return true;
    });
    await group.close();
  } finally {
    delete process.env.GCCS_TEST_HANG_REQUEST;
    model.dispose();
  }
  assert.deepEqual(replicaChildren(), []);
});

test('workers must be a whole number ≥ 1', async () => {
  await assert.rejects(train(config(tempDir(), { workers: 0 }), 'wasm', () => undefined), /workers: must be ≥ 1 \(got 0\)$/);
});
