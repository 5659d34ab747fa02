import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '../../src/core/tf';
import { initBackend } from '../../src/core/backend';
import { UserError } from '../../src/core/errors';
import { loadLayersModelFile, saveLayersModel } from '../../src/core/io/layersModelFiles';
import { createModel } from '../../src/core/models';
import { Random } from '../../src/core/random';

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-model-'));

function randomImages(seed: number, shape: number[]): tf.Tensor {
  const rng = new Random(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, () => rng.next()), shape);
}

for (const architecture of ['mlp', 'cnn', 'resnet18'] as const) {
  test(`save → load round trip of the ${architecture} gives identical outputs`, async () => {
    await initBackend('wasm');
    const shape = architecture === 'resnet18' ? [32, 32, 3] : [28, 28, 1];
    const model = await createModel(architecture, shape, 10, 4);
    assert.deepEqual(model.outputs[0].shape, [null, 10]);
    const dir = tempDir();
    await saveLayersModel(model, dir);
    const loaded = await loadLayersModelFile(path.join(dir, 'model.json'));
    const x = randomImages(11, [3, ...shape]);
    const before = (model.predict(x) as tf.Tensor).dataSync();
    const after = (loaded.predict(x) as tf.Tensor).dataSync();
    assert.deepEqual(Array.from(after), Array.from(before));
    tf.dispose([x]);
    model.dispose();
    loaded.dispose();
  });
}

test('saving again replaces the weights shard and leaves exactly one', async () => {
  await initBackend('wasm');
  const dir = tempDir();
  const first = await createModel('mlp', [28, 28, 1], 10, 1);
  await saveLayersModel(first, dir);
  const second = await createModel('mlp', [28, 28, 1], 10, 2);
  await saveLayersModel(second, dir);
  const shards = fs.readdirSync(dir).filter((f) => f.endsWith('.bin'));
  assert.equal(shards.length, 1);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')).weightsManifest;
  assert.deepEqual(manifest[0].paths, shards);
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('.tmp-')), []);
});

test('a model.json that is not a LayersModel gives a one-line error naming the file', async () => {
  const dir = tempDir();
  const cases: [string, RegExp][] = [
    ['{"hello": 1}', /model\.json: not a TensorFlow\.js LayersModel \(no modelTopology\)/],
    ['{"modelTopology": {}}', /no weightsManifest/],
    ['not json', /model\.json: not valid JSON/],
    ['{"format": "graph-model", "modelTopology": {}}', /graph model/],
  ];
  for (const [content, pattern] of cases) {
    const file = path.join(dir, 'model.json');
    fs.writeFileSync(file, content);
    await assert.rejects(loadLayersModelFile(file), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.match(error.message, pattern);
      assert.ok(!error.message.includes('\n'));
      assert.ok(error.message.includes(file));
      return true;
    });
  }
});

test('bring your own model: a softmax head becomes linear with the same weights; other outputs get a new head', async () => {
  await initBackend('wasm');
  const tfl = await import('@tensorflow/tfjs-layers');
  const { withLinearHead } = await import('../../src/core/models');
  const base = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [4, 4, 1] }), tfl.layers.dense({ units: 3, activation: 'softmax' })] });
  const headed = withLinearHead(base, 3, 0);
  const x = randomImages(2, [2, 4, 4, 1]);
  const logits = headed.predict(x) as tf.Tensor;
  const softmax = tf.softmax(logits).dataSync();
  const original = (base.predict(x) as tf.Tensor).dataSync();
  softmax.forEach((v, i) => assert.ok(Math.abs(v - original[i]) < 1e-6));
  const features = tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [4, 4, 1], filters: 2, kernelSize: 3 })] });
  assert.deepEqual(withLinearHead(features, 5, 0).outputs[0].shape, [null, 5]);
});
