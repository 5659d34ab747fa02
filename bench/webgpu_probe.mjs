// WebGPU under Node: does @tensorflow/tfjs-backend-webgpu on Dawn (the `webgpu` package) load, are its
// convolution, its gradient and a small CNN's logits right (against the cpu backend, asynchronous
// reads), and do synchronous reads (dataSync, which the engine uses) work? Prints one JSON object.
// The packages are optional and 150 MB, so they are not dependencies: install them in a folder of
// their own and pass its node_modules:
//   npm install --prefix /tmp/wg webgpu @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-webgpu@4.22.0
//   node bench/webgpu_probe.mjs /tmp/wg/node_modules
// Without a GPU, Dawn needs a Vulkan driver it accepts: Debian bookworm's Mesa 22 lavapipe is refused
// (shaderUniform*ArrayDynamicIndexing); bookworm-backports' Mesa 25 llvmpipe works (a CPU, so its speed
// says nothing about a GPU).
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import * as path from 'node:path';

const modules = path.resolve(process.argv[2] ?? 'node_modules');
const require = createRequire(path.join(modules, 'probe.js'));
const dawn = await import(pathToFileURL(require.resolve('webgpu')).href);
Object.assign(globalThis, dawn.globals);
const gpu = dawn.create([]);
const adapter = await gpu.requestAdapter();
const result = { adapter: adapter ? adapter.info?.description || adapter.info?.vendor || 'unnamed' : null };
if (adapter) {
  globalThis.navigator ??= {};
  Object.defineProperty(globalThis.navigator, 'gpu', { value: gpu, configurable: true });
  const tf = require('@tensorflow/tfjs-core');
  // The umbrella package registers every op's gradient into that core.
  require('@tensorflow/tfjs');
  require('@tensorflow/tfjs-backend-webgpu');
  result.backendLoaded = await tf.setBackend('webgpu');
  // A reference-CNN-like stack on random inputs: conv 3×3 ×32 → relu → max-pool → conv 3×3 ×64 → relu → dense 10.
  const seeded = (shape, seed, scale) => tf.mul(tf.randomNormal(shape, 0, 1, 'float32', seed), scale);
  const run = async (backend) => {
    await tf.setBackend(backend);
    const x = tf.randomUniform([64, 28, 28, 1], 0, 1, 'float32', 1);
    const [w1, w2, w3] = [seeded([3, 3, 1, 32], 2, 0.3), seeded([3, 3, 32, 64], 3, 0.06), seeded([13 * 13 * 64, 10], 4, 0.01)];
    const logits = (input) =>
      tf.matMul(tf.reshape(tf.relu(tf.conv2d(tf.maxPool(tf.relu(tf.conv2d(input, w1, 1, 'valid')), 2, 2, 'valid'), w2, 1, 'same')), [64, -1]), w3);
    const z = await logits(x).data();
    const g = await tf
      .grad((input) =>
        tf.sum(
          tf.mul(
            logits(input),
            tf.oneHot(
              tf.tensor1d(
                Array.from({ length: 64 }, (_, i) => i % 10),
                'int32',
              ),
              10,
            ),
          ),
        ),
      )(x)
      .data();
    let sync = 'ok';
    try {
      logits(x).dataSync();
    } catch (error) {
      sync = error.message.split('\n')[0];
    }
    return { z, g, sync };
  };
  const cpu = await run('cpu');
  const webgpu = await run('webgpu');
  const rel = (a, b) => {
    let d = 0,
      s = 0;
    for (let i = 0; i < b.length; i++) {
      d = Math.max(d, Math.abs(a[i] - b[i]));
      s = Math.max(s, Math.abs(b[i]));
    }
    return d / (s || 1);
  };
  Object.assign(result, { logitsRelativeDifference: rel(webgpu.z, cpu.z), gradientRelativeDifference: rel(webgpu.g, cpu.g), synchronousRead: webgpu.sync });
}
console.log(JSON.stringify(result));
process.exit(0);
