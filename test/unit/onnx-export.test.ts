/**
 * Models built here, exported to ONNX (src/core/io/onnx/export.ts) and read back by the ONNX reader
 * give the LayersModel's outputs on seeded random inputs: the MLP and the CNN of the paper, and a
 * functional net with every other exported layer ('same' convolutions with strides and dilations,
 * batch normalisation with random statistics, residual Add, 'same' max and average pooling,
 * Concatenate, Multiply, Rescaling, LeakyReLU, ReLU with a cap, Activation, global pooling).
 * Tolerance: 1e-5 of the outputs' scale (float32, the same ops in another layout).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../../src/core/tf';
import { UserError } from '../../src/core/errors';
import { buildCnn } from '../../src/core/models/cnn';
import { buildMlp } from '../../src/core/models/mlp';
import { exportOnnx } from '../../src/core/io/onnx/export';
import { loadOnnxModel } from '../../src/core/io/onnx/model';
import { readOnnxFile } from '../../src/core/io/onnx/parse';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-onnx-export-'));

function mixedNet(): tfl.LayersModel {
  const input = tfl.input({ shape: [15, 13, 3] });
  const scaled = tfl.layers.rescaling({ scale: 2, offset: -1 }).apply(input) as tfl.SymbolicTensor;
  const conv = (x: tfl.SymbolicTensor, filters: number, kernelSize: number, strides: number, extra: object = {}) => {
    return tfl.layers.conv2d({ filters, kernelSize, strides, padding: 'same', ...extra }).apply(x) as tfl.SymbolicTensor;
  };
  const stem = tfl.layers.batchNormalization({ epsilon: 1e-3 }).apply(conv(scaled, 6, 3, 2, { useBias: false })) as tfl.SymbolicTensor;
  const a = tfl.layers.reLU({ maxValue: 1.5 }).apply(stem) as tfl.SymbolicTensor;
  const b = tfl.layers.leakyReLU({ alpha: 0.2 }).apply(conv(a, 6, 3, 1, { dilationRate: 2 })) as tfl.SymbolicTensor;
  const residual = tfl.layers.add().apply([a, b]) as tfl.SymbolicTensor;
  const gate = tfl.layers.activation({ activation: 'sigmoid' }).apply(conv(a, 6, 1, 1)) as tfl.SymbolicTensor;
  const gated = tfl.layers.multiply().apply([residual, gate]) as tfl.SymbolicTensor;
  const pooledMax = tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(gated) as tfl.SymbolicTensor;
  const pooledAvg = tfl.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'same' }).apply(conv(gated, 4, 3, 1, { activation: 'tanh' })) as tfl.SymbolicTensor;
  const joined = tfl.layers.concatenate().apply([pooledMax, pooledAvg]) as tfl.SymbolicTensor;
  const global = tfl.layers.globalAveragePooling2d({}).apply(joined) as tfl.SymbolicTensor;
  const flat = tfl.layers.flatten().apply(joined) as tfl.SymbolicTensor;
  const hidden = tfl.layers.dense({ units: 8, activation: 'relu' }).apply(flat) as tfl.SymbolicTensor;
  const features = tfl.layers.concatenate().apply([global, hidden]) as tfl.SymbolicTensor;
  const normalised = tfl.layers.batchNormalization().apply(features) as tfl.SymbolicTensor;
  const z = tfl.layers.dense({ units: 5 }).apply(tfl.layers.dropout({ rate: 0.3 }).apply(normalised) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: z, name: 'mixed' });
  // Batch statistics that are not the identity, so that a wrong axis or order shows.
  let seed = 3;
  for (const layer of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    layer.setWeights(layer.getWeights().map((w, i) => tf.add(tf.randomUniform(w.shape, -0.5, 0.5, 'float32', seed++), i === 0 || i === 3 ? 1 : 0)));
  }
  return model;
}

function scaledError(ours: ArrayLike<number>, reference: ArrayLike<number>): number {
  let worst = 0;
  let scale = 1;
  for (let i = 0; i < reference.length; i++) {
    worst = Math.max(worst, Math.abs(ours[i] - reference[i]));
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return worst / scale;
}

const MODELS: [string, () => tfl.LayersModel, number[]][] = [
  ['mlp', () => buildMlp([28, 28, 1], 10, 5), [28, 28, 1]],
  ['cnn', () => buildCnn([28, 28, 1], 10, 6), [28, 28, 1]],
  ['mixed', mixedNet, [15, 13, 3]],
];

for (const [name, build, shape] of MODELS) {
  test(`export ${name} to ONNX and read it back: the same outputs`, (t) => {
    const model = build();
    const file = path.join(dir, `${name}.onnx`);
    const classNames = Array.from({ length: model.outputs[0].shape[1] as number }, (_, i) => `class ${i}`);
    const written = exportOnnx(model, file, classNames);
    assert.equal(written.sidecar, `${file}.gccs.json`);
    assert.deepEqual(JSON.parse(fs.readFileSync(written.sidecar, 'utf8')), { layout: 'NCHW', range: [0, 1], mean: [0], std: [1], classNames });
    const graph = readOnnxFile(file);
    assert.equal(graph.opset, 13);
    assert.deepEqual(graph.input.dims, [-1, shape[2], shape[0], shape[1]], 'NCHW input with a free batch');
    const x = tf.randomUniform([4, ...shape], 0, 1, 'float32', 11);
    const expected = (model.predict(x) as tf.Tensor).dataSync();
    const loaded = loadOnnxModel(file);
    assert.deepEqual(loaded.preprocessing.classNames, classNames);
    const error = scaledError((loaded.model.predict(x) as tf.Tensor).dataSync(), expected);
    t.diagnostic(`${name}: ${graph.nodes.length} nodes, largest difference ${error.toExponential(1)} of the outputs' scale`);
    assert.ok(error < 1e-5, `outputs differ by ${error}`);
    loaded.model.dispose();
    model.dispose();
  });
}

test('a layer the exporter does not know is refused in one line naming the file, the layer and the exported ones', () => {
  const input = tfl.input({ shape: [8, 8, 1] });
  const upsampled = tfl.layers.upSampling2d({}).apply(input) as tfl.SymbolicTensor;
  const y = tfl.layers.dense({ units: 3 }).apply(tfl.layers.flatten().apply(upsampled) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
  const file = path.join(dir, 'up.onnx');
  assert.throws(() => exportOnnx(tfl.model({ inputs: input, outputs: y }), file), (error: Error) => {
    assert.ok(error instanceof UserError);
    assert.match(error.message, /^.*up\.onnx: layer "up_sampling2d\w*" \(UpSampling2D\): this layer type is not exported \(exported: Conv2D, Dense, /);
    assert.ok(!error.message.includes('\n'));
    return true;
  });
  assert.ok(!fs.existsSync(file) && !fs.existsSync(`${file}.gccs.json`), 'nothing written');
});
