/**
 * One forward, K backwards (src/core/attacks/chainBackward.ts): on chains of the layers it knows, the
 * input gradients of K weightings and z equal the class-tiled pass (tf.grad over K copies of the
 * batch) on random models and inputs with fixed seeds; any other model is left to the class-tiled pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../../src/core/tf';
import { initBackend } from '../../src/core/backend';
import { logitsOf, outputsOf } from '../../src/core/attacks/common';
import { lossAndGradient } from '../../src/core/attacks/gradientCore';
import { attackLoss } from '../../src/core/attacks/objectives';
import { chainInputGradients } from '../../src/core/attacks/chainBackward';
import { classTiledInputGradients, tiledInputGradients } from '../../src/core/attacks/packed';
import { Random } from '../../src/core/random';
import { relativeError } from '../helpers/relativeError';

const init = (seed: number) => ({
  kernelInitializer: tfl.initializers.glorotUniform({ seed }),
  biasInitializer: tfl.initializers.randomNormal({ seed: seed + 100 }),
});

/** The reference CNN's layer kinds: valid convolutions with ReLU, 2×2 pooling, dense ReLU, dropout, linear head. */
function referenceLike(): tfl.Sequential {
  const model = tfl.sequential();
  model.add(tfl.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, activation: 'relu', ...init(1) }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.conv2d({ filters: 6, kernelSize: 3, activation: 'relu', ...init(2) }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: 16, activation: 'relu', ...init(3) }));
  model.add(tfl.layers.dropout({ rate: 0.2 }));
  model.add(tfl.layers.dense({ units: 10, ...init(4) }));
  return model;
}

/**
 * Colour input; a strided 'same' convolution with relu and an overlapping 'same' pooling, then a
 * convolution without activation and its pooling (both pairs take ConvPoolBackprop on wasm); ReLU
 * and Activation layers.
 */
function stridedColour(): tfl.Sequential {
  const model = tfl.sequential();
  model.add(tfl.layers.conv2d({ inputShape: [9, 9, 3], filters: 5, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', ...init(5) }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same' }));
  model.add(tfl.layers.conv2d({ filters: 4, kernelSize: [2, 3], strides: [1, 2], ...init(6) }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.reLU());
  model.add(tfl.layers.activation({ activation: 'relu' }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: 7, ...init(7) }));
  return model;
}

function mlp(): tfl.Sequential {
  const model = tfl.sequential();
  model.add(tfl.layers.flatten({ inputShape: [6, 6, 1] }));
  model.add(tfl.layers.dense({ units: 20, activation: 'relu', ...init(8) }));
  model.add(tfl.layers.dropout({ rate: 0.2 }));
  model.add(tfl.layers.dense({ units: 5, ...init(9) }));
  return model;
}

function randomInputs(model: tfl.LayersModel, count: number, seed: number): { x: tf.Tensor4D; weights: Float32Array[] } {
  const random = new Random(seed);
  const shape = model.inputs[0].shape.slice(1) as [number, number, number];
  const dims = model.outputs[0].shape[1] as number;
  const x = tf.tensor4d(Float32Array.from({ length: count * shape[0] * shape[1] * shape[2] }, () => random.next()), [count, ...shape]);
  // A one-hot weighting (a Jacobian row, as DeepFool and JSMA use) and two dense ones.
  const oneHot = new Float32Array(count * dims).map((_, i) => (i % dims === (Math.floor(i / dims) * 3) % dims ? 1 : 0));
  const weights = [oneHot, ...[0, 1].map(() => Float32Array.from({ length: count * dims }, () => random.uniform(-1, 1)))];
  return { x, weights };
}

for (const backend of ['wasm', 'cpu'] as const) {
  test(`${backend}: one forward and a K-fold backward give the class-tiled pass's gradients and z, in whole and split passes`, async () => {
    await initBackend(backend);
    for (const [name, build] of [['reference-like CNN', referenceLike], ['strided colour CNN', stridedColour], ['MLP', mlp]] as const) {
      const model = build();
      const { x, weights } = randomInputs(model, 5, name.length);
      const size = x.size / x.shape[0];
      const reference = classTiledInputGradients(model, x, weights, 2 ** 19);
      const before = tf.memory().numTensors;
      for (const samplesPerPass of [5, 2]) {
        const chained = chainInputGradients(model, x, weights, samplesPerPass);
        assert.ok(chained, `${name} is a chain of known layers`);
        assert.ok(relativeError(chained.gradients, reference.gradients) < 1e-5, `${name}, ${samplesPerPass} samples per pass: ${relativeError(chained.gradients, reference.gradients)}`);
        assert.ok(relativeError(chained.z, outputsOf(model, x)) < 1e-6, `${name}: z`);
        assert.ok(chained.gradients.subarray(0, 5 * size).some((g) => g !== 0), `${name}: the gradients are not all zero`);
      }
      assert.equal(tf.memory().numTensors, before, `${name}: no tensor left behind`);
      x.dispose();
      model.dispose();
    }
  });
}

test("gradient attacks' loss gradient through the chain equals tf.grad's over the model (cross-entropy and DLR)", async () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    await initBackend(backend);
    for (const build of [referenceLike, stridedColour]) {
      const model = build();
      const { x } = randomInputs(model, 6, 30);
      const labels = Int32Array.from({ length: 6 }, (_, b) => b % 5);
      for (const loss of ['crossentropy', 'dlr'] as const) {
        const lossOf = (z: tf.Tensor2D) => attackLoss(loss, z, labels, 0);
        const before = tf.memory().numTensors;
        const chained = lossAndGradient(model, x, lossOf);
        const reference = tf.tidy(() => tf.grad((input: tf.Tensor) => tf.sum(lossOf(logitsOf(model, input))))(x).dataSync() as Float32Array);
        const err = relativeError(chained.gradient.dataSync(), reference);
        assert.ok(err < 1e-5, `${backend}, ${model.layers.length} layers, ${loss}: relative error ${err}`);
        assert.ok(relativeError(chained.loss, tf.tidy(() => lossOf(logitsOf(model, x)).dataSync())) < 1e-6, `${backend}, ${loss}: the losses`);
        chained.gradient.dispose();
        assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
      }
      x.dispose();
      model.dispose();
    }
  }
});

test('layers and topologies the chain does not know are left to the class-tiled pass, which tiledInputGradients then takes', async () => {
  await initBackend('wasm');
  const withLayer = (layer: tfl.layers.Layer) => {
    const model = tfl.sequential();
    model.add(tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 3, kernelSize: 3, ...init(10) }));
    model.add(layer);
    model.add(tfl.layers.flatten());
    model.add(tfl.layers.dense({ units: 4, ...init(11) }));
    return model;
  };
  const input = tfl.input({ shape: [8, 8, 1] });
  const flat = tfl.layers.flatten().apply(input);
  const functional = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 4, ...init(12) }).apply(flat) as tfl.SymbolicTensor });
  const dilated = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3, dilationRate: 2, ...init(13) }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 4, ...init(14) }),
    ],
  });
  const cases: [string, tfl.LayersModel][] = [
    ['batch normalisation', withLayer(tfl.layers.batchNormalization())],
    ['ReLU capped at 6', withLayer(tfl.layers.reLU({ maxValue: 6 }))],
    ['tanh', withLayer(tfl.layers.activation({ activation: 'tanh' }))],
    ['average pooling', withLayer(tfl.layers.averagePooling2d({ poolSize: 2 }))],
    ['a functional model', functional],
  ];
  for (const [name, model] of cases) {
    const { x, weights } = randomInputs(model, 3, 20);
    assert.equal(chainInputGradients(model, x, weights, 3), undefined, name);
    const fallback = tiledInputGradients(model, x, weights);
    assert.ok(relativeError(fallback.gradients, classTiledInputGradients(model, x, weights, 2 ** 19).gradients) === 0, `${name}: the class-tiled pass`);
    x.dispose();
    model.dispose();
  }
  // TensorFlow.js has no gradient for dilated convolutions either: the chain must not claim one.
  const { x, weights } = randomInputs(dilated, 3, 21);
  assert.equal(chainInputGradients(dilated, x, weights, 3), undefined, 'a dilated convolution');
  x.dispose();
  dilated.dispose();
});
