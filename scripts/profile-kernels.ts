// Times training steps (forward, backward, SGD update) of the reference CNN on the wasm backend,
// per kernel, to show where the time goes. Run: node --import tsx scripts/profile-kernels.ts [batch] [steps]
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../src/core/backend';

const batch = Number(process.argv[2] ?? 200);
const steps = Number(process.argv[3] ?? 5);

function referenceCnn(): tfl.Sequential {
  const model = tfl.sequential();
  model.add(tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: 128, activation: 'relu' }));
  model.add(tfl.layers.dropout({ rate: 0.2 }));
  model.add(tfl.layers.dense({ units: 10 }));
  return model;
}

interface Row { calls: number; ms: number; byShape: Map<string, number> }

async function main(): Promise<void> {
  const backend = await initBackend('wasm');
  console.log(`backend: ${backend.name} — ${backend.detail}`);
  const model = referenceCnn();
  const x = tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 1);
  const labels = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32', 2) as tf.Tensor1D, 10);
  const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = tf.train.sgd(0.01);
  // The update matters for timing: new weight tensors make XNNPACK repack them, as in training.
  const step = () => {
    const { value, grads } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, weights);
    optimizer.applyGradients(grads);
    tf.dispose([value, ...Object.values(grads)]);
  };

  step(); // warm-up: kernel setup, heap growth
  const rows = new Map<string, Row>();
  let wall = 0;
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    const info = await tf.profile(step);
    wall += performance.now() - t0;
    // Custom-gradient wrappers ("…__op") time kernels that are listed on their own as well.
    for (const k of info.kernels.filter((kernel) => !kernel.name.endsWith('__op'))) {
      const row = rows.get(k.name) ?? { calls: 0, ms: 0, byShape: new Map<string, number>() };
      const ms = k.kernelTimeMs as number;
      const shapes = k.inputShapes.map((shape) => `[${shape ?? ''}]`).join(' ');
      row.calls += 1;
      row.ms += ms;
      row.byShape.set(shapes, (row.byShape.get(shapes) ?? 0) + ms);
      rows.set(k.name, row);
    }
  }
  const total = [...rows.values()].reduce((sum, r) => sum + r.ms, 0);
  console.log(`reference CNN, batch ${batch}: ${(wall / steps).toFixed(1)} ms per step (wall), ` +
    `${(total / steps).toFixed(1)} ms in kernels`);
  console.log('kernel'.padEnd(24) + 'ms/step'.padStart(9) + 'share'.padStart(8) + 'calls'.padStart(7) + '  costliest inputs (ms/step)');
  for (const [name, r] of [...rows].sort((a, b) => b[1].ms - a[1].ms)) {
    const costliest = [...r.byShape].sort((a, b) => b[1] - a[1]).slice(0, 2)
      .map(([shapes, ms]) => `${shapes} ${(ms / steps).toFixed(1)}`).join(' | ');
    console.log(name.padEnd(24) + (r.ms / steps).toFixed(1).padStart(9) + `${((100 * r.ms) / total).toFixed(1)}%`.padStart(8) +
      String(r.calls / steps).padStart(7) + '  ' + costliest);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
