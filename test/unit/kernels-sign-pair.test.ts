/**
 * SignPairConvPool (src/core/backend/kernels/sign_pair_conv_pool.ts), the wasm kernel behind SPSA's
 * forward passes on models that start with a one-channel convolution and max pooling: equal to
 * maxPool(act(centre ± δ·conv(v))) computed by the cpu backend's own kernels on random inputs with
 * fixed seeds (the CNN's 3×3 filter and 2×2/2 pooling, a 2×3 filter with overlapping 3×3/2 pooling
 * over odd sizes, relu and none), on 2 threads bit-identical to 1; and signPairLogits (SPSA's z at
 * x ± δ·v) equal to the model run on the points themselves, through the kernel where it applies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../../src/core/tf';
import { initBackend } from '../../src/core/backend';
import { setWasmThreads } from '../../src/core/backend/threadCount';
import { SignPairConvPool, SignPairConvPoolAttrs } from '../../src/core/backend/kernels/sign_pair_conv_pool';
import { parallelStats } from '../../src/core/backend/kernels/simd/parallel';
import { logitsOf } from '../../src/core/attacks/common';
import { signPairLogits } from '../../src/core/attacks/signPairs';
import { Random } from '../../src/core/random';
import { relativeError } from '../helpers/relativeError';

interface Case {
  name: string;
  /** The inputs [A, H, W, 1] and the number of sign directions per sample. */
  input: [number, number, number, number];
  pairs: number;
  filter: [number, number, number, number];
  attrs: SignPairConvPoolAttrs;
}

const CASES: Case[] = [
  { name: "the CNN's first block: 3×3, 32 filters, relu, 2×2/2", input: [20, 28, 28, 1], pairs: 3, filter: [3, 3, 1, 32],
    attrs: { delta: 0.01, poolSize: [2, 2], poolStrides: [2, 2], relu: true } },
  { name: '2×3 filter, no activation, overlapping 3×3/2 pooling, odd sizes', input: [3, 14, 13, 1], pairs: 2, filter: [2, 3, 1, 8],
    attrs: { delta: 0.25, poolSize: [3, 3], poolStrides: [2, 2], relu: false } },
];

function normal(count: number, random: Random): Float32Array {
  return Float32Array.from({ length: count }, () => random.normal());
}

/** maxPool(act(centre ± δ·conv(v))) on the current backend, rows as SPSA stacks them. */
function reference(centre: tf.Tensor4D, signs: tf.Tensor4D, filter: tf.Tensor4D, c: Case): tf.Tensor {
  const [samples, ...convShape] = centre.shape;
  const steps = tf.reshape(tf.mul(tf.conv2d(signs, filter, 1, 'valid'), c.attrs.delta), [c.pairs, 1, samples, ...convShape]);
  const points = tf.concat([tf.add(centre, steps), tf.sub(centre, steps)], 1);
  const activated = tf.reshape(c.attrs.relu ? tf.relu(points) : points, [2 * c.pairs * samples, ...convShape]) as tf.Tensor4D;
  return tf.maxPool(activated, c.attrs.poolSize, c.attrs.poolStrides, 'valid');
}

for (const c of CASES) {
  test(`SignPairConvPool = the cpu backend's convolution, activation and max pooling at x ± δ·v (${c.name}), on 1 and 2 threads`, async () => {
    const random = new Random(c.filter[1] * 13 + c.filter[3]);
    const [samples, height, width] = c.input;
    const convShape = [samples, height - c.filter[0] + 1, width - c.filter[1] + 1, c.filter[3]];
    const data = {
      centre: normal(convShape.reduce((a, b) => a * b), random),
      signs: random.signs(new Float32Array(c.pairs * samples * height * width)),
      filter: normal(c.filter.reduce((a, b) => a * b), random),
    };
    const run = () => tf.tidy(() => {
      const centre = tf.tensor4d(data.centre, convShape as [number, number, number, number]);
      const signs = tf.tensor4d(data.signs, [c.pairs * samples, height, width, 1]);
      const filter = tf.tensor4d(data.filter, c.filter);
      if (tf.getBackend() === 'cpu') return reference(centre, signs, filter, c).dataSync() as Float32Array;
      const out = tf.engine().runKernel(SignPairConvPool, { centre, signs, filter }, c.attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
      return out.dataSync() as Float32Array;
    });
    await initBackend('cpu');
    const expected = run();
    setWasmThreads(1);
    await initBackend('wasm');
    const one = run();
    const err = relativeError(one, expected);
    assert.ok(err < 1e-5, `relative error ${err} against the cpu backend`);
    assert.ok(!c.attrs.relu || one.some((v) => v === 0), 'relu clips some windows');
    setWasmThreads(2);
    await initBackend('wasm');
    const before = parallelStats.calls;
    const two = run();
    assert.ok(parallelStats.calls > before || c.pairs * samples * height * width < 65536, 'large enough calls are cut across threads');
    assert.ok(two.every((v, i) => Object.is(v, one[i])), '2 threads give what 1 thread gives, bit for bit');
    setWasmThreads(undefined);
  });
}

const init = (seed: number) => ({
  kernelInitializer: tfl.initializers.glorotUniform({ seed }),
  biasInitializer: tfl.initializers.randomNormal({ seed: seed + 100 }),
});

/** The reference CNN's shape at a smaller size; `padding` 'same' makes its first layer ineligible for the kernel. */
function cnn(padding: 'valid' | 'same'): tfl.Sequential {
  const model = tfl.sequential();
  model.add(tfl.layers.conv2d({ inputShape: [12, 12, 1], filters: 8, kernelSize: 3, padding, activation: 'relu', ...init(1) }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', ...init(2) }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: 16, activation: 'relu', ...init(3) }));
  model.add(tfl.layers.dropout({ rate: 0.2 }));
  model.add(tfl.layers.dense({ units: 10, ...init(4) }));
  return model;
}

test('signPairLogits: z at x ± δ·v equals the model on the points (through SignPairConvPool where the first layers allow it)', async () => {
  await initBackend('wasm');
  const random = new Random(5);
  const [count, pairs, delta] = [7, 3, 0.01];
  const images = Float32Array.from({ length: count * 144 }, () => random.next());
  const directions = random.signs(new Float32Array(pairs * count * 144));
  for (const [padding, kernelRuns] of [['valid', true], ['same', false]] as const) {
    const model = cnn(padding);
    const base = tf.tensor4d(images, [count, 12, 12, 1]);
    const onPoints = tf.tidy(() => {
      const points = Array.from({ length: 2 * pairs * count }, (_, row) => {
        const [k, sign, b] = [Math.floor(row / (2 * count)), Math.floor(row / count) % 2 === 0 ? 1 : -1, row % count];
        return images.subarray(b * 144, (b + 1) * 144).map((v, p) => v + sign * delta * directions[(k * count + b) * 144 + p]);
      });
      return logitsOf(model, tf.tensor4d(points.flatMap((p) => [...p]), [2 * pairs * count, 12, 12, 1])).dataSync() as Float32Array;
    });
    const profile = await tf.profile(() => tf.tidy(() => signPairLogits(model, base, directions, pairs, delta).dataSync()));
    const z = profile.result as unknown as Float32Array;
    assert.equal(profile.kernelNames.includes(SignPairConvPool), kernelRuns, `${padding}: the kernel runs only where it applies`);
    const err = relativeError(z, onPoints);
    assert.ok(err < 1e-5, `${padding}: relative error ${err} against the model on the points`);
    base.dispose();
    model.dispose();
  }
});
