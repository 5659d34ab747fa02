/**
 * TensorFlow.js graph models (README › GraphModels) against the LayersModels whose weights they
 * hold: the reference CNN trained here (test/helpers/trainedMnist.ts) written in the form tensorflowjs_converter
 * gives the same Keras model (test/helpers/graphModel.ts) must give the same logits and input
 * gradients, the same accuracy on MNIST test images 8000–8999 and the same FGSM and PGD results;
 * the preprocessing sidecar (range, mean, std, NCHW layout) is applied inside the model; the other
 * supported ops are checked against the same computation written with tf ops, and by finite differences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../../src/core/tf';
import { attackBatch, resolveAttackParams } from '../../src/core/attacks';
import { initBackend } from '../../src/core/backend';
import { loadDataset } from '../../src/core/data';
import { loadModelDir } from '../../src/core/io/modelDir';
import { GraphBuilder, b64, ints, writeGraphModelOf } from '../helpers/graphModel';
import { MNIST, noMnist, trainedMnistCnn } from '../helpers/trainedMnist';

// The reference CNN trained here on MNIST (trained on first use; no MNIST, no test of it).
const MODEL = () => trainedMnistCnn();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-graphmodel-'));
const FLOAT = { type: 'DT_FLOAT' };

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
const logitWeights = (classes: number) => tf.linspace(-1, 1, classes);
const inputGradient = (model: tfl.LayersModel, x: tf.Tensor) =>
  tf.grad((input: tf.Tensor) => tf.sum(tf.mul(model.apply(input, { training: false }) as tf.Tensor, logitWeights(model.outputs[0].shape[1] as number))))(x);

/** MNIST test images [from, to) as pixels in [0, 1] and their labels. */
async function mnist(from: number, to: number): Promise<{ x: tf.Tensor4D; labels: Int32Array }> {
  const data = await loadDataset({ kind: 'mnist', path: MNIST });
  const pixels = data.test!.pixels.subarray(from * 784, to * 784);
  return {
    x: tf.tensor4d(
      Float32Array.from(pixels, (v) => v / 255),
      [to - from, 28, 28, 1],
    ),
    labels: data.test!.labels.slice(from, to),
  };
}

async function layersAndGraph(name: string, options: Parameters<typeof writeGraphModelOf>[2] = {}) {
  const layers = (await loadModelDir(MODEL())).model;
  const folder = path.join(dir, name);
  writeGraphModelOf(layers, folder, options);
  const loaded = await loadModelDir(folder);
  assert.equal(loaded.meta, null);
  assert.equal(loaded.modelJson, path.join(folder, 'model.json'));
  return { layers, graph: loaded.model, folder };
}

test("mnist-ce as a graph model (4 shards, nodes in reverse order): the LayersModel's logits and input gradients", { skip: noMnist }, async () => {
  await initBackend('wasm');
  const { layers, graph } = await layersAndGraph('cnn', { shardBytes: 300_000, shuffle: true });
  assert.deepEqual(graph.outputs[0].shape, [null, 10]);
  assert.deepEqual(graph.inputs[0].shape, [null, 28, 28, 1]);
  const x = tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 11);
  const ours = graph.predict(x) as tf.Tensor;
  const reference = layers.predict(x) as tf.Tensor;
  assert.ok(maxDiff(ours, reference) <= 1e-5, `logits differ by ${maxDiff(ours, reference)}`);
  const gradient = inputGradient(graph, x);
  const referenceGradient = inputGradient(layers, x);
  assert.ok(tf.max(tf.abs(referenceGradient)).dataSync()[0] > 0.1, 'a gradient worth comparing');
  assert.ok(maxDiff(gradient, referenceGradient) <= 1e-5, `gradients differ by ${maxDiff(gradient, referenceGradient)}`);
  graph.dispose();
});

test('mnist-ce as a graph model: the same accuracy on MNIST 8000–8999, and the same FGSM and PGD results', { skip: noMnist }, async () => {
  await initBackend('wasm');
  const { layers, graph } = await layersAndGraph('cnn-mnist');
  const { x, labels } = await mnist(8000, 9000);
  const accuracy = (model: tfl.LayersModel, input: tf.Tensor4D) =>
    tf.tidy(() => {
      const predicted = (model.predict(input, { batchSize: 250 }) as tf.Tensor).argMax(1).dataSync();
      return predicted.filter((p, i) => p === labels[i]).length / labels.length;
    });
  const clean = accuracy(graph, x);
  assert.equal(clean, accuracy(layers, x));
  // A trained model (1 epoch on 2000 images: about 91%), so that the attacks below have something to move.
  assert.ok(clean > 0.85, `accuracy ${clean}`);
  const few = x.slice([0, 0, 0, 0], [200, -1, -1, -1]);
  const fewLabels = labels.slice(0, 200);
  // The same layers as a functional model take tf.grad's path, as the graph executor does; the
  // Sequential one would take the chain's own backward (src/core/attacks/chainBackward.ts), whose
  // float rounding differs, and FGSM's sign turns rounding on near-zero gradients into ±ε.
  const taped = tfl.model({ inputs: layers.inputs, outputs: layers.outputs });
  for (const [name, params] of [
    ['fgsm', { eps: 0.1 }],
    ['pgd', { eps: 0.1, steps: 10 }],
  ] as const) {
    const ours = await attackBatch(graph, name, few, fewLabels, resolveAttackParams(name, params), 3);
    const reference = await attackBatch(taped, name, few, fewLabels, resolveAttackParams(name, params), 3);
    assert.ok(
      maxDiff(ours.adversarial, reference.adversarial) <= 1e-5,
      `${name}: adversarial images differ by ${maxDiff(ours.adversarial, reference.adversarial)}`,
    );
    const robust = (model: tfl.LayersModel, adversarial: tf.Tensor4D) =>
      tf.tidy(
        () =>
          (model.predict(adversarial) as tf.Tensor)
            .argMax(1)
            .dataSync()
            .filter((p, i) => p === fewLabels[i]).length,
      );
    assert.equal(robust(graph, ours.adversarial), robust(layers, reference.adversarial), `${name}: robust accuracy`);
    assert.ok(robust(graph, ours.adversarial) < 190, `${name} at ε = 0.1 moves some predictions`);
  }
  graph.dispose();
});

/**
 * The CNN behind a graph that undoes a preprocessing first (x·std + mean, then /255): with the
 * sidecar saying that preprocessing, the graph model must equal the CNN on [0, 1] pixels. With
 * layout NCHW the graph takes [N, 1, 28, 28] and transposes it back first.
 */
test('the preprocessing sidecar (range 255, mean, std; NHWC and NCHW) is applied inside the model', { skip: noMnist }, async () => {
  await initBackend('wasm');
  const layers = (await loadModelDir(MODEL())).model;
  const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 5);
  for (const layout of ['NHWC', 'NCHW'] as const) {
    const folder = path.join(dir, `sidecar-${layout}`);
    const json = writeGraphModelOf(layers, folder);
    const nodes = json.modelTopology.node;
    const input = nodes.find((node) => node.op === 'Placeholder')!;
    const first = nodes.find((node) => node.input?.includes(input.name))!;
    const constant = (name: string, value: number) => ({ name, op: 'Const', attr: { dtype: FLOAT }, value });
    const extra = [constant('prep/std', 0.3081 * 255), constant('prep/mean', 0.1307 * 255), constant('prep/scale', 1 / 255)];
    const ops: typeof nodes = [];
    let from = input.name;
    if (layout === 'NCHW') {
      extra.push({ name: 'prep/perm', op: 'Const', attr: { dtype: { type: 'DT_INT32' } }, value: 0 });
      ops.push({ name: 'prep/transpose', op: 'Transpose', input: [from, 'prep/perm'], attr: { T: FLOAT, Tperm: { type: 'DT_INT32' } } });
      from = 'prep/transpose';
      input.attr!.shape = { shape: { dim: [-1, 1, 28, 28].map((size) => ({ size: String(size) })) } };
    }
    ops.push({ name: 'prep/mul', op: 'Mul', input: [from, 'prep/std'], attr: { T: FLOAT } });
    ops.push({ name: 'prep/add', op: 'AddV2', input: ['prep/mul', 'prep/mean'], attr: { T: FLOAT } });
    ops.push({ name: 'prep/scaled', op: 'Mul', input: ['prep/add', 'prep/scale'], attr: { T: FLOAT } });
    first.input = first.input!.map((name) => (name === input.name ? 'prep/scaled' : name));
    json.modelTopology.node = [...extra.map(({ value: _value, ...node }) => node), ...nodes, ...ops];
    const bytes = Buffer.concat([
      fs.readFileSync(path.join(folder, json.weightsManifest[0].paths[0])),
      Buffer.from(new Float32Array([0.3081 * 255, 0.1307 * 255, 1 / 255]).buffer),
      ...(layout === 'NCHW' ? [Buffer.from(new Int32Array([0, 2, 3, 1]).buffer)] : []),
    ]);
    fs.writeFileSync(path.join(folder, json.weightsManifest[0].paths[0]), bytes);
    json.weightsManifest[0].weights.push(
      ...extra.map(({ name }) => (name === 'prep/perm' ? { name, shape: [4], dtype: 'int32' as const } : { name, shape: [], dtype: 'float32' as const })),
    );
    fs.writeFileSync(path.join(folder, 'model.json'), JSON.stringify(json));
    fs.writeFileSync(path.join(folder, 'model.json.gccs.json'), JSON.stringify({ layout, range: [0, 255], mean: [0.1307 * 255], std: [0.3081 * 255] }));
    const graph = (await loadModelDir(folder)).model;
    const ours = graph.predict(x) as tf.Tensor;
    const reference = layers.predict(x) as tf.Tensor;
    assert.ok(maxDiff(ours, reference) <= 1e-4, `${layout}: logits differ by ${maxDiff(ours, reference)}`);
    assert.ok(maxDiff(inputGradient(graph, x), inputGradient(layers, x)) <= 1e-4, `${layout}: gradients differ`);
    graph.dispose();
  }
});

/** Random weights with a fixed seed. */
const random = (shape: number[], seed: number, scale = 0.3) => tf.randomNormal(shape, 0, scale, 'float32', seed).dataSync() as Float32Array;

test('the other ops (depthwise, batch norm, pads, concat, pools, reductions, elementwise) equal the same tf ops, gradients too', async () => {
  // On wasm, the default: the input gradient through the depthwise convolution runs the project's own kernel (kernels-depthwise.test.ts).
  await initBackend('wasm');
  const g = new GraphBuilder('image', [12, 12, 3]);
  const w = {
    depthwise: random([3, 3, 3, 2], 1),
    bias6: random([6], 2),
    scale: random([6], 3),
    offset: random([6], 4),
    mean: random([6], 5),
    variance: Float32Array.from(random([6], 6), (v) => 0.5 + Math.abs(v)),
    conv: random([1, 1, 12, 4], 7),
    dense: random([98, 5], 8),
    denseBias: random([5], 9),
  };
  const window = (padding: string) => ({
    T: FLOAT,
    strides: ints(1, 1, 1, 1),
    padding: { s: b64(padding) },
    data_format: { s: b64('NHWC') },
    dilations: ints(1, 1, 1, 1),
  });
  const fused = (ops: string[]) => ({ fused_ops: { list: { s: ops.map(b64) } }, num_args: { i: '1' }, epsilon: { f: 0 }, leakyrelu_alpha: { f: 0.2 } });
  const c = (name: string, shape: number[], data: Float32Array | Int32Array) => g.constant(name, shape, data);
  let x = g.op('dw', 'FusedDepthwiseConv2dNative', ['image', c('dw/k', [3, 3, 3, 2], w.depthwise), c('dw/b', [6], w.bias6)], {
    ...window('SAME'),
    ...fused(['BiasAdd', 'Relu6']),
  });
  x = g.op('bn', 'FusedBatchNormV3', [x, c('bn/s', [6], w.scale), c('bn/o', [6], w.offset), c('bn/m', [6], w.mean), c('bn/v', [6], w.variance)], {
    T: FLOAT,
    U: FLOAT,
    epsilon: { f: 0.001 },
    data_format: { s: b64('NHWC') },
    is_training: { b: false },
  });
  x = g.op('elu', 'Elu', [x]);
  x = g.op('pad', 'Pad', [x, c('pad/p', [4, 2], new Int32Array([0, 0, 1, 1, 1, 1, 0, 0]))], { T: FLOAT, Tpaddings: { type: 'DT_INT32' } });
  const pooled = g.op('max', 'MaxPool', [x], { ...window('VALID'), ksize: ints(1, 2, 2, 1), strides: ints(1, 2, 2, 1) });
  const averaged = g.op('avg', 'AvgPool', [x], { ...window('VALID'), ksize: ints(1, 2, 2, 1), strides: ints(1, 2, 2, 1) });
  const joined = g.op('concat', 'ConcatV2', [pooled, g.op('sig', 'Sigmoid', [averaged]), c('concat/axis', [], new Int32Array([-1]))], {
    T: FLOAT,
    N: { i: '2' },
    Tidx: { type: 'DT_INT32' },
  });
  x = g.op('conv', 'Conv2D', [joined, c('conv/k', [1, 1, 12, 4], w.conv)], window('VALID'));
  x = g.op('leaky', 'LeakyRelu', [x], { T: FLOAT, alpha: { f: 0.1 } });
  const mean = g.op('gap', 'Mean', [x, c('gap/axes', [2], new Int32Array([1, 2]))], { T: FLOAT, keep_dims: { b: true }, Tidx: { type: 'DT_INT32' } });
  x = g.op('centred', 'Sub', [x, mean]);
  x = g.op('tanh', 'Tanh', [x]);
  x = g.op('t', 'Transpose', [x, c('t/perm', [4], new Int32Array([0, 3, 1, 2]))], { T: FLOAT, Tperm: { type: 'DT_INT32' } });
  x = g.op('flat', 'Reshape', [x, c('flat/shape', [2], new Int32Array([-1, 196]))], { T: FLOAT, Tshape: { type: 'DT_INT32' } });
  x = g.op('expand', 'ExpandDims', [x, c('expand/axis', [], new Int32Array([1]))], { T: FLOAT, Tdim: { type: 'DT_INT32' } });
  x = g.op('max2', 'Max', [x, c('max2/axes', [1], new Int32Array([1]))], { T: FLOAT, keep_dims: { b: false }, Tidx: { type: 'DT_INT32' } });
  x = g.op('part', 'Reshape', [x, c('part/shape', [3], new Int32Array([-1, 98, 2]))], { T: FLOAT, Tshape: { type: 'DT_INT32' } });
  x = g.op('sum', 'Sum', [x, c('sum/axes', [1], new Int32Array([2]))], { T: FLOAT, keep_dims: { b: false }, Tidx: { type: 'DT_INT32' } });
  x = g.op('logits', '_FusedMatMul', [x, c('d/k', [98, 5], w.dense), c('d/b', [5], w.denseBias)], {
    T: FLOAT,
    transpose_a: { b: false },
    transpose_b: { b: false },
    ...fused(['BiasAdd']),
  });
  const folder = path.join(dir, 'opmix');
  g.write(folder, x);
  const graph = (await loadModelDir(folder)).model;

  const t = (data: Float32Array, shape: number[]) => tf.tensor(data, shape);
  const reference = (image: tf.Tensor): tf.Tensor => {
    let y: tf.Tensor = tf.relu6(tf.add(tf.depthwiseConv2d(image as tf.Tensor4D, t(w.depthwise, [3, 3, 3, 2]) as tf.Tensor4D, 1, 'same'), t(w.bias6, [6])));
    y = tf.elu(tf.batchNorm(y, t(w.mean, [6]), t(w.variance, [6]), t(w.offset, [6]), t(w.scale, [6]), 0.001));
    y = tf.pad(y, [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ]);
    const joined = tf.concat([tf.maxPool(y as tf.Tensor4D, 2, 2, 'valid'), tf.sigmoid(tf.avgPool(y as tf.Tensor4D, 2, 2, 'valid'))], 3);
    y = tf.leakyRelu(tf.conv2d(joined as tf.Tensor4D, t(w.conv, [1, 1, 12, 4]) as tf.Tensor4D, 1, 'valid'), 0.1);
    y = tf.tanh(tf.sub(y, tf.mean(y, [1, 2], true)));
    y = tf.max(tf.expandDims(tf.reshape(tf.transpose(y, [0, 3, 1, 2]), [-1, 196]), 1), 1);
    y = tf.sum(tf.reshape(y, [-1, 98, 2]), 2);
    return tf.add(tf.matMul(y as tf.Tensor2D, t(w.dense, [98, 5]) as tf.Tensor2D), t(w.denseBias, [5]));
  };
  const image = tf.randomUniform([3, 12, 12, 3], 0, 1, 'float32', 21);
  assert.ok(maxDiff(graph.predict(image) as tf.Tensor, reference(image)) <= 1e-5, 'outputs');
  const referenceGradient = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(reference(input), logitWeights(5))))(image);
  const gradient = inputGradient(graph, image);
  assert.ok(maxDiff(gradient, referenceGradient) <= 1e-5, `gradients differ by ${maxDiff(gradient, referenceGradient)}`);

  // Central finite differences at the largest gradients of the first image (float32: h = 1e-2, 2% of the value).
  const one = image.slice([0, 0, 0, 0], [1, -1, -1, -1]);
  const f = (input: tf.Tensor) => tf.tidy(() => tf.sum(tf.mul(graph.predict(input) as tf.Tensor, logitWeights(5))).dataSync()[0]);
  const g0 = inputGradient(graph, one).dataSync();
  const largest = [...g0.keys()].sort((a, b) => Math.abs(g0[b]) - Math.abs(g0[a])).slice(0, 5);
  for (const index of largest) {
    const delta = tf.oneHot(index, one.size).reshape(one.shape).mul(1e-2);
    const estimate = (f(tf.add(one, delta)) - f(tf.sub(one, delta))) / 2e-2;
    assert.ok(Math.abs(estimate - g0[index]) <= 0.02 * Math.abs(g0[index]) + 1e-3, `coordinate ${index}: finite difference ${estimate}, gradient ${g0[index]}`);
  }
  graph.dispose();
});
