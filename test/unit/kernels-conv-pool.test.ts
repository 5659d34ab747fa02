/**
 * ConvPoolBackprop (src/core/backend/kernels/conv_pool_backprop.ts), the wasm kernel behind the
 * attacks' K-fold backward through convolution → relu or none → max pooling: equal to TensorFlow's
 * own gradient of that block on the cpu backend (tf.grad over K copies of the batch) on random
 * inputs with fixed seeds: windows that tile or overlap, 'same' padding, strides, 1, 3 and 8 input
 * channels (scalar and SIMD lanes), filters not a multiple of 4, exact ties within windows (the
 * first maximum takes the gradient), and on 2 threads bit-identical to 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../src/core/tf';
import { initBackend } from '../../src/core/backend';
import { setWasmThreads } from '../../src/core/backend/threadCount';
import { ConvPoolBackprop, ConvPoolBackpropAttrs } from '../../src/core/backend/kernels/conv_pool_backprop';
import { parallelStats } from '../../src/core/backend/kernels/simd/parallel';
import { Random } from '../../src/core/random';
import { relativeError } from '../helpers/relativeError';

interface Case {
  name: string;
  /** x [A, h, w, C]; blocky: constant 2×2 blocks of 0 and 1 (ties in the pooling windows, as in MNIST). */
  x: [number, number, number, number];
  blocky?: boolean;
  filter: [number, number, number, number];
  copies: number;
  attrs: Omit<ConvPoolBackpropAttrs, 'inputShape'>;
}

const CASES: Case[] = [
  { name: "the CNN's first block: 1 channel, 2×2/2", x: [60, 28, 28, 1], blocky: true, filter: [3, 3, 1, 32], copies: 3,
    attrs: { convStrides: [1, 1], convPad: 'valid', poolSize: [2, 2], poolStrides: [2, 2], poolPad: 'valid', relu: true } },
  { name: '8 channels, 6 filters, strided same convolution, overlapping same pooling', x: [3, 11, 11, 8], filter: [3, 3, 8, 6], copies: 2,
    attrs: { convStrides: [2, 2], convPad: 'same', poolSize: [3, 3], poolStrides: [1, 1], poolPad: 'same', relu: true } },
  { name: 'colour, no activation, 2×3 filter, odd sizes', x: [2, 13, 12, 3], filter: [2, 3, 3, 5], copies: 4,
    attrs: { convStrides: [1, 2], convPad: 'valid', poolSize: [2, 2], poolStrides: [2, 2], poolPad: 'valid', relu: false } },
];

function values(shape: number[], random: Random, blocky = false): Float32Array {
  const [, h, w, c] = shape;
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const blocks = new Map<number, number>();
  for (let i = 0; i < data.length; i++) {
    if (!blocky) {
      data[i] = random.normal();
      continue;
    }
    const [n, row, col, ch] = [Math.floor(i / (h * w * c)), Math.floor(i / (w * c)) % h, Math.floor(i / c) % w, i % c];
    const block = ((n * h + (row >> 1)) * w + (col >> 1)) * c + ch;
    if (!blocks.has(block)) blocks.set(block, random.next() < 0.3 ? 1 : 0);
    data[i] = blocks.get(block)!;
  }
  return data;
}

/** The block's forward on A rows: y = act(conv(x)). */
function convOutput(x: tf.Tensor4D, filter: tf.Tensor4D, attrs: Case['attrs']): tf.Tensor4D {
  const z = tf.conv2d(x, filter, attrs.convStrides, attrs.convPad);
  return attrs.relu ? tf.relu(z) : z;
}

/** TensorFlow's gradient of Σ dy·maxPool(act(conv(x_k))) over the K copies of x, on the current backend. */
function tapeGradient(x: tf.Tensor4D, filter: tf.Tensor4D, dy: tf.Tensor4D, c: Case): tf.Tensor {
  const tiled = tf.concat(Array.from({ length: c.copies }, () => x)) as tf.Tensor4D;
  const { poolSize, poolStrides, poolPad } = c.attrs;
  const pooled = (input: tf.Tensor) => tf.maxPool(convOutput(input as tf.Tensor4D, filter, c.attrs), poolSize, poolStrides, poolPad);
  return tf.grad((input: tf.Tensor) => tf.sum(tf.mul(dy, pooled(input))))(tiled);
}

type Data = { x: Float32Array; filter: Float32Array; dy: Float32Array; y: Float32Array };

async function onWasm(threads: number, c: Case, data: Data, yShape: number[], dyShape: number[]) {
  setWasmThreads(threads);
  await initBackend('wasm');
  const before = parallelStats.calls;
  const dx = tf.tidy(() => {
    const attrs: ConvPoolBackpropAttrs = { ...c.attrs, inputShape: [c.copies * c.x[0], c.x[1], c.x[2], c.x[3]] };
    const inputs = { dy: tf.tensor(data.dy, dyShape), y: tf.tensor(data.y, yShape), filter: tf.tensor(data.filter, c.filter) };
    return (tf.engine().runKernel(ConvPoolBackprop, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync() as Float32Array;
  });
  return { dx, cut: parallelStats.calls > before };
}

for (const c of CASES) {
  test(`ConvPoolBackprop = TensorFlow's gradient of convolution, activation and max pooling (${c.name}), on 1 and 2 threads`, async () => {
    const random = new Random(c.x[1] * 7 + c.filter[3]);
    await initBackend('cpu');
    // y is computed once, on cpu, and given to both: the routes then come from the same values.
    const [x, filter] = [tf.tensor4d(values(c.x, random, c.blocky), c.x), tf.tensor4d(values(c.filter, random), c.filter)];
    const y = convOutput(x, filter, c.attrs);
    const pooled = tf.maxPool(y, c.attrs.poolSize, c.attrs.poolStrides, c.attrs.poolPad);
    const dyShape = [c.copies * c.x[0], ...pooled.shape.slice(1)];
    const dy = tf.tensor4d(values(dyShape, random), dyShape as [number, number, number, number]);
    const reference = tapeGradient(x, filter, dy, c).dataSync() as Float32Array;
    const [xs, filters, dys, ys] = [x, filter, dy, y].map((t) => t.dataSync() as Float32Array);
    const data: Data = { x: xs, filter: filters, dy: dys, y: ys };
    if (c.blocky) assert.ok(data.y.some((v, i) => v > 0 && v === data.y[i + y.shape[3]]), 'the blocky input gives ties');
    tf.dispose([x, filter, y, pooled, dy]);

    const one = await onWasm(1, c, data, [...c.x.slice(0, 1), ...y.shape.slice(1)], dyShape);
    const err = relativeError(one.dx, reference);
    assert.ok(err < 1e-5, `relative error ${err} against the cpu backend's gradient`);
    assert.ok(one.dx.some((v) => v !== 0), 'some gradient reaches the input');
    const two = await onWasm(2, c, data, [...c.x.slice(0, 1), ...y.shape.slice(1)], dyShape);
    assert.ok(two.cut || c.x[0] * c.copies * c.x[1] * c.x[2] * c.x[3] < 2 * 65536, 'large enough calls are cut across threads');
    assert.ok(two.dx.every((v, i) => Object.is(v, one.dx[i])), '2 threads give what 1 thread gives, bit for bit');
    setWasmThreads(undefined);
  });
}
