/**
 * Export check, first half: a model trained here (TF.js LayersModel folder) and its ONNX export
 * (gccs export) on MNIST test images 8000-9999: the LayersModel's logits, written for
 * bench/onnx_export_check.py (which runs the .onnx graph in PyTorch), and this engine's reader on
 * the exported file against them.
 * Run: npx tsx bench/onnx_export_check.ts MODEL_DIR FILE.onnx [DATA=/work/shared/data/mnist-t10k]
 *  or: npx tsx bench/onnx_export_check.ts --random-resnet18 MODEL_DIR FILE.onnx [DATA]
 *      (first saves a ResNet-18 for 28×28×1 with random weights and random batch-norm statistics
 *      to MODEL_DIR and exports it to FILE.onnx: 'same' padding, strides, BatchNormalization, Add)
 * Writes FILE.onnx.tfjs_logits.f32 (images x classes, little-endian float32). Backend: wasm.
 * Images: 8000-9999, or 8000-8199 for the ResNet-18 (this machine's CPU).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as tf from '../src/core/tf';
import { initBackend } from '../src/core/backend';
import { loadModelDir } from '../src/core/io/modelDir';
import { saveLayersModel } from '../src/core/io/layersModelFiles';
import { exportOnnx } from '../src/core/io/onnx/export';
import { buildResnet18 } from '../src/core/models/resnet18';

const randomResnet = process.argv[2] === '--random-resnet18';
const [modelDir, onnxFile, data = '/work/shared/data/mnist-t10k'] = process.argv.slice(randomResnet ? 3 : 2);

async function saveRandomResnet(): Promise<void> {
  const model = buildResnet18([28, 28, 1], 10, 3);
  let seed = 1;
  for (const layer of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    // gamma, beta, moving mean, moving variance: away from the identity, so a wrong axis or order shows.
    layer.setWeights(layer.getWeights().map((w, i) => tf.add(tf.randomUniform(w.shape, -0.5, 0.5, 'float32', seed++), i === 0 || i === 3 ? 1 : 0)));
  }
  await saveLayersModel(model, modelDir);
  exportOnnx(model, onnxFile);
}

function idx(file: string): Buffer {
  return zlib.gunzipSync(fs.readFileSync(path.join(data, file)));
}

const COUNT = randomResnet ? 200 : 2000;

function logitsOf(model: import('@tensorflow/tfjs-layers').LayersModel, pixels: Float32Array): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor4d(pixels, [COUNT, 28, 28, 1]), { batchSize: 50 }) as tf.Tensor).dataSync() as Float32Array);
}

async function main() {
  if (!modelDir || !onnxFile) throw new Error('usage: npx tsx bench/onnx_export_check.ts [--random-resnet18] MODEL_DIR FILE.onnx [DATA]');
  await initBackend('wasm');
  if (randomResnet) await saveRandomResnet();
  const images = idx('t10k-images-idx3-ubyte.gz').subarray(16);
  const labels = idx('t10k-labels-idx1-ubyte.gz').subarray(8);
  const pixels = Float32Array.from(images.subarray(8000 * 784, (8000 + COUNT) * 784), (v) => v / 255);
  const layers = logitsOf((await loadModelDir(modelDir)).model, pixels);
  const exported = logitsOf((await loadModelDir(onnxFile)).model, pixels);
  fs.writeFileSync(`${onnxFile}.tfjs_logits.f32`, Buffer.from(layers.buffer, layers.byteOffset, layers.byteLength));
  const classes = layers.length / COUNT;
  const accuracy = (z: Float32Array) => {
    let correct = 0;
    for (let i = 0; i < COUNT; i++) {
      const row = Array.from(z.subarray(i * classes, (i + 1) * classes));
      if (row.indexOf(Math.max(...row)) === labels[8000 + i]) correct++;
    }
    return ((100 * correct) / COUNT).toFixed(2);
  };
  let worst = 0;
  let scale = 0;
  layers.forEach((v, i) => {
    worst = Math.max(worst, Math.abs(v - exported[i]));
    scale = Math.max(scale, Math.abs(v));
  });
  console.log(`backend ${tf.getBackend()}; MNIST test images 8000-${8000 + COUNT - 1}`);
  console.log(`accuracy: LayersModel ${accuracy(layers)}%, its ONNX export read back ${accuracy(exported)}%; largest |logit difference| ${worst.toExponential(2)} (${(worst / scale).toExponential(2)} of the largest |logit|)`);
}

void main();
