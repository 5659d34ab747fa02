/**
 * ONNX models exported by PyTorch (bench/onnx_fixtures.py, random weights) against PyTorch's own
 * outputs and input gradients on seeded random inputs: a ResNet-style net (BatchNormalization,
 * residual Adds, strided 1×1 shortcuts, global pooling, Gemm) and a mix of the other ops (grouped,
 * depthwise and dilated Conv, padded MaxPool with ceil_mode, AveragePool without padding counted,
 * Pad, Slice, LeakyRelu, Sigmoid, Tanh, Concat, Reshape, Transpose, Softmax).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '../../src/core/tf';
import { loadModelDir } from '../../src/core/io/modelDir';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'onnx');

interface Fixture { inputShape: number[]; input: number[]; outputShape: number[]; output: number[]; gradient: number[] }

function relativeError(ours: ArrayLike<number>, reference: number[]): number {
  let worst = 0;
  let scale = 0;
  reference.forEach((r, i) => {
    worst = Math.max(worst, Math.abs(ours[i] - r));
    scale = Math.max(scale, Math.abs(r));
  });
  return worst / scale;
}

for (const name of ['resnet', 'opmix']) {
  test(`ONNX ${name}: outputs and input gradients equal PyTorch's within 1e-4 relative`, async () => {
    const fixture = JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')) as Fixture;
    const { model, meta } = await loadModelDir(path.join(FIXTURES, `${name}.onnx`));
    assert.equal(meta, null);
    assert.deepEqual(model.outputs[0].shape, [null, fixture.outputShape[1]]);
    // The model takes NHWC pixels; PyTorch's input is NCHW.
    const x = tf.transpose(tf.tensor4d(fixture.input, fixture.inputShape as [number, number, number, number]), [0, 2, 3, 1]);
    const output = (model.predict(x) as tf.Tensor).dataSync();
    assert.ok(relativeError(output, fixture.output) < 1e-4, `outputs differ by ${relativeError(output, fixture.output)} relative`);
    const weights = tf.linspace(-1, 1, fixture.output.length).reshape(fixture.outputShape);
    const gradient = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(model.apply(input, { training: false }) as tf.Tensor, weights)))(x);
    const gradientNCHW = tf.transpose(gradient, [0, 3, 1, 2]).dataSync();
    assert.ok(relativeError(gradientNCHW, fixture.gradient) < 1e-4, `gradients differ by ${relativeError(gradientNCHW, fixture.gradient)} relative`);
    model.dispose();
  });
}

test('ONNX gradient through the graph matches central finite differences (float64 not needed: smooth enough at h=1e-2)', async () => {
  const fixture = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'resnet.json'), 'utf8')) as Fixture;
  const { model } = await loadModelDir(path.join(FIXTURES, 'resnet.onnx'));
  const x = tf.transpose(tf.tensor4d(fixture.input, fixture.inputShape as [number, number, number, number]), [0, 2, 3, 1]).slice([0, 0, 0, 0], [1, -1, -1, -1]);
  const f = (input: tf.Tensor) => tf.sum(tf.mul(model.apply(input, { training: false }) as tf.Tensor, tf.tensor1d([1, -2, 0.5, 3, -1])));
  const gradient = tf.grad(f)(x).dataSync();
  const h = 1e-2;
  let checked = 0;
  // Seeded coordinates (a fixed LCG): the largest gradients are where finite differences are clearest.
  let seed = 7;
  for (let k = 0; k < 6; k++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const index = seed % x.size;
    const delta = tf.oneHot(index, x.size).reshape(x.shape).mul(h);
    const numeric = (f(tf.add(x, delta)).dataSync()[0] - f(tf.sub(x, delta)).dataSync()[0]) / (2 * h);
    assert.ok(Math.abs(numeric - gradient[index]) < 2e-2 * Math.max(1, Math.abs(numeric)), `coordinate ${index}: tf.grad ${gradient[index]}, finite difference ${numeric}`);
    checked++;
  }
  assert.equal(checked, 6);
  model.dispose();
});
