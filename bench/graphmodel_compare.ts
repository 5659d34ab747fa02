/**
 * A TensorFlow.js graph model against the LayersModel whose weights it holds (README › GraphModels):
 * the model folder is written in tensorflowjs_converter's form (test/helpers/graphModel.ts) and both
 * are run on MNIST test images 8000-9999: accuracy, largest logit and input-gradient differences,
 * and the time of a forward pass and of a forward-and-backward pass over the 2000 images.
 * Run: npx tsx bench/graphmodel_compare.ts [MODEL=models/mnist-ce] [DATA=/work/shared/data/mnist-t10k]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../src/core/tf';
import { initBackend } from '../src/core/backend';
import { loadDataset } from '../src/core/data';
import { loadModelDir } from '../src/core/io/modelDir';
import { writeGraphModelOf } from '../test/helpers/graphModel';

const [modelDir = 'models/mnist-ce', data = '/work/shared/data/mnist-t10k'] = process.argv.slice(2);

function timed<T>(run: () => T): { value: T; seconds: number } {
  const start = process.hrtime.bigint();
  const value = run();
  return { value, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

async function main() {
  await initBackend('cpu');
  const layers = (await loadModelDir(modelDir)).model;
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-graphmodel-bench-'));
  writeGraphModelOf(layers, folder);
  const graph = (await loadModelDir(folder)).model;
  const test = (await loadDataset({ kind: 'mnist', path: data })).test!;
  const x = tf.tensor4d(Float32Array.from(test.pixels.subarray(8000 * 784, 10000 * 784), (v) => v / 255), [2000, 28, 28, 1]);
  const labels = test.labels.subarray(8000, 10000);
  const weights = tf.linspace(-1, 1, 10);
  const run = (model: tfl.LayersModel) => {
    const forward = timed(() => tf.tidy(() => (model.predict(x, { batchSize: 500 }) as tf.Tensor).dataSync()));
    const backward = timed(() => tf.tidy(() => tf.grad((input: tf.Tensor) => tf.sum(tf.mul(model.apply(input) as tf.Tensor, weights)))(x).dataSync()));
    let correct = 0;
    for (let i = 0; i < labels.length; i++) {
      const row = forward.value.subarray(i * 10, i * 10 + 10);
      if (row.indexOf(Math.max(...row)) === labels[i]) correct++;
    }
    return { accuracy: correct / labels.length, logits: forward.value, gradient: backward.value, forward: forward.seconds, backward: backward.seconds };
  };
  const [a, b] = [run(layers), run(graph)];
  const largest = (p: Float32Array, q: Float32Array) => p.reduce((worst, v, i) => Math.max(worst, Math.abs(v - q[i])), 0);
  console.log(`images 8000-9999: LayersModel ${(100 * a.accuracy).toFixed(2)}%, graph model ${(100 * b.accuracy).toFixed(2)}%`);
  console.log(`largest logit difference ${largest(a.logits, b.logits)}, largest input-gradient difference ${largest(a.gradient, b.gradient)}`);
  console.log(`forward 2000 images: LayersModel ${a.forward.toFixed(2)} s, graph model ${b.forward.toFixed(2)} s`);
  console.log(`forward and backward: LayersModel ${a.backward.toFixed(2)} s, graph model ${b.backward.toFixed(2)} s`);
  fs.rmSync(folder, { recursive: true });
}

main();
