// The custom wasm kernels against the cpu backend, on the shapes the bundled models use, and
// whole-model gradients (tf.variableGrads) on wasm against cpu.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/core/backend';
import { Random } from '../../src/core/random';
import { relativeError } from '../helpers/relativeError';

type Shape4 = [number, number, number, number];
type Pad = 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]];
type Values = Record<string, { data: Float32Array; shape: number[] }>;

const TOLERANCE = 1e-4;

function normal(shape: number[], seed: number): { data: Float32Array; shape: number[] } {
  const rng = new Random(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { data, shape };
}

type Tensors = Record<string, tf.Tensor>;

/** Runs `compute` on fresh tensors made from `values` on cpu, then wasm; returns both results. */
async function onBothBackends(values: Values, compute: (t: Tensors) => tf.Tensor[]): Promise<Float32Array[][]> {
  const results: Float32Array[][] = [];
  for (const backend of ['cpu', 'wasm'] as const) {
    await initBackend(backend);
    const tensors = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, tf.tensor(v.data, v.shape)]));
    const outputs = tf.tidy(() => compute(tensors));
    results.push(await Promise.all(outputs.map(async (o) => (await o.data()) as Float32Array)));
    tf.dispose([...outputs, ...Object.values(tensors)]);
  }
  return results;
}

async function assertKernelMatchesCpu(kernel: string, values: Values, attrs: tf.NamedAttrMap, extra?: (t: Tensors) => Tensors): Promise<void> {
  const [[cpu], [wasm]] = await onBothBackends(values, (t) => {
    const inputs = extra ? { ...t, ...extra(t) } : t;
    return [tf.engine().runKernel(kernel, inputs, attrs) as tf.Tensor];
  });
  const err = relativeError(wasm, cpu);
  assert.ok(err < TOLERANCE, `${kernel}: relative error ${err}`);
}

test('the wasm backend loads its SIMD binary (the custom C kernels need WebAssembly SIMD too)', async () => {
  const info = await initBackend('wasm');
  assert.match(info.detail, /XNNPACK, SIMD, \d+ threads?\)/);
  assert.equal(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), true);
});

interface ConvCase { name: string; x: Shape4; filter: Shape4; stride: number; pad: Pad }

const convCases: ConvCase[] = [
  { name: 'CNN conv1: 3×3 valid, 1→32 on 28×28', x: [8, 28, 28, 1], filter: [3, 3, 1, 32], stride: 1, pad: 'valid' },
  { name: 'CNN conv2: 3×3 valid, 32→64 on 13×13', x: [8, 13, 13, 32], filter: [3, 3, 32, 64], stride: 1, pad: 'valid' },
  { name: 'ResNet stem: 3×3 same, 3→64 on 32×32', x: [2, 32, 32, 3], filter: [3, 3, 3, 64], stride: 1, pad: 'same' },
  { name: 'ResNet: 3×3 same, 64→64 on 32×32', x: [2, 32, 32, 64], filter: [3, 3, 64, 64], stride: 1, pad: 'same' },
  { name: 'ResNet: 3×3 same stride 2, 64→128', x: [2, 32, 32, 64], filter: [3, 3, 64, 128], stride: 2, pad: 'same' },
  { name: 'ResNet shortcut: 1×1 valid stride 2, 64→128', x: [2, 32, 32, 64], filter: [1, 1, 64, 128], stride: 2, pad: 'valid' },
  { name: 'ResNet shortcut: 1×1 same stride 2, 128→256', x: [2, 16, 16, 128], filter: [1, 1, 128, 256], stride: 2, pad: 'same' },
  { name: 'ResNet: 3×3 same, 256→256 on 8×8', x: [2, 8, 8, 256], filter: [3, 3, 256, 256], stride: 1, pad: 'same' },
  { name: 'ResNet: 3×3 same stride 2, 256→512 on 8×8', x: [2, 8, 8, 256], filter: [3, 3, 256, 512], stride: 2, pad: 'same' },
  { name: 'explicit padding, stride 2', x: [2, 9, 10, 5], filter: [3, 3, 5, 7], stride: 2, pad: [[0, 0], [1, 2], [2, 0], [0, 0]] },
  { name: 'valid stride 2 with unused last row/column', x: [2, 10, 11, 4], filter: [3, 3, 4, 6], stride: 2, pad: 'valid' },
  { name: 'valid 1×1 stride 2 on an odd size (rows and columns no tap reaches)', x: [2, 7, 7, 3], filter: [1, 1, 3, 4], stride: 2, pad: 'valid' },
  { name: 'stride 1, 64 channels, padding wider than the filter', x: [2, 6, 6, 64], filter: [3, 3, 64, 8], stride: 1, pad: [[0, 0], [3, 3], [3, 3], [0, 0]] },
];

function outputShape(c: ConvCase): number[] {
  return tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.stride, c.pad).shape);
}

for (const [i, c] of convCases.entries()) {
  test(`Conv2DBackpropFilter matches cpu — ${c.name}`, async () => {
    await initBackend('cpu');
    const values = { x: normal(c.x, 10 * i + 1), dy: normal(outputShape(c), 10 * i + 2) };
    await assertKernelMatchesCpu('Conv2DBackpropFilter', values, {
      strides: [c.stride, c.stride], pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter,
    });
  });

  test(`Conv2DBackpropInput matches cpu — ${c.name}`, async () => {
    await initBackend('cpu');
    const values = { dy: normal(outputShape(c), 10 * i + 3), filter: normal(c.filter, 10 * i + 4) };
    await assertKernelMatchesCpu('Conv2DBackpropInput', values, {
      strides: [c.stride, c.stride], pad: c.pad, dataFormat: 'NHWC', inputShape: c.x,
    });
  });
}

// Forward convolutions: Winograd F(2×2, 3×3) for 3×3 stride-1 layers with ≥ 16 channels, XNNPACK otherwise.
for (const [i, c] of convCases.entries()) {
  test(`Conv2D matches cpu — ${c.name}`, async () => {
    const values = { x: normal(c.x, 10 * i + 5), filter: normal(c.filter, 10 * i + 6) };
    // Strides and dilations as numbers, as tf.conv2d passes them.
    await assertKernelMatchesCpu('Conv2D', values, { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', dilations: 1 });
  });
}

const fusedCases: { name: string; x: Shape4; filter: Shape4; pad: 'valid' | 'same'; activation: 'relu' | 'linear' }[] = [
  { name: 'CNN conv2 inference: 3×3 valid 32→64 on 13×13 (odd output, cropped tiles), relu', x: [8, 13, 13, 32], filter: [3, 3, 32, 64], pad: 'valid', activation: 'relu' },
  { name: '3×3 same 16→20 on 9×10, linear', x: [3, 9, 10, 16], filter: [3, 3, 16, 20], pad: 'same', activation: 'linear' },
  { name: 'CNN conv1 inference: 1 input channel (XNNPACK), relu', x: [4, 28, 28, 1], filter: [3, 3, 1, 32], pad: 'valid', activation: 'relu' },
];

for (const [i, c] of fusedCases.entries()) {
  test(`FusedConv2D matches cpu — ${c.name}`, async () => {
    const values = { x: normal(c.x, 800 + i), filter: normal(c.filter, 810 + i), bias: normal([c.filter[3]], 820 + i) };
    await assertKernelMatchesCpu('FusedConv2D', values, {
      strides: [1, 1], pad: c.pad, dataFormat: 'NHWC', dilations: [1, 1], activation: c.activation,
    });
  });
}

const poolCases: { name: string; x: Shape4; size: number; stride?: number; pad: 'valid' | 'same' }[] = [
  { name: 'CNN pool1: 2×2 on 26×26×32', x: [8, 26, 26, 32], size: 2, pad: 'valid' },
  { name: 'CNN pool2: 2×2 on 11×11×64 (last row/column unused)', x: [8, 11, 11, 64], size: 2, pad: 'valid' },
  { name: "2×2 'same' on 7×7 (padded window)", x: [2, 7, 7, 3], size: 2, pad: 'same' },
  { name: '3×3 stride 3 on 9×8, 5 channels', x: [2, 9, 8, 5], size: 3, pad: 'valid' },
  { name: "3×3 stride 2 'same' (overlapping windows), 6 channels", x: [2, 9, 10, 6], size: 3, stride: 2, pad: 'same' },
];

for (const [i, c] of poolCases.entries()) {
  // Normal inputs include windows with no positive value and, after relu, tied zeros.
  for (const relu of [false, true]) {
    test(`MaxPoolGrad matches cpu — ${c.name}${relu ? ', after relu' : ''}`, async () => {
      await initBackend('cpu');
      const stride = c.stride ?? c.size;
      const y = tf.tidy(() => tf.maxPool(tf.zeros(c.x) as tf.Tensor4D, c.size, stride, c.pad).shape);
      const values = { input: normal(c.x, 100 + i), dy: normal(y, 200 + i) };
      const attrs = { filterSize: [c.size, c.size], strides: [stride, stride], pad: c.pad };
      await assertKernelMatchesCpu('MaxPoolGrad', values, attrs, (t) => {
        const input = relu ? tf.relu(t.input) : t.input;
        return { input, output: tf.maxPool(input as tf.Tensor4D, c.size, stride, c.pad) };
      });
    });
  }
}

const sumCases: { x: number[]; axis: number[]; keepDims: boolean }[] = [
  { x: [8, 26, 26, 32], axis: [0, 1, 2], keepDims: false }, // conv bias gradient
  { x: [200, 128], axis: [0], keepDims: false }, // dense bias gradient
  { x: [3, 5, 7], axis: [1, 0], keepDims: true }, // columns not a multiple of 4
  { x: [4, 5, 6], axis: [1], keepDims: false }, // not leading axes: built-in
];

for (const [i, c] of sumCases.entries()) {
  test(`Sum matches cpu — ${c.x} over axes ${c.axis}${c.keepDims ? ', keepDims' : ''}`, async () => {
    await assertKernelMatchesCpu('Sum', { x: normal(c.x, 600 + i) }, { axis: c.axis, keepDims: c.keepDims });
  });
}

test('Identity and same-dtype Cast share their input, which stays valid after the input is disposed', async () => {
  await initBackend('wasm');
  const x = tf.tensor(normal([4, 5], 700).data, [4, 5]);
  const expected = x.dataSync().slice();
  const copies = [tf.clone(x), tf.cast(x, 'float32')];
  x.dispose();
  for (const copy of copies) assert.deepEqual(copy.dataSync(), expected);
  tf.dispose(copies);
  const ints = tf.cast(tf.tensor1d([1.7, -2.2, 3.5]), 'int32');
  assert.deepEqual([...ints.dataSync()], [1, -2, 3]); // a real cast still converts
  ints.dispose();
});

const matMulCases: { a: number[]; b: number[]; transposeA: boolean; transposeB: boolean }[] = [
  { a: [200, 1600], b: [200, 128], transposeA: true, transposeB: false }, // dense dW = xᵀ·dy
  { a: [200, 128], b: [1600, 128], transposeA: false, transposeB: true }, // dense dx = dy·Wᵀ
  { a: [1, 30, 20], b: [1, 40, 30], transposeA: true, transposeB: true },
  { a: [3, 20, 10], b: [3, 20, 7], transposeA: true, transposeB: false }, // batched: built-in
];

for (const [i, c] of matMulCases.entries()) {
  test(`BatchMatMul matches cpu — a ${c.a}${c.transposeA ? 'ᵀ' : ''} · b ${c.b}${c.transposeB ? 'ᵀ' : ''}`, async () => {
    const values = { a: normal(c.a, 300 + i), b: normal(c.b, 400 + i) };
    await assertKernelMatchesCpu('BatchMatMul', values, { transposeA: c.transposeA, transposeB: c.transposeB });
  });
}

const tileCases: { x: number[]; reps: number[] }[] = [
  { x: [1, 1, 1, 64], reps: [4, 16, 16, 1] }, // batchnorm's gradient: per-channel vector to NHWC
  { x: [2, 3], reps: [3, 2] },
  { x: [3, 1, 4], reps: [1, 5, 2] },
  { x: [2, 3, 2, 3, 2], reps: [2, 1, 2, 1, 2] }, // too many axes after merging: built-in
];

for (const [i, c] of tileCases.entries()) {
  test(`Tile matches cpu — ${c.x} × ${c.reps}`, async () => {
    await assertKernelMatchesCpu('Tile', { x: normal(c.x, 500 + i) }, { reps: c.reps });
  });
}

// Whole models: every gradient kernel their training needs must exist on wasm and agree with cpu.

function convBnRelu(x: tfl.SymbolicTensor, filters: number, kernelSize: number, strides: number): tfl.SymbolicTensor {
  const conv = tfl.layers.conv2d({ filters, kernelSize, strides, padding: 'same', useBias: false });
  const bn = tfl.layers.batchNormalization().apply(conv.apply(x)) as tfl.SymbolicTensor;
  return tfl.layers.reLU().apply(bn) as tfl.SymbolicTensor;
}

const models: Record<string, { input: number[]; build: () => tfl.LayersModel }> = {
  'MLP (dense, relu, dropout)': {
    input: [6, 8, 8, 1],
    build: () => tfl.sequential({
      layers: [
        tfl.layers.flatten({ inputShape: [8, 8, 1] }),
        tfl.layers.dense({ units: 32, activation: 'relu' }),
        tfl.layers.dropout({ rate: 0.3, seed: 5 }),
        tfl.layers.dense({ units: 10 }),
      ],
    }),
  },
  'CNN (conv, relu, maxpool, dense, dropout)': {
    input: [6, 14, 14, 1],
    build: () => tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [14, 14, 1], filters: 8, kernelSize: 3, activation: 'relu' }),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu' }),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 16, activation: 'relu' }),
        tfl.layers.dropout({ rate: 0.3, seed: 5 }),
        tfl.layers.dense({ units: 10 }),
      ],
    }),
  },
  'ResNet block (conv, batchnorm, add, relu, stride-2 shortcut, avgpool, global pool)': {
    input: [4, 16, 16, 3],
    build: () => {
      const input = tfl.input({ shape: [16, 16, 3] });
      const stem = convBnRelu(input, 8, 3, 1);
      const branch = tfl.layers.batchNormalization().apply(
        tfl.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', useBias: false })
          .apply(convBnRelu(stem, 16, 3, 2))) as tfl.SymbolicTensor;
      const shortcut = tfl.layers.batchNormalization().apply(
        tfl.layers.conv2d({ filters: 16, kernelSize: 1, strides: 2, padding: 'same', useBias: false }).apply(stem)) as tfl.SymbolicTensor;
      const sum = tfl.layers.reLU().apply(tfl.layers.add().apply([branch, shortcut])) as tfl.SymbolicTensor;
      const pooled = tfl.layers.averagePooling2d({ poolSize: 2 }).apply(sum) as tfl.SymbolicTensor;
      const features = tfl.layers.globalAveragePooling2d({}).apply(pooled) as tfl.SymbolicTensor;
      const logits = tfl.layers.dense({ units: 10 }).apply(features) as tfl.SymbolicTensor;
      return tfl.model({ inputs: input, outputs: logits });
    },
  },
};

for (const [name, spec] of Object.entries(models)) {
  test(`gradients of a small ${name} on wasm match cpu`, async () => {
    // Same weights on both backends: drawn once here, then set on each backend's model.
    await initBackend('cpu');
    const shapes = spec.build().getWeights().map((w) => w.shape);
    const values: Values = { x: normal(spec.input, 7) };
    shapes.forEach((shape, i) => (values[`w${i}`] = normal(shape, 1000 + i)));
    const labels = Array.from({ length: spec.input[0] }, (_, i) => (3 * i) % 10);

    const [cpu, wasm] = await onBothBackends(values, (t) => {
      const model = spec.build();
      model.setWeights(shapes.map((_, i) => tf.mul(t[`w${i}`], 0.3)));
      const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(
        oneHot, model.apply(t.x, { training: true }) as tf.Tensor) as tf.Scalar, variables);
      return [value, ...variables.map((v) => grads[v.name])];
    });
    assert.equal(cpu.length, wasm.length);
    for (let i = 0; i < cpu.length; i++) {
      const err = relativeError(wasm[i], cpu[i]);
      assert.ok(err < TOLERANCE, `${i === 0 ? 'loss' : `gradient ${i - 1}`}: relative error ${err}`);
    }
  });
}
