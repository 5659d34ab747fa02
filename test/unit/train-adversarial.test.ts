// Adversarial training: FGSM examples at relative ε against an independent computation, a step's loss
// and gradients as the mean of the clean batch's and its FGSM copy's (paper §5), PGD inside its ball,
// and the one-line refusals (ε out of range, bad steps, a negative defence weight, a defence on a
// model whose pooling it cannot differentiate twice) before training starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '../../src/core/tf';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/core/backend';
import { Random } from '../../src/core/random';
import { lossConfig, computeLoss } from '../../src/core/loss';
import { adversarialExamples } from '../../src/core/train/adversarial';
import { ConfigError, trainConfigFrom, validateTrainConfig } from '../../src/core/train/config';
import type { AdversarialConfig } from '../../src/core/train/options';
import { batchGradients } from '../../src/core/train/step';
import { saveLayersModel } from '../../src/core/io/layersModelFiles';

const CLI = path.resolve(__dirname, '../../dist/cli.js');
const SHAPE: [number, number, number, number] = [8, 4, 4, 1];
const CLASSES = 4;

function smallModel(): tfl.LayersModel {
  const model = tfl.sequential();
  const kernelInitializer = tfl.initializers.glorotNormal({ seed: 1 });
  model.add(tfl.layers.conv2d({ inputShape: SHAPE.slice(1), filters: 3, kernelSize: 2, activation: 'relu', kernelInitializer }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: CLASSES, kernelInitializer: tfl.initializers.glorotNormal({ seed: 2 }) }));
  return model;
}

function batch(seed: number): { x: tf.Tensor4D; labels: Int32Array } {
  const rng = new Random(seed);
  const values = Array.from({ length: SHAPE.reduce((a, b) => a * b) }, () => rng.uniform(0, 0.8));
  return { x: tf.tensor4d(values, SHAPE), labels: Int32Array.from({ length: SHAPE[0] }, (_, i) => i % CLASSES) };
}

/** FGSM as Goodfellow et al. write it, with the relative radius: clip(x + ε‖x‖∞·sign(∇_x Σ CE), 0, 1). */
function referenceFgsm(model: tfl.LayersModel, x: tf.Tensor4D, labels: Int32Array, eps: number): tf.Tensor4D {
  return tf.tidy(() => {
    const outputs = (input: tf.Tensor) => model.apply(input, { training: false }) as tf.Tensor2D;
    const summedLoss = (input: tf.Tensor) => tf.mul(computeLoss({ kind: 'crossentropy' }, outputs(input), labels), labels.length);
    const gradient = tf.grad(summedLoss)(x);
    const radius = tf.mul(tf.max(tf.abs(x), [1, 2, 3], true), eps);
    return tf.clipByValue(tf.add(x, tf.mul(radius, tf.sign(gradient))), 0, 1) as tf.Tensor4D;
  });
}

for (const backend of ['cpu', 'wasm'] as const) {
  test(`FGSM training examples on ${backend}: x + ε‖x‖∞·sign(∇CE), clipped to [0, 1], never further than ε‖x‖∞`, async () => {
    await initBackend(backend);
    const model = smallModel();
    const { x, labels } = batch(1);
    const eps = 0.03;
    const got = adversarialExamples(model, x, labels, { method: 'fgsm', eps, steps: 1 }, 0);
    const expected = referenceFgsm(model, x, labels, eps);
    const [g, e, xs] = [got.dataSync(), expected.dataSync(), x.dataSync()];
    const per = xs.length / SHAPE[0];
    for (let b = 0; b < SHAPE[0]; b++) {
      const norm = Math.max(...Array.from(xs.subarray(b * per, (b + 1) * per), Math.abs));
      for (let i = b * per; i < (b + 1) * per; i++) {
        assert.ok(Math.abs(g[i] - e[i]) < 1e-6, `pixel ${i}: ${g[i]} vs ${e[i]}`);
        assert.ok(Math.abs(g[i] - xs[i]) <= eps * norm + 1e-6, `pixel ${i} moved beyond ε‖x‖∞`);
      }
    }
    tf.dispose([x, got, expected]);
    model.dispose();
  });
}

for (const kind of ['crossentropy', 'gccs'] as const) {
  test(`an adversarial-training step (${kind}) is half clean, half FGSM: its loss and gradients are the mean of both batches'`, async () => {
    await initBackend('cpu');
    const model = smallModel();
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { x, labels } = batch(2);
    const loss = lossConfig(kind, kind === 'gccs' ? { muT: 5 } : {});
    const adversarial: AdversarialConfig = { method: 'fgsm', eps: 0.05, steps: 1 };
    const xAdv = referenceFgsm(model, x, labels, adversarial.eps);
    const step = batchGradients(model, variables, loss, x, labels, 0, { adversarial });
    const clean = batchGradients(model, variables, loss, x, labels, 0);
    const attacked = batchGradients(model, variables, loss, xAdv, labels, 0);
    assert.ok(Math.abs(step.loss - (clean.loss + attacked.loss) / 2) < 1e-5 * (1 + Math.abs(step.loss)), `${step.loss} vs ${(clean.loss + attacked.loss) / 2}`);
    assert.notEqual(clean.loss, attacked.loss, 'the FGSM half differs from the clean half');
    assert.equal(step.hits, clean.hits, 'accuracy is the clean half\'s');
    step.grads.forEach((g, k) => {
      const expected = tf.div(tf.add(clean.grads[k], attacked.grads[k]), 2).dataSync();
      g.dataSync().forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-4 * (1 + Math.abs(expected[i])), `gradient ${k}[${i}]`));
    });
    tf.dispose([x, xAdv, ...step.grads, ...clean.grads, ...attacked.grads]);
    model.dispose();
  });
}

test('PGD training examples stay in the relative ε-ball and [0, 1], and repeat with the seed', async () => {
  await initBackend('cpu');
  const model = smallModel();
  const { x, labels } = batch(3);
  const config: AdversarialConfig = { method: 'pgd', eps: 0.1, steps: 5 };
  const a = adversarialExamples(model, x, labels, config, 7);
  const b = adversarialExamples(model, x, labels, config, 7);
  assert.deepEqual(a.dataSync(), b.dataSync());
  const [xs, as] = [x.dataSync(), a.dataSync()];
  const per = xs.length / SHAPE[0];
  for (let s = 0; s < SHAPE[0]; s++) {
    const norm = Math.max(...Array.from(xs.subarray(s * per, (s + 1) * per), Math.abs));
    for (let i = s * per; i < (s + 1) * per; i++) {
      assert.ok(Math.abs(as[i] - xs[i]) <= config.eps * norm + 1e-6 && as[i] >= 0 && as[i] <= 1);
    }
  }
  tf.dispose([x, a, b]);
  model.dispose();
});

test('bad adversarial settings are one-line errors naming the field', () => {
  const check = (adversarial: AdversarialConfig) => validateTrainConfig({ ...trainConfigFrom({ dataset: { kind: 'synthetic' }, outDir: 'm' }), adversarial });
  for (const bad of [{ eps: 0 }, { eps: -0.1 }, { eps: 1.5 }, { eps: Number.NaN }, { steps: 2 }, { method: 'cw' }]) {
    const field = `adversarial.${Object.keys(bad)[0]}`;
    assert.throws(() => check({ method: 'fgsm', eps: 0.03, steps: 1, ...bad } as AdversarialConfig), (e: Error) => e instanceof ConfigError && e.field === field && !e.message.includes('\n'));
  }
  for (const steps of [0, 1.5, 1e6]) assert.throws(() => check({ method: 'pgd', eps: 0.03, steps }), (e: Error) => e.message.startsWith('adversarial.steps: '));
  check({ method: 'pgd', eps: 1, steps: 7 });
});

function gccs(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, stderr: result.stderr, errors: result.stderr.split('\n').filter((line) => line.startsWith('gccs: error:')) };
}

test('gccs train refuses, in one line and before training, a negative defence weight, an adversarial ε out of range and a pool the defences cannot differentiate twice', async (t) => {
  if (!fs.existsSync(CLI)) return t.skip('dist/cli.js not built (npm run build)');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-adv-'));
  const small = ['--synthetic-train', '200', '--synthetic-test', '50', '--epochs', '1', '--model', 'mlp'];
  const cases: [string[], RegExp][] = [
    [['--defence', 'jr', '--defence-weight', '-1'], /--defence-weight: must be ≥ 0 \(got -1\)$/],
    [['--adversarial', 'fgsm', '--adv-eps', '2'], /--adv-eps: must be ≤ 1 \(got 2\)$/],
    [['--adv-eps', '0.1'], /--adversarial: is required$/],
    [['--adversarial', 'pgd', '--workers', '2'], /--workers: defences and adversarial training run in one process only/],
  ];
  await initBackend('cpu');
  // A model.json whose max pooling overlaps (stride 1 < pool 3).
  const overlapping = tfl.sequential();
  overlapping.add(tfl.layers.maxPooling2d({ inputShape: [28, 28, 1], poolSize: 3, strides: 1 }));
  overlapping.add(tfl.layers.flatten());
  overlapping.add(tfl.layers.dense({ units: 10 }));
  const modelDir = path.join(out, 'overlapping');
  fs.mkdirSync(modelDir);
  await saveLayersModel(overlapping, modelDir);
  cases.push([['--defence', 'igr', '--model', path.join(modelDir, 'model.json')], /--defence igr needs the gradient of an input gradient.*overlapping windows/]);
  for (const [flags, pattern] of cases) {
    const run = gccs('train', ...small, ...flags, '--out', path.join(out, 'model'));
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.errors.length, 1, run.stderr);
    assert.match(run.errors[0], pattern);
    assert.ok(!/epoch 1/.test(run.stderr), 'no epoch ran');
  }
  fs.rmSync(out, { recursive: true, force: true });
});
