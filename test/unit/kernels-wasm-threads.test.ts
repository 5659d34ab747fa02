// The wasm backend on 2 threads in one process (tfjs-backend-wasm's threaded build, XNNPACK's
// thread pool, the C kernels cut across helper threads): every kernel whose work is cut, and
// whole-model first and second derivatives, equal the 1-thread backend bit for bit (each output
// element is computed by one thread in the same order) and match the cpu backend (CLR's in loss-defences.test.ts).
import * as os from 'node:os';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../../src/core/backend';
import { setWasmThreads, wasmThreads, wasmThreadsShare, workerThreadsEnv } from '../../src/core/backend/threadCount';
import { parallelStats, runParts } from '../../src/core/backend/kernels/simd/parallel';
import { UserError } from '../../src/core/errors';
import { createModel } from '../../src/core/models';
import { crossLipschitzPenalty, Forward, inputGradientPenalty, jacobianProjectionPenalty } from '../../src/core/loss/defences';
import { Random } from '../../src/core/random';
import { relativeError } from '../helpers/relativeError';

type Values = Record<string, { data: Float32Array; shape: number[] }>;
type Tensors = Record<string, tf.Tensor>;
type Setting = 'cpu' | 1 | 2;

function normal(shape: number[], seed: number, scale = 1): { data: Float32Array; shape: number[] } {
  const rng = new Random(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = scale * rng.normal();
  return { data, shape };
}

async function use(setting: Setting): Promise<void> {
  setWasmThreads(setting === 'cpu' ? undefined : setting);
  await initBackend(setting === 'cpu' ? 'cpu' : 'wasm');
  if (setting !== 'cpu') assert.equal(getThreadsCount(), setting);
}

/** `compute` on fresh tensors made from `values` on each setting; returns each one's outputs. */
async function onEach(settings: Setting[], values: Values, compute: (t: Tensors, setting: Setting) => tf.Tensor[]): Promise<Float32Array[][]> {
  const results: Float32Array[][] = [];
  for (const setting of settings) {
    await use(setting);
    const tensors = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, tf.tensor(v.data, v.shape)]));
    const outputs = tf.tidy(() => compute(tensors, setting));
    results.push(outputs.map((o) => o.dataSync() as Float32Array));
    tf.dispose([...outputs, ...Object.values(tensors)]);
  }
  return results;
}

/** On 2 threads: some calls were cut, results equal 1 thread's exactly and cpu's within `tolerance`. */
async function assertThreadsAgree(name: string, values: Values, compute: (t: Tensors) => tf.Tensor[], tolerance: number): Promise<void> {
  const [cpu, one, two] = await onEach(['cpu', 1, 2], values, (t, setting) => {
    const before = parallelStats.calls;
    const out = compute(t);
    if (setting === 2) assert.ok(parallelStats.calls > before, `${name}: no C kernel call was cut across threads`);
    return out;
  });
  two.forEach((result, i) => {
    assert.ok(result.every((v, j) => Object.is(v, one[i][j])), `${name}, output ${i}: 2 threads differ from 1 thread`);
    const err = relativeError(result, cpu[i]);
    assert.ok(err < tolerance, `${name}, output ${i}: relative error ${err} against cpu`);
  });
}

test('--threads 2 loads the threaded build: shared memory, 2 XNNPACK threads, the detail line says so', async () => {
  setWasmThreads(2);
  const info = await initBackend('wasm');
  assert.match(info.detail, /XNNPACK, SIMD, 2 threads\)/);
  assert.equal(getThreadsCount(), 2);
  // Back to one thread: tfjs-backend-wasm's own single-threaded build.
  setWasmThreads(1);
  assert.match((await initBackend('wasm')).detail, /XNNPACK, SIMD, 1 thread\)/);
  assert.equal(getThreadsCount(), 1);
});

test('a bad thread count is one line naming where it came from', () => {
  const oneLine = /^--threads .*: the wasm backend's threads must be a whole number from 1 to 8$/;
  for (const bad of [0, 1.5, 9, Number.NaN]) assert.throws(() => setWasmThreads(bad), (err: Error) => err instanceof UserError && oneLine.test(err.message));
  setWasmThreads(undefined);
  const saved = process.env.GCCS_WASM_THREADS;
  try {
    process.env.GCCS_WASM_THREADS = 'two';
    assert.throws(() => wasmThreads(), (err: Error) => err instanceof UserError && err.message.startsWith('GCCS_WASM_THREADS=two: '));
    process.env.GCCS_WASM_THREADS = '2';
    assert.equal(wasmThreads(), 2);
  } finally {
    if (saved === undefined) delete process.env.GCCS_WASM_THREADS;
    else process.env.GCCS_WASM_THREADS = saved;
  }
});

test('unless told, each process takes its share of the cores, and worker processes split them', () => {
  const cores = os.availableParallelism();
  const saved = process.env.GCCS_WASM_THREADS;
  try {
    delete process.env.GCCS_WASM_THREADS;
    setWasmThreads(undefined);
    assert.equal(wasmThreads(), Math.min(8, cores));
    assert.equal(wasmThreadsShare(2), Math.max(1, Math.min(8, Math.floor(cores / 2))));
    assert.equal(wasmThreadsShare(cores + 1), 1);
    assert.deepEqual(workerThreadsEnv(2), { GCCS_WASM_THREADS: String(wasmThreadsShare(2)) });
    // A chosen count goes to every worker; one from the environment is inherited as it is.
    setWasmThreads(3);
    assert.deepEqual(workerThreadsEnv(2), { GCCS_WASM_THREADS: '3' });
    setWasmThreads(undefined);
    process.env.GCCS_WASM_THREADS = '1';
    assert.deepEqual(workerThreadsEnv(2), {});
  } finally {
    setWasmThreads(undefined);
    if (saved === undefined) delete process.env.GCCS_WASM_THREADS;
    else process.env.GCCS_WASM_THREADS = saved;
  }
});

const NHWC = { dataFormat: 'NHWC', dilations: [1, 1] } as const;
const run = (kernel: string, inputs: Tensors, attrs: object) => tf.engine().runKernel(kernel, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;

test('Conv2D and FusedConv2D by Winograd (transforms cut by images) on 2 threads', async () => {
  const values = { x: normal([8, 16, 16, 32], 1), filter: normal([3, 3, 32, 32], 2), bias: normal([32], 3) };
  await assertThreadsAgree('Conv2D', values, (t) => [run('Conv2D', { x: t.x, filter: t.filter }, { ...NHWC, strides: [1, 1], pad: 'same' })], 1e-4);
  await assertThreadsAgree('FusedConv2D', values, (t) => [run('FusedConv2D', t, { ...NHWC, strides: [1, 1], pad: 'valid', activation: 'relu' })], 1e-4);
});

test('Conv2DBackpropInput, as a Winograd convolution and by col2im (cut by images), on 2 threads', async () => {
  const filter = normal([3, 3, 32, 32], 4);
  await assertThreadsAgree('Conv2DBackpropInput stride 1', { dy: normal([8, 16, 16, 32], 5), filter }, (t) => [
    run('Conv2DBackpropInput', t, { ...NHWC, strides: [1, 1], pad: 'same', inputShape: [8, 16, 16, 32] })], 1e-4);
  await assertThreadsAgree('Conv2DBackpropInput stride 2', { dy: normal([16, 8, 8, 32], 6), filter }, (t) => [
    run('Conv2DBackpropInput', t, { ...NHWC, strides: [2, 2], pad: 'same', inputShape: [16, 16, 16, 32] })], 1e-4);
});

test('Conv2DBackpropFilter (im2col cut by taps) on 2 threads', async () => {
  await assertThreadsAgree('Conv2DBackpropFilter', { x: normal([8, 32, 32, 16], 7), dy: normal([8, 16, 16, 32], 8) }, (t) => [
    run('Conv2DBackpropFilter', t, { ...NHWC, strides: [2, 2], pad: 'same', filterShape: [3, 3, 16, 32] })], 1e-4);
});

test('MaxPoolGrad (cut by images), tiling and overlapping windows, on 2 threads', async () => {
  for (const [size, stride, pad] of [[2, 2, 'valid'], [3, 2, 'same']] as const) {
    const x = normal([8, 26, 26, 32], 9);
    await assertThreadsAgree(`MaxPoolGrad ${size}×${size}/${stride}`, { x, dy: normal([8, 13, 13, 32], 10) }, (t) => {
      const input = tf.relu(t.x);
      const output = tf.maxPool(input as tf.Tensor4D, size, stride, pad);
      return [run('MaxPoolGrad', { dy: t.dy, input, output }, { filterSize: [size, size], strides: [stride, stride], pad })];
    }, 1e-6);
  }
});

test('a C kernel that fails on a helper thread is an error, not a hang', async () => {
  await use(2);
  const backend = tf.backend() as unknown as Parameters<typeof runParts>[0];
  // col2im of one 1×1×1 image far past the end of memory: the helper's part traps.
  const beyond = 0xfff00000;
  const part = (at: number) => [at, at, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0];
  const dx = tf.zeros([1, 1, 1, 4]);
  const at = (backend as unknown as { dataIdMap: { get(id: unknown): { memoryOffset: number } } }).dataIdMap.get(dx.dataId).memoryOffset;
  assert.throws(() => runParts(backend, 'col2im', [part(at), part(beyond)]), /the C kernel col2im failed on a helper thread/);
  // The helper still serves the next call.
  runParts(backend, 'col2im', [part(at), part(at + 4)]);
  dx.dispose();
});

test('training gradients of the bundled CNN, first order and second order (JR, IGR, CLR), on 2 threads', async () => {
  // 8 images: the second convolution's Winograd transforms are still cut in two.
  const batch = 8;
  const x = normal([batch, 28, 28, 1], 11, 0.3);
  const directions = normal([batch, 10], 12);
  const labels = Int32Array.from({ length: batch }, (_, i) => (7 * i) % 10);
  const losses: Record<string, (forward: Forward, x: tf.Tensor4D) => tf.Scalar> = {
    'cross-entropy': (forward, input) => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(labels, 'int32'), 10), forward(input)) as tf.Scalar,
    jr: (forward, input) => {
      const v = tf.tensor2d(directions.data, [batch, 10]);
      return jacobianProjectionPenalty(forward, input, tf.div(v, tf.norm(v, 2, 1, true)) as tf.Tensor2D).penalty;
    },
    igr: (forward, input) => inputGradientPenalty(forward, input, labels).penalty,
    clr: (forward, input) => crossLipschitzPenalty(forward, input, 10).penalty,
  };
  // CLR's cpu reference (10 double backward passes in JavaScript) took ~100 s of this file's ~120 s: its wasm gradients are
  // checked against cpu, float64 and finite differences in loss-defences.test.ts, and here 2 threads against 1 bit for bit.
  const withCpuReference = new Set(['cross-entropy', 'jr', 'igr']);
  const failures: string[] = [];
  for (const [name, loss] of Object.entries(losses)) {
    const results = new Map<Setting, Float32Array[]>();
    for (const setting of withCpuReference.has(name) ? (['cpu', 1, 2] as const) : ([1, 2] as const)) {
      await use(setting);
      // Same seed, same weights on every backend.
      const model = await createModel('cnn', [28, 28, 1], 10, 1);
      const forward: Forward = (input) => model.apply(input, { training: false }) as tf.Tensor2D;
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const before = parallelStats.calls;
      const outputs = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => loss(forward, tf.tensor4d(x.data, x.shape as [number, number, number, number])), variables);
        return [value, ...variables.filter((v) => grads[v.name]).map((v) => grads[v.name])];
      });
      if (setting === 2 && parallelStats.calls === before) failures.push(`${name}: no C kernel call was cut across threads`);
      results.set(setting, outputs.map((o) => o.dataSync() as Float32Array));
      tf.dispose(outputs);
      model.dispose();
    }
    const [cpu, one, two] = [results.get('cpu'), results.get(1)!, results.get(2)!];
    two.forEach((result, i) => {
      if (!result.every((v, j) => Object.is(v, one[i][j]))) failures.push(`${name}, output ${i}: 2 threads differ from 1 thread`);
      if (!cpu) return;
      // Biases before a ReLU move input gradients only through activation patterns: zero on both.
      const err = relativeError(result, cpu[i]);
      if (!(err < (name === 'cross-entropy' ? 1e-4 : 1e-3))) failures.push(`${name}, output ${i}: relative error ${err} against cpu`);
    });
  }
  assert.deepEqual(failures, []);
});
