// The wasm kernels DepthwiseConv2dNativeBackpropInput and DepthwiseConv2dNativeBackpropFilter
// (src/core/backend/kernels/depthwise_conv2d_backprop_*.ts) against the cpu backend's, and the input
// gradient of a small depthwise model on wasm against cpu.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../src/core/tf';
import { initBackend } from '../../src/core/backend';
import { Random } from '../../src/core/random';
import { relativeError } from '../helpers/relativeError';

type Shape4 = [number, number, number, number];
type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
interface Case {
  x: Shape4;
  filter: Shape4;
  strides: [number, number];
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const TOLERANCE = 1e-5;

function normal(shape: number[], seed: number): Float32Array {
  const rng = new Random(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return data;
}

function dyShape(c: Case, dilations: [number, number] = [1, 1]): Shape4 {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, dilations, c.pad, c.dimRoundingMode, true);
  return info.outShape;
}

/** Runs one kernel on `backend` on tensors made from `inputs`; returns its output. */
async function runKernel(backend: 'cpu' | 'wasm', kernel: string, inputs: Record<string, [Float32Array, number[]]>,
  attrs: tf.NamedAttrMap): Promise<Float32Array> {
  await initBackend(backend);
  const tensors = Object.fromEntries(Object.entries(inputs).map(([k, [data, shape]]) => [k, tf.tensor(data, shape)]));
  const out = tf.engine().runKernel(kernel, tensors, attrs) as tf.Tensor;
  const values = (await out.data()) as Float32Array;
  tf.dispose([out, ...Object.values(tensors)]);
  return values;
}

const cases: Case[] = [
  { x: [2, 7, 7, 3], filter: [3, 3, 3, 1], strides: [1, 1], pad: 'same' },
  { x: [1, 9, 8, 4], filter: [3, 2, 4, 2], strides: [2, 2], pad: 'valid' },
  { x: [2, 8, 8, 2], filter: [3, 3, 2, 3], strides: [2, 2], pad: 'same' },
  { x: [1, 6, 7, 3], filter: [2, 3, 3, 2], strides: [2, 1], pad: [[0, 0], [1, 0], [2, 1], [0, 0]] },
  { x: [3, 10, 9, 2], filter: [5, 5, 2, 1], strides: [3, 2], pad: 1, dimRoundingMode: 'floor' },
  { x: [1, 5, 5, 8], filter: [1, 1, 8, 2], strides: [1, 1], pad: 'valid' },
];

test('DepthwiseConv2dNativeBackpropInput on wasm equals cpu (strides, same/valid/explicit/numeric pads, multipliers)', async () => {
  for (const [n, c] of cases.entries()) {
    const inputs = { dy: [normal(dyShape(c), 10 + n), dyShape(c)], filter: [normal(c.filter, 20 + n), c.filter] } as Record<string, [Float32Array, number[]]>;
    const attrs = { strides: c.strides, dilations: [1, 1], pad: c.pad, dimRoundingMode: c.dimRoundingMode, inputShape: c.x } as unknown as tf.NamedAttrMap;
    const cpu = await runKernel('cpu', tf.DepthwiseConv2dNativeBackpropInput, inputs, attrs);
    const wasm = await runKernel('wasm', tf.DepthwiseConv2dNativeBackpropInput, inputs, attrs);
    const err = relativeError(wasm, cpu);
    assert.ok(err < TOLERANCE, `case ${n} ${JSON.stringify(c)}: relative error ${err}`);
  }
});

test('DepthwiseConv2dNativeBackpropFilter on wasm equals cpu (strides, same/valid/explicit/numeric pads, multipliers)', async () => {
  for (const [n, c] of cases.entries()) {
    const inputs = { x: [normal(c.x, 30 + n), c.x], dy: [normal(dyShape(c), 40 + n), dyShape(c)] } as Record<string, [Float32Array, number[]]>;
    const attrs = {
      strides: c.strides, dilations: [1, 1], pad: c.pad, dimRoundingMode: c.dimRoundingMode, filterShape: c.filter,
    } as unknown as tf.NamedAttrMap;
    const cpu = await runKernel('cpu', tf.DepthwiseConv2dNativeBackpropFilter, inputs, attrs);
    const wasm = await runKernel('wasm', tf.DepthwiseConv2dNativeBackpropFilter, inputs, attrs);
    const err = relativeError(wasm, cpu);
    assert.ok(err < TOLERANCE, `case ${n} ${JSON.stringify(c)}: relative error ${err}`);
  }
});

/** The filter a dilation spreads out: taps (fR·dH, fC·dW) of a zero filter of the effective size. */
function dilatedFilter(filter: Float32Array, shape: Shape4, [dH, dW]: [number, number]): [Float32Array, Shape4] {
  const [h, w, c, m] = shape;
  const spread: Shape4 = [(h - 1) * dH + 1, (w - 1) * dW + 1, c, m];
  const out = new Float32Array(spread.reduce((a, b) => a * b, 1));
  for (let r = 0; r < h; r++) {
    for (let s = 0; s < w; s++) out.set(filter.subarray((r * w + s) * c * m, (r * w + s + 1) * c * m), (r * dH * spread[1] + s * dW) * c * m);
  }
  return [out, spread];
}

// The cpu kernels ignore dilations, so the reference is the cpu kernel on the spread-out filter.
const dilated: [Case, [number, number]][] = [
  [{ x: [2, 9, 9, 3], filter: [3, 3, 3, 2], strides: [1, 1], pad: 'same' }, [2, 2]],
  [{ x: [1, 10, 8, 2], filter: [3, 2, 2, 1], strides: [1, 1], pad: 'valid' }, [2, 3]],
  [{ x: [1, 7, 7, 2], filter: [2, 3, 2, 3], strides: [1, 1], pad: [[0, 0], [2, 1], [1, 2], [0, 0]] }, [3, 1]],
];

test('dilated depthwise gradients on wasm equal cpu on the spread-out filter (input and filter)', async () => {
  for (const [n, [c, dilations]] of dilated.entries()) {
    const filter = normal(c.filter, 50 + n);
    const [spread, spreadShape] = dilatedFilter(filter, c.filter, dilations);
    const spreadCase = { ...c, filter: spreadShape };
    const dyDims = dyShape(c, dilations);
    assert.deepEqual(dyShape(spreadCase), dyDims);
    const dy = normal(dyDims, 60 + n);
    const x = normal(c.x, 70 + n);
    const base = { strides: c.strides, pad: c.pad };
    const dxCpu = await runKernel('cpu', tf.DepthwiseConv2dNativeBackpropInput, { dy: [dy, dyDims], filter: [spread, spreadShape] },
      { ...base, dilations: [1, 1], inputShape: c.x } as unknown as tf.NamedAttrMap);
    const dxWasm = await runKernel('wasm', tf.DepthwiseConv2dNativeBackpropInput, { dy: [dy, dyDims], filter: [filter, c.filter] },
      { ...base, dilations, inputShape: c.x } as unknown as tf.NamedAttrMap);
    assert.ok(relativeError(dxWasm, dxCpu) < TOLERANCE, `dx, dilated case ${n}: ${relativeError(dxWasm, dxCpu)}`);
    const dwSpread = await runKernel('cpu', tf.DepthwiseConv2dNativeBackpropFilter, { x: [x, c.x], dy: [dy, dyDims] },
      { ...base, dilations: [1, 1], filterShape: spreadShape } as unknown as tf.NamedAttrMap);
    const dwWasm = await runKernel('wasm', tf.DepthwiseConv2dNativeBackpropFilter, { x: [x, c.x], dy: [dy, dyDims] },
      { ...base, dilations, filterShape: c.filter } as unknown as tf.NamedAttrMap);
    // The taps the dilation uses, read back out of the spread-out filter's gradient.
    const [h, w, ch, m] = c.filter;
    const dwCpu = new Float32Array(dwWasm.length);
    for (let r = 0; r < h; r++) {
      for (let s = 0; s < w; s++) {
        const from = (r * dilations[0] * spreadShape[1] + s * dilations[1]) * ch * m;
        dwCpu.set(dwSpread.subarray(from, from + ch * m), (r * w + s) * ch * m);
      }
    }
    assert.ok(relativeError(dwWasm, dwCpu) < TOLERANCE, `dW, dilated case ${n}: ${relativeError(dwWasm, dwCpu)}`);
  }
});

test('tf.grad of a small depthwise model w.r.t. its input (and its filter) on wasm equals cpu', async () => {
  const xShape: Shape4 = [2, 12, 12, 3];
  const values = { x: normal(xShape, 80), depthwise: normal([3, 3, 3, 2], 81), pointwise: normal([1, 1, 6, 4], 82), head: normal([4], 83) };
  const results: Record<string, Float32Array[]> = {};
  for (const backend of ['cpu', 'wasm'] as const) {
    await initBackend(backend);
    const x = tf.tensor4d(values.x, xShape);
    const depthwise = tf.tensor4d(values.depthwise, [3, 3, 3, 2]);
    const pointwise = tf.tensor4d(values.pointwise, [1, 1, 6, 4]);
    const head = tf.tensor1d(values.head);
    // MobileNet-style block: depthwise (stride 2, same), relu, pointwise, another depthwise (valid).
    const model = (input: tf.Tensor4D, filter: tf.Tensor4D) => {
      const a = tf.relu(tf.depthwiseConv2d(input, filter, 2, 'same'));
      const b = tf.conv2d(a, pointwise, 1, 'valid');
      const c = tf.depthwiseConv2d(b, tf.ones([2, 2, 4, 1]) as tf.Tensor4D, 1, 'valid');
      return tf.sum(tf.mul(tf.tanh(c), head));
    };
    const [dx, dFilter] = tf.grads((input: tf.Tensor, filter: tf.Tensor) => model(input as tf.Tensor4D, filter as tf.Tensor4D))([x, depthwise]);
    results[backend] = [(await dx.data()) as Float32Array, (await dFilter.data()) as Float32Array];
    tf.dispose([x, depthwise, pointwise, head, dx, dFilter]);
  }
  // Whole-model sums in different orders (XNNPACK vs cpu forward passes): float32 rounding adds up.
  const modelTolerance = 1e-4;
  assert.ok(relativeError(results.wasm[0], results.cpu[0]) < modelTolerance, `dx: ${relativeError(results.wasm[0], results.cpu[0])}`);
  assert.ok(relativeError(results.wasm[1], results.cpu[1]) < modelTolerance, `dFilter: ${relativeError(results.wasm[1], results.cpu[1])}`);
});
