// Where the time goes on the wasm backend, kernel by kernel, for the reference CNN (MNIST shapes):
// a training step with each loss (as the trainer runs it: Adam, loss and accuracy read back), an
// inference pass and a PGD-5 attack. Prints images/s (median of the timed runs, by wall clock and by
// this process's CPU time, which a machine shared with other jobs disturbs less) and each phase's
// costliest kernels (from tf.profile, one extra run; wall clock).
// Run: node --import tsx scripts/profile-kernels.ts [phases=train-ce,train-gccs,infer,pgd5] [runs=7]
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../src/core/tf';
import { initBackend } from '../src/core/backend';
import { lossConfig, computeLoss } from '../src/core/loss';
import { createModel } from '../src/core/models';
import { Optimizer } from '../src/core/train/optimizer';
import { TRAIN_DEFAULTS } from '../src/core/train/defaults';
import { attackBatch, resolveAttackParams } from '../src/core/attacks';
import { logitsOf } from '../src/core/attacks/common';
import { Random } from '../src/core/random';
import { median } from '../src/core/stats';

const phases = (process.argv[2] ?? 'train-ce,train-gccs,infer,pgd5').split(',');
const runs = Number(process.argv[3] ?? 7);
const CLASSES = 10;

interface Phase { batch: number; run: () => unknown | Promise<unknown> }

function inputs(batch: number, seed: number): { x: tf.Tensor4D; labels: Int32Array } {
  const random = new Random(seed);
  const x = tf.tensor4d(new Float32Array(batch * 28 * 28).map(() => random.uniform(0, 1)), [batch, 28, 28, 1]);
  return { x, labels: new Int32Array(batch).map(() => random.int(CLASSES)) };
}

/** The trainer's step (src/core/train/trainer.ts), including its two read-backs. */
function trainPhase(model: tfl.LayersModel, kind: 'gccs' | 'crossentropy'): Phase {
  const batch = TRAIN_DEFAULTS.batchSize;
  const { x, labels } = inputs(batch, 1);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = new Optimizer(TRAIN_DEFAULTS.optimizer, variables);
  const loss = lossConfig(kind);
  return {
    batch,
    run: () => tf.tidy(() => {
      const forward: { z?: tf.Tensor2D } = {};
      const { value, grads } = tf.variableGrads(() => {
        forward.z = tf.keep(model.apply(x, { training: true }) as tf.Tensor2D);
        return computeLoss(loss, forward.z, labels);
      }, variables);
      optimizer.apply(variables.map((v) => grads[v.name]), 1e-4);
      (forward.z as tf.Tensor2D).dataSync();
      forward.z?.dispose();
      return value.dataSync()[0];
    }),
  };
}

function inferencePhase(model: tfl.LayersModel): Phase {
  const batch = TRAIN_DEFAULTS.batchSize;
  const { x } = inputs(batch, 2);
  return { batch, run: () => tf.tidy(() => logitsOf(model, x).dataSync()) };
}

function pgdPhase(model: tfl.LayersModel): Phase {
  const batch = 100;
  const { x, labels } = inputs(batch, 3);
  const params = resolveAttackParams('pgd', { eps: 0.1, steps: 5 });
  return {
    batch,
    run: async () => {
      const { adversarial } = await attackBatch(model, 'pgd', x, labels, params, 0);
      adversarial.dispose();
    },
  };
}

interface Row { calls: number; ms: number; byShape: Map<string, number> }

async function profilePhase(name: string, phase: Phase): Promise<void> {
  await phase.run(); // warm-up: kernel setup, heap growth
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    await phase.run();
    const cpu = process.cpuUsage(cpu0);
    times.push(performance.now() - t0);
    cpuTimes.push((cpu.user + cpu.system) / 1000);
  }
  const wallMs = median(times);
  const cpuMs = median(cpuTimes);
  const leaked = tf.memory().numTensors;
  const info = await tf.profile(() => phase.run() as tf.TensorContainer);
  const rows = new Map<string, Row>();
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
  const total = [...rows.values()].reduce((sum, r) => sum + r.ms, 0);
  const perSecond = (ms: number) => Math.round((1000 * phase.batch) / ms);
  console.log(`\n${name}, batch ${phase.batch}, median of ${runs}: wall ${wallMs.toFixed(1)} ms (${perSecond(wallMs)} images/s), ` +
    `CPU ${cpuMs.toFixed(1)} ms (${perSecond(cpuMs)} images/s); profiled run: ${total.toFixed(1)} ms in ` +
    `${info.kernels.length} kernel calls; ${leaked} live tensors`);
  console.log('kernel'.padEnd(24) + 'ms'.padStart(7) + 'share'.padStart(8) + 'calls'.padStart(7) + '  costliest inputs (ms)');
  for (const [kernel, r] of [...rows].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14)) {
    const costliest = [...r.byShape].sort((a, b) => b[1] - a[1]).slice(0, 2)
      .map(([shapes, ms]) => `${shapes} ${ms.toFixed(1)}`).join(' | ');
    console.log(kernel.padEnd(24) + r.ms.toFixed(1).padStart(7) + `${((100 * r.ms) / total).toFixed(1)}%`.padStart(8) +
      String(r.calls).padStart(7) + '  ' + costliest);
  }
}

async function main(): Promise<void> {
  const backend = await initBackend('wasm');
  console.log(`backend: ${backend.name} — ${backend.detail}`);
  const model = await createModel('cnn', [28, 28, 1], CLASSES, 0);
  const make: Record<string, () => Phase> = {
    'train-ce': () => trainPhase(model, 'crossentropy'),
    'train-gccs': () => trainPhase(model, 'gccs'),
    infer: () => inferencePhase(model),
    pgd5: () => pgdPhase(model),
  };
  for (const name of phases) {
    if (!make[name]) throw new Error(`unknown phase ${name}: use ${Object.keys(make).join(', ')}`);
    await profilePhase(name, make[name]());
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
