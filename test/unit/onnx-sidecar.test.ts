/**
 * The preprocessing sidecar (model.onnx.gccs.json): the model takes [0, 1] NHWC pixels and applies
 * range, mean and std inside, so its outputs equal the bare graph's on the input normalised by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../src/core/errors';
import { loadModelDir } from '../../src/core/io/modelDir';
import * as tf from '../../src/core/tf';

const source = path.join(__dirname, '..', 'fixtures', 'onnx', 'resnet.onnx');

test('range, mean and std of the sidecar are applied inside the model', async () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-onnx-sidecar-'));
  const file = path.join(folder, 'net.onnx');
  fs.copyFileSync(source, file);
  const bare = await loadModelDir(source);
  fs.writeFileSync(`${file}.gccs.json`, JSON.stringify({ layout: 'NCHW', range: [0, 255], mean: [120, 110, 100], std: [60, 50, 40] }));
  const normalised = await loadModelDir(file);
  const x = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 3);
  const byHand = tf.div(tf.sub(tf.mul(x, 255), tf.tensor1d([120, 110, 100])), tf.tensor1d([60, 50, 40]));
  const expected = (bare.model.predict(byHand) as tf.Tensor).dataSync();
  const actual = (normalised.model.predict(x) as tf.Tensor).dataSync();
  expected.forEach((v, i) => assert.ok(Math.abs(v - actual[i]) < 1e-4 * Math.max(1, Math.abs(v)), `output ${i}: ${actual[i]} vs ${v}`));
  bare.model.dispose();
  normalised.model.dispose();
  fs.writeFileSync(`${file}.gccs.json`, JSON.stringify({ range: [0, 2] }));
  await assert.rejects(loadModelDir(file), (error: Error) => error instanceof UserError && /net\.onnx\.gccs\.json: range must be \[0, 1\] or \[0, 255\]$/.test(error.message));
  fs.writeFileSync(`${file}.gccs.json`, JSON.stringify({ mean: [1, 2] }));
  await assert.rejects(loadModelDir(file), (error: Error) => error instanceof UserError && /mean has 2 values for 3 channels/.test(error.message));
});
