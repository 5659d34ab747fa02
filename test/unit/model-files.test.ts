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

/** Small models over every layer class the topology check covers, built by TensorFlow.js itself. */
async function layerZoo(): Promise<[string, import('@tensorflow/tfjs-layers').LayersModel][]> {
  const tfl = await import('@tensorflow/tfjs-layers');
  const L = tfl.layers;
  type S = import('@tensorflow/tfjs-layers').SymbolicTensor;
  const apply = (layer: { apply: (x: S | S[]) => unknown }, x: S | S[]) => layer.apply(x) as S;

  const image = tfl.input({ shape: [16, 12, 3] });
  let x = apply(L.conv2d({ filters: 4, kernelSize: [3, 2], strides: 2, padding: 'same', dilationRate: 1 }), image);
  x = apply(L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2 }), x);
  // depthMultiplier 1: TensorFlow.js leaves it out of SeparableConv2D's saved config, so another would not reload.
  x = apply(L.separableConv2d({ filters: 5, kernelSize: 3, padding: 'same' }), x);
  x = apply(L.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'valid' }), x);
  x = apply(L.zeroPadding2d({ padding: [[1, 2], [0, 1]] }), x);
  x = apply(L.cropping2D({ cropping: [[1, 0], [0, 1]] }), x);
  x = apply(L.upSampling2d({ size: [2, 1] }), x);
  x = apply(L.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }), x);
  x = apply(L.maxPooling2d({ poolSize: 2 }), x);
  x = apply(L.batchNormalization({ center: false }), x);
  x = apply(L.layerNormalization({ axis: -1 }), x);
  x = apply(L.prelu({ sharedAxes: [1, 2] }), x);
  x = apply(L.conv2d({ filters: 6, kernelSize: 1, useBias: false }), apply(L.leakyReLU({}), x));
  const shared = L.dense({ units: 6, name: 'shared' });
  const a = apply(shared, apply(L.globalAveragePooling2d({}), x));
  const b = apply(shared, apply(L.globalMaxPooling2d({}), x));
  let y = apply(L.concatenate({}), [apply(L.add({}), [a, b]), apply(L.multiply({}), [a, b]), apply(L.maximum({}), [a, b])]);
  y = apply(L.permute({ dims: [2, 1] }), apply(L.reshape({ targetShape: [6, 3] }), y));
  y = apply(L.conv1d({ filters: 2, kernelSize: 2, padding: 'causal' }), y);
  y = apply(L.globalAveragePooling1d({}), apply(L.averagePooling1d({ poolSize: 2 }), apply(L.maxPooling1d({ poolSize: 2, strides: 1 }), y)));
  y = apply(L.flatten({}), apply(L.repeatVector({ n: 3 }), apply(L.dropout({ rate: 0.1 }), y)));
  const functional = tfl.model({ inputs: image, outputs: apply(L.dense({ units: 10, activation: 'softmax' }), y) });

  const inner = tfl.sequential({ layers: [L.dense({ units: 4, inputShape: [7] }), L.activation({ activation: 'relu' })] });
  const nested = tfl.sequential({ layers: [inner, L.dense({ units: 3 })] });
  const embedding = tfl.sequential({ layers: [L.embedding({ inputDim: 50, outputDim: 4, inputLength: 6 }), L.globalMaxPooling1d({}), L.dense({ units: 2 })] });
  const volumeConv = L.conv3d({ filters: 2, kernelSize: 2, inputShape: [5, 5, 5, 1] });
  const volume = tfl.sequential({ layers: [volumeConv, L.maxPooling3d({ poolSize: 2 }), L.flatten(), L.dense({ units: 3 })] });
  const channelsFirstConv = L.conv2d({ filters: 3, kernelSize: [2, 3], dataFormat: 'channelsFirst', inputShape: [2, 9, 8] });
  const channelsFirst = tfl.sequential({ layers: [channelsFirstConv, L.flatten(), L.dense({ units: 2 })] });
  return [['functional', functional], ['nested', nested], ['embedding', embedding], ['conv3d', volume], ['channels first', channelsFirst]];
}

test('the weights the topology check implies are the ones TensorFlow.js builds, layer class by layer class', async () => {
  await initBackend('wasm');
  const { readLayersModelJson } = await import('../../src/core/io/layersModelCheck');
  const { impliedWeights } = await import('../../src/core/io/layersTopology');
  const models = [...(await layerZoo())];
  for (const architecture of ['mlp', 'cnn', 'resnet18'] as const) {
    models.push([architecture, await createModel(architecture, architecture === 'resnet18' ? [32, 32, 3] : [28, 28, 1], 10, 1)]);
  }
  for (const [name, model] of models) {
    const dir = tempDir();
    await saveLayersModel(model, dir);
    const file = path.join(dir, 'model.json');
    const checked = readLayersModelJson(file);
    const implied = impliedWeights(checked.modelTopology, file);
    const count = implied.reduce((sum, w) => sum + w.shape.reduce((a, b) => a * b, 1), 0);
    assert.equal(count, model.countParams(), name);
    assert.deepEqual(
      implied.map((w) => `${w.key} [${w.shape}]`).sort(),
      model.weights.map((w) => `${w.originalName.split('/').slice(-2).join('/')} [${w.shape}]`).sort(),
      name,
    );
    const loaded = await loadLayersModelFile(file);
    assert.equal(loaded.countParams(), model.countParams(), name);
    loaded.dispose();
    model.dispose();
  }
});
