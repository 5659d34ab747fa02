/**
 * ONNX must-show, second half: the model that bench/onnx_mnist.py trained and exported, read by
 * this engine, against PyTorch's logits and accuracy on MNIST test images 8000-9999.
 * Run: npx tsx bench/onnx_compare.ts [OUT=models/onnx-mnist] [DATA=/work/shared/data/mnist-t10k]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as tf from '../src/core/tf';
import { loadModelDir } from '../src/core/io/modelDir';

const [out = 'models/onnx-mnist', data = '/work/shared/data/mnist-t10k'] = process.argv.slice(2);

function idx(file: string): Buffer {
  return zlib.gunzipSync(fs.readFileSync(path.join(data, file)));
}

async function main() {
  const images = idx('t10k-images-idx3-ubyte.gz').subarray(16);
  const labels = idx('t10k-labels-idx1-ubyte.gz').subarray(8);
  const torchLogits = new Float32Array(fs.readFileSync(path.join(out, 'torch_logits.f32')).buffer.slice(0));
  const torchResult = JSON.parse(fs.readFileSync(path.join(out, 'torch_result.json'), 'utf8'));
  const { model } = await loadModelDir(path.join(out, 'model.onnx'));
  const pixels = Float32Array.from(images.subarray(8000 * 784, 10000 * 784), (v) => v / 255);
  const ours = tf.tidy(() => (model.predict(tf.tensor4d(pixels, [2000, 28, 28, 1]), { batchSize: 250 }) as tf.Tensor).dataSync() as Float32Array);
  let correct = 0;
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < 2000; i++) {
    const row = Array.from(ours.subarray(i * 10, i * 10 + 10));
    if (row.indexOf(Math.max(...row)) === labels[8000 + i]) correct++;
    for (let k = 0; k < 10; k++) {
      worst = Math.max(worst, Math.abs(ours[i * 10 + k] - torchLogits[i * 10 + k]));
      scale = Math.max(scale, Math.abs(torchLogits[i * 10 + k]));
    }
  }
  console.log(`backend ${tf.getBackend()}`);
  console.log(`accuracy: PyTorch ${(torchResult.accuracy * 100).toFixed(2)}%, this engine ${(correct / 20).toFixed(2)}%`);
  console.log(`largest |logit difference| ${worst.toExponential(2)}, relative to the largest |logit| ${(worst / scale).toExponential(2)}`);
}

void main();
