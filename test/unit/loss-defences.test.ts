// JR, IGR and CLR against a float64 computation on a small ReLU network (penalty values and, by
// finite differences, their gradients with respect to the weights: the second-order part), the
// MaxPoolGrad gradient by its adjoint identity, second-order gradients on wasm against cpu through
// the bundled CNN and MLP, and the one-line refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '../../src/core/tf';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/core/backend';
import { createModel } from '../../src/core/models';
import { Random } from '../../src/core/random';
import { DefenceConfig, Forward, crossLipschitzPenalty, inputGradientPenalty, jacobianProjectionPenalty } from '../../src/core/loss/defences';
import { ConfigError, trainConfigFrom, validateTrainConfig } from '../../src/core/train/config';
import { secondOrderProblem } from '../../src/core/loss/secondOrder';

const BATCH = 4;
const INPUT = [2, 2, 1];
const IN = 4;
const HIDDEN = 5;
const CLASSES = 3;

function normals(n: number, rng: Random, scale = 1): number[] {
  return Array.from({ length: n }, () => rng.normal() * scale);
}

interface Weights { w1: number[]; b1: number[]; w2: number[]; b2: number[] }

/** Per sample: z and the input gradients ∇z_l (D rows of IN), in float64. */
function reference(w: Weights, x: number[]): { z: number[][]; grads: number[][][] } {
  const z: number[][] = [];
  const grads: number[][][] = [];
  for (let b = 0; b < BATCH; b++) {
    const xb = x.slice(b * IN, (b + 1) * IN);
    const h = Array.from({ length: HIDDEN }, (_, j) => w.b1[j] + xb.reduce((s, xi, i) => s + xi * w.w1[i * HIDDEN + j], 0));
    const a = h.map((v) => Math.max(v, 0));
    z.push(Array.from({ length: CLASSES }, (_, l) => w.b2[l] + a.reduce((s, aj, j) => s + aj * w.w2[j * CLASSES + l], 0)));
    const gradient = (l: number, i: number) => h.reduce((s, hj, j) => s + (hj > 0 ? w.w1[i * HIDDEN + j] * w.w2[j * CLASSES + l] : 0), 0);
    grads.push(Array.from({ length: CLASSES }, (_, l) => Array.from({ length: IN }, (_, i) => gradient(l, i))));
  }
  return { z, grads };
}

const sq = (v: number[]) => v.reduce((s, e) => s + e * e, 0);

function referencePenalty(kind: 'jr' | 'igr' | 'clr', w: Weights, x: number[], labels: Int32Array, directions: number[]): number {
  const { z, grads } = reference(w, x);
  let total = 0;
  for (let b = 0; b < BATCH; b++) {
    const g = grads[b];
    if (kind === 'jr') {
      const vJ = Array.from({ length: IN }, (_, i) => g.reduce((s, row, l) => s + directions[b * CLASSES + l] * row[i], 0));
      total += 0.5 * CLASSES * sq(vJ);
    } else if (kind === 'igr') {
      const max = Math.max(...z[b]);
      const e = z[b].map((v) => Math.exp(v - max));
      const p = e.map((v) => v / e.reduce((s, u) => s + u, 0));
      total += sq(Array.from({ length: IN }, (_, i) => g.reduce((s, row, l) => s + (p[l] - (l === labels[b] ? 1 : 0)) * row[i], 0)));
    } else {
      // Σ over ordered pairs, directly (the implementation uses the identity).
      for (let l = 0; l < CLASSES; l++) for (let m = 0; m < CLASSES; m++) total += sq(g[l].map((v, i) => v - g[m][i])) / (CLASSES * CLASSES);
    }
  }
  return total / BATCH;
}

function smallModel(): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(tfl.layers.flatten({ inputShape: INPUT }));
  model.add(tfl.layers.dense({ units: HIDDEN, activation: 'relu' }));
  model.add(tfl.layers.dense({ units: CLASSES }));
  return model;
}

function penaltyOf(
  kind: 'jr' | 'igr' | 'clr',
  forward: Forward,
  x: tf.Tensor4D,
  labels: Int32Array,
  directions: tf.Tensor2D,
): { z: tf.Tensor2D; penalty: tf.Scalar } {
  if (kind === 'jr') return jacobianProjectionPenalty(forward, x, directions);
  if (kind === 'igr') return inputGradientPenalty(forward, x, labels);
  return crossLipschitzPenalty(forward, x, CLASSES);
}

for (const kind of ['jr', 'igr', 'clr'] as const) for (const backend of ['cpu', 'wasm'] as const) {
  test(`${kind} on ${backend}: the penalty and its weight gradient (double backpropagation) match float64 and finite differences`, async () => {
    await initBackend(backend);
    const rng = new Random(11);
    const weights: Weights = { w1: normals(IN * HIDDEN, rng), b1: normals(HIDDEN, rng, 0.5), w2: normals(HIDDEN * CLASSES, rng), b2: normals(CLASSES, rng) };
    const x = normals(BATCH * IN, rng);
    const labels = Int32Array.from({ length: BATCH }, (_, i) => i % CLASSES);
    const raw = normals(BATCH * CLASSES, rng);
    const directions = raw.map((v, i) => v / Math.sqrt(sq(raw.slice(i - (i % CLASSES), i - (i % CLASSES) + CLASSES))));

    const model = smallModel();
    model.setWeights([tf.tensor2d(weights.w1, [IN, HIDDEN]), tf.tensor1d(weights.b1), tf.tensor2d(weights.w2, [HIDDEN, CLASSES]), tf.tensor1d(weights.b2)]);
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const xt = tf.tensor4d(x, [BATCH, ...INPUT] as [number, number, number, number]);
    const forward: Forward = (input) => model.apply(input) as tf.Tensor2D;
    let zOut: tf.Tensor2D | null = null;
    const { value, grads } = tf.variableGrads(() => {
      const { z, penalty } = penaltyOf(kind, forward, xt, labels, tf.tensor2d(directions, [BATCH, CLASSES]));
      zOut = z;
      return penalty;
    }, variables);

    const expected = referencePenalty(kind, weights, x, labels, directions);
    assert.ok(Math.abs(value.dataSync()[0] - expected) <= 1e-4 * Math.abs(expected), `${kind}: ${value.dataSync()[0]} vs float64 ${expected}`);
    const zRef = reference(weights, x).z.flat();
    const zGot = zOut!.dataSync();
    zRef.forEach((v, i) => assert.ok(Math.abs(zGot[i] - v) < 1e-4 * (1 + Math.abs(v)), 'z is the forward pass'));

    // Central differences of the float64 penalty with respect to every weight.
    const names = ['w1', 'b1', 'w2', 'b2'] as const;
    const h = 1e-6;
    names.forEach((name, k) => {
      // A weight no input gradient depends on (the last bias) gets no gradient at all: zero.
      const got = grads[variables[k].name]?.dataSync() ?? new Float32Array(weights[name].length);
      weights[name].forEach((_, i) => {
        const shifted = (delta: number) => ({ ...weights, [name]: weights[name].map((v, j) => (j === i ? v + delta : v)) });
        const fd = (referencePenalty(kind, shifted(h), x, labels, directions) - referencePenalty(kind, shifted(-h), x, labels, directions)) / (2 * h);
        assert.ok(Math.abs(got[i] - fd) <= 1e-3 * (1 + Math.abs(fd)), `${kind} ∂/∂${name}[${i}]: ${got[i]} vs finite difference ${fd}`);
      });
    });
    tf.dispose([value, ...Object.values(grads), xt, zOut!]);
    model.dispose();
  });
}

test('the gradient of MaxPoolGrad is its adjoint: ⟨M·w, dy⟩ = ⟨w, Mᵀ·dy⟩ (valid and same padding, ties), on cpu and wasm', async () => {
  const rng = new Random(5);
  for (const backend of ['cpu', 'wasm'] as const) {
    await initBackend(backend);
    for (const { shape, pad } of [{ shape: [2, 11, 11, 3], pad: 'valid' }, { shape: [2, 7, 9, 2], pad: 'same' }] as { shape: [number, number, number, number]; pad: 'valid' | 'same' }[]) {
      // Rounded values make ties inside windows, where the first maximum takes the gradient.
      const x = tf.tensor4d(normals(shape.reduce((a, b) => a * b), rng).map((v) => Math.round(v)), shape);
      const y = tf.maxPool(x, 2, 2, pad);
      const dy = tf.tensor4d(normals(y.size, rng), y.shape);
      const w = tf.tensor4d(normals(x.size, rng), x.shape);
      const attributes = { filterSize: 2, strides: 2, pad } as unknown as tf.NamedAttrMap;
      const poolGrad = (d: tf.Tensor) => tf.engine().runKernel(tf.MaxPoolGrad, { dy: d, input: x, output: y }, attributes) as tf.Tensor;
      const Mw = tf.grad((d: tf.Tensor) => tf.sum(tf.mul(poolGrad(d), w)))(dy);
      const left = dot(await Mw.data(), await dy.data());
      const right = dot(await w.data(), await poolGrad(dy).data());
      assert.ok(Math.abs(left - right) < 1e-4 * (1 + Math.abs(right)), `${backend} ${pad}: ${left} vs ${right}`);
    }
  }
});

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

test('second-order gradients of every defence on wasm (custom kernels) match cpu on the bundled CNN and MLP', async () => {
  const rng = new Random(3);
  const failures: string[] = [];
  for (const architecture of ['cnn', 'mlp'] as const) {
    const x = normals(4 * 28 * 28, rng).map((v) => Math.abs(v) / 3);
    const labels = Int32Array.from([0, 3, 7, 9]);
    const raw = normals(4 * 10, rng);
    for (const kind of ['jr', 'igr', 'clr'] as const) {
      const results: Float32Array[][] = [];
      for (const backend of ['cpu', 'wasm'] as const) {
        await initBackend(backend);
        const model = await createModel(architecture, [28, 28, 1], 10, 1);
        const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
        const xt = tf.tensor4d(x, [4, 28, 28, 1]);
        const v = tf.tidy(() => { const t = tf.tensor2d(raw, [4, 10]); return tf.div(t, tf.norm(t, 2, 1, true)) as tf.Tensor2D; });
        const forward: Forward = (input) => model.apply(input, { training: false }) as tf.Tensor2D;
        const { grads } = tf.variableGrads(() => {
          const { z, penalty } = kind === 'jr' ? jacobianProjectionPenalty(forward, xt, v) : kind === 'igr' ? inputGradientPenalty(forward, xt, labels) : crossLipschitzPenalty(forward, xt, 10);
          z.dispose();
          return penalty;
        }, variables);
        // The last bias moves no input gradient: it has no gradient (checked as zero by the test above).
        results.push(variables.filter((variable) => grads[variable.name]).map((variable) => grads[variable.name].dataSync() as Float32Array));
        tf.dispose([xt, v, ...Object.values(grads)]);
        model.dispose();
      }
      assert.equal(results[0].length, results[1].length);
      results[0].forEach((cpu, k) => {
        const wasm = results[1][k];
        let diff = 0;
        let scale = 0;
        cpu.forEach((c, i) => { diff = Math.max(diff, Math.abs(wasm[i] - c)); scale = Math.max(scale, Math.abs(c)); });
        // Biases before a ReLU move input gradients only through activation patterns: zero on both.
        if (!(scale === 0 ? diff === 0 : diff / scale < 1e-3)) failures.push(`${architecture} ${kind} variable ${k}: relative error ${diff / scale}`);
      });
    }
  }
  assert.deepEqual(failures, []);
});

test('bad defences are one-line errors naming the field: a negative or non-finite weight, projections out of range, a pool it cannot differentiate twice', () => {
  const base: DefenceConfig = { kind: 'jr', weight: 0.01, projections: 1 };
  const check = (defence: DefenceConfig) => validateTrainConfig({ ...trainConfigFrom({ dataset: { kind: 'synthetic' }, outDir: 'm' }), defence });
  for (const bad of [{ weight: -0.1 }, { weight: Number.NaN }, { weight: Infinity }, { projections: 0 }, { projections: 1.5 }, { projections: 1e6 }]) {
    const field = `defence.${Object.keys(bad)[0]}`;
    assert.throws(() => check({ ...base, ...bad }), (e: Error) => e instanceof ConfigError && e.field === field && !e.message.includes('\n'));
  }
  assert.throws(() => check({ ...base, kind: 'xx' as 'jr' }), (e: Error) => e.message === 'defence.kind: must be one of jr, igr, clr (got "xx")');
  check({ ...base, weight: 0 });

  const overlapping = tfl.sequential();
  overlapping.add(tfl.layers.maxPooling2d({ inputShape: [8, 8, 1], poolSize: 3, strides: 1 }));
  overlapping.add(tfl.layers.flatten());
  overlapping.add(tfl.layers.dense({ units: 2 }));
  assert.match(secondOrderProblem(overlapping) ?? '', /overlapping windows/);
  const lstm = tfl.sequential();
  lstm.add(tfl.layers.reshape({ inputShape: [4, 4, 1], targetShape: [4, 4] }));
  lstm.add(tfl.layers.simpleRNN({ units: 3 }));
  assert.match(secondOrderProblem(lstm) ?? '', /SimpleRNN/);
});

test('every bundled architecture is one the defences support', async () => {
  await initBackend('cpu');
  for (const architecture of ['mlp', 'cnn', 'resnet18'] as const) {
    const model = await createModel(architecture, [28, 28, 1], 10, 0);
    assert.equal(secondOrderProblem(model), null, architecture);
    model.dispose();
  }
});
