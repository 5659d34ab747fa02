/**
 * The time estimate's cost model (src/core/robustness/estimate.ts) against the passes each attack
 * really makes: a tiny model whose first layer counts the rows of every forward pass and of every
 * backward pass that reaches the input. Exact for fixed-length attacks; for those that stop early,
 * never below the real count, and equal to it where nothing stops them (a tiny ε, one iteration).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../../src/core/tf';
import { initBackend } from '../../src/core/backend';
import { AttackName, AttackParams, resolveAttackParams } from '../../src/core/attacks';
import { ATTACK_NAMES } from '../../src/core/catalog';
import type { Examples } from '../../src/core/data/types';
import { calibratePasses } from '../../src/core/robustness/calibrate';
import { PassTimes, attackPasses, evaluationEstimate, formatDuration, formatEstimate, sweepEstimate } from '../../src/core/robustness/estimate';
import { attackSamples } from '../../src/core/robustness/samples';
import type { SweepCell } from '../../src/core/sweep/types';
import { Random } from '../../src/core/random';

const SIDE = 5;
const SIZE = SIDE * SIDE;

/** Identity that counts the rows going through it forward, and the rows of gradient coming back. */
class PassCounter extends tfl.layers.Layer {
  static className = 'PassCounter';
  forwardRows = 0;
  backwardRows = 0;
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    this.forwardRows += x.shape[0]!;
    const identity = (input: tf.Tensor) => ({
      value: tf.clone(input),
      gradFunc: (dy: tf.Tensor) => {
        this.backwardRows += dy.shape[0]!;
        return dy;
      },
    });
    const counted = tf.customGrad(identity as unknown as Parameters<typeof tf.customGrad>[0]);
    return counted(x) as tf.Tensor;
  }
  override computeOutputShape(shape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return shape;
  }
}

function countingModel(classes: number, seed: number) {
  const counter = new PassCounter({ inputShape: [SIDE, SIDE, 1] });
  const model = tfl.sequential();
  model.add(counter);
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: 16, activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed }) }));
  model.add(tfl.layers.dense({ units: classes, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }));
  return { model, counter };
}

/** Seeded random images labelled as the model classifies them: every sample starts correctly classified. */
function ownExamples(model: tfl.LayersModel, count: number, seed: number): Examples {
  const random = new Random(seed);
  const pixels = Uint8Array.from({ length: count * SIZE }, () => Math.floor(random.uniform(0, 256)));
  const labels = tf.tidy(() => {
    const x = tf.div(tf.tensor4d(Float32Array.from(pixels), [count, SIDE, SIDE, 1]), 255);
    return Int32Array.from((tf.argMax(model.predict(x) as tf.Tensor, 1) as tf.Tensor).dataSync());
  });
  return { pixels, labels, shape: [SIDE, SIDE, 1] };
}

/** What attackSamples really ran, per sample: forward-only rows and forward + backward rows. */
async function counted(classes: number, name: AttackName, given: AttackParams, count = 6, batchSize = 4) {
  const { model, counter } = countingModel(classes, 11);
  const examples = ownExamples(model, count, 3);
  [counter.forwardRows, counter.backwardRows] = [0, 0];
  const params = resolveAttackParams(name, given);
  const indices = Int32Array.from({ length: count }, (_, i) => i);
  await attackSamples(model, examples, indices, name, params, { batchSize, seed: 5 });
  const real = { forward: (counter.forwardRows - counter.backwardRows) / count, gradient: counter.backwardRows / count };
  const model_ = { classes, inputSize: SIZE };
  model.dispose();
  return { real, model: attackPasses(name, params, model_) };
}

/** Attack, parameters and classes: nothing stops these early, so the count is exact. */
const EXACT: [AttackName, AttackParams, number][] = [
  ['fgsm', { eps: 0.1 }, 4],
  ['pgd', { eps: 0.2, steps: 3, restarts: 2 }, 4],
  ['pgd', { eps: 0.1, steps: 7, norm: 'l2', randomStart: true }, 3],
  ['tgsm', { eps: 0.1, steps: 2, target: 'least-likely' }, 5],
  ['tgsm', { eps: 0.1, steps: 4, target: 'next', restarts: 3 }, 4],
  ['spsa', { eps: 0.1, iterations: 3, samples: 5, earlyStop: false }, 4],
  // A tiny ε breaks no sample: the attacks that stop on broken samples run their full length.
  ['spsa', { eps: 1e-5, iterations: 4, samples: 3, earlyStop: true }, 4],
  ['apgd-ce', { eps: 1e-5, iterations: 6, restarts: 2 }, 4],
  ['apgd-dlr', { eps: 1e-5, iterations: 5 }, 4],
  ['apgd-t', { eps: 1e-5, iterations: 4, targetCount: 3 }, 5],
  ['square', { eps: 1e-5, queries: 25 }, 4],
  // One iteration: every sample is still correct when it starts.
  ['jsma', { maxIterations: 1 }, 4],
  ['jsma', { maxIterations: 1, target: 'least-likely' }, 4],
  ['deepfool', { maxIterations: 1 }, 4],
  // More classes than DeepFool's 10 candidates.
  ['deepfool', { maxIterations: 1 }, 12],
];

for (const [name, params, classes] of EXACT) {
  test(`the cost model counts ${name} ${JSON.stringify(params)} (${classes} classes) exactly`, async () => {
    await initBackend('cpu');
    const { real, model } = await counted(classes, name, params);
    assert.deepEqual({ forward: model.forward, gradient: model.gradient }, real);
  });
}

/** Early-stopping attacks where samples do break: the model's count bounds the real one. */
const BOUNDED: [AttackName, AttackParams, number][] = [
  ['apgd-ce', { eps: 0.5, iterations: 10, restarts: 2 }, 4],
  ['apgd-t', { eps: 0.5, iterations: 6, targetCount: 2 }, 4],
  ['square', { eps: 0.5, queries: 60 }, 4],
  ['spsa', { eps: 0.5, iterations: 8, samples: 4, learningRate: 0.2 }, 4],
  ['jsma', { maxIterations: 20, gamma: 0.5 }, 4],
  ['jsma', { maxIterations: 20, gamma: 0.1 }, 4],
  ['deepfool', { maxIterations: 5 }, 12],
  ['fab-t', { eps: 0.1, iterations: 4, targetCount: 2 }, 4],
  ['fab-t', { eps: 1e-5, iterations: 3, targetCount: 3, restarts: 2 }, 5],
];

for (const [name, params, classes] of BOUNDED) {
  test(`the cost model bounds ${name} ${JSON.stringify(params)} (${classes} classes) from above`, async () => {
    await initBackend('cpu');
    const { real, model } = await counted(classes, name, params);
    assert.equal(model.exact, false);
    assert.ok(real.forward <= model.forward && real.gradient <= model.gradient, `real ${JSON.stringify(real)} ≤ counted ${JSON.stringify(model)}`);
    assert.ok(real.forward + real.gradient > 2, `${name} attacked (${JSON.stringify(real)})`);
  });
}

test('FAB-T: a sample never broken runs every target and restart (at least one gradient per iteration and start)', async () => {
  await initBackend('cpu');
  const params = { eps: 1e-5, iterations: 3, targetCount: 3, restarts: 2 };
  const { real } = await counted(5, 'fab-t', params);
  assert.ok(real.gradient >= params.targetCount * params.restarts * (params.iterations + 1), JSON.stringify(real));
});

test('every catalog attack has a cost, and only fixed-length ones call it exact', () => {
  const exact = ATTACK_NAMES.filter((name) => attackPasses(name, resolveAttackParams(name), { classes: 10, inputSize: 784 }).exact);
  assert.deepEqual(exact, ['fgsm', 'pgd', 'tgsm']);
  assert.equal(attackPasses('spsa', resolveAttackParams('spsa', { earlyStop: false }), { classes: 10, inputSize: 784 }).exact, true);
});

const TIMES: PassTimes = { forward: 0.001, gradient: 0.003, batchSize: 100, classes: 10, inputSize: 784 };

function cell(id: string, attack: AttackName, params: AttackParams, eps: number | null, count = 100): SweepCell {
  const data = { spec: { kind: 'synthetic' as const }, trainRange: null, testRange: null, validationFraction: 0, splitSeed: 0 };
  return {
    id,
    entry: 0,
    model: '/m',
    attack,
    params: resolveAttackParams(attack, params),
    eps,
    iterations: null,
    samples: null,
    data,
    count,
    batchSize: 100,
    seed: 0,
  };
}

test('a sweep: each cell its passes × samples × seconds per pass, dealt in order to the first free worker; ε = 0 is one clean FGSM pass', () => {
  const cells = [cell('a', 'pgd', { eps: 0, steps: 10 }, 0), cell('b', 'pgd', { eps: 0.1, steps: 10 }, 0.1), cell('c', 'fgsm', { eps: 0.1 }, 0.1)];
  // Per sample: ε = 0 → FGSM (1 gradient, 1 + 2 forward); PGD-10 → 10 gradients, 1 + 2 forward; FGSM alike the first.
  const [clean, pgd] = [100 * (3 * 0.001 + 0.003), 100 * (3 * 0.001 + 10 * 0.003)];
  const one = sweepEstimate(cells, new Map([['/m', TIMES]]), 1);
  assert.ok(Math.abs(one.seconds - (clean + pgd + clean)) < 1e-9);
  assert.deepEqual([one.workers, one.samples, one.epsValues, one.runs, one.exact], [1, 100, 2, 3, true]);
  // Two workers: a and c on one (the first free after a), b on the other.
  const two = sweepEstimate(cells, new Map([['/m', TIMES]]), 2);
  assert.ok(Math.abs(two.seconds - pgd) < 1e-9, String(two.seconds));
  // More workers than cells: only as many as cells.
  assert.equal(sweepEstimate(cells, new Map([['/m', TIMES]]), 8).workers, 3);
  assert.equal(sweepEstimate([cell('d', 'square', { eps: 0.1 }, 0.1)], new Map([['/m', TIMES]]), 1).exact, false);
  assert.throws(() => sweepEstimate(cells, new Map(), 1), /no calibration for \/m/);
});

test('an evaluation: every attack at every ε, those without ε once, the clean pass and the probes; a cascade is an upper bound', () => {
  const attacks = [
    { name: 'fgsm' as const, params: {}, bounded: true },
    { name: 'pgd' as const, params: { steps: 5 }, bounded: true },
    { name: 'deepfool' as const, params: { maxIterations: 2 }, bounded: false },
  ];
  const base = { attacks, eps: [0.05, 0.1], count: 300, cascade: false };
  const plain = evaluationEstimate(base, TIMES);
  // Per sample: clean 1 forward; FGSM 1 gradient + 3 forward; PGD-5 5 + 3; DeepFool 1 + 2 + 2 forward, 2 × 9 gradients.
  const perSample = 0.001 + 2 * (0.003 + 0.003 + 5 * 0.003 + 0.003) + (5 * 0.001 + 18 * 0.003);
  assert.ok(Math.abs(plain.seconds - 300 * perSample) < 1e-9, `${plain.seconds} vs ${300 * perSample}`);
  assert.deepEqual([plain.runs, plain.epsValues, plain.workers, plain.exact, plain.cascade], [5, 2, 1, false, false]);
  // The probes run on the first 200 samples: outputs and a gradient, PGD-20 at 1 + 3 temperatures + 2 losses, PGD-5 then PGD-10.
  const probed = evaluationEstimate({ ...base, probes: { losses: 2, iterative: { ...attacks[1], stepKey: 'steps' } } }, TIMES);
  const probes = 200 * (0.001 + 0.003 + 6 * (3 * 0.001 + 20 * 0.003) + (3 * 0.001 + 5 * 0.003) + (3 * 0.001 + 10 * 0.003));
  assert.ok(Math.abs(probed.seconds - plain.seconds - probes) < 1e-9);
  const cascade = evaluationEstimate({ ...base, cascade: true }, TIMES);
  assert.ok(formatEstimate(cascade, 'attack run').includes('a cascade counted as if every attack attacked every sample'));
});

test('the estimate line: "about N min on W workers for M samples × K ε (…)"', () => {
  const estimate = sweepEstimate([cell('b', 'pgd', { eps: 0.1, steps: 100 }, 0.1, 1000)], new Map([['/m', TIMES]]), 2);
  assert.equal(formatEstimate(estimate), 'about 5 min on 1 worker for 1000 samples × 1 ε (1 cell; every attack runs its full length)');
  assert.deepEqual([formatDuration(0.2), formatDuration(59), formatDuration(90), formatDuration(7200)], ['1 s', '59 s', '2 min', '2.0 h']);
});

test('the calibration times one batch of each pass on the model and reads its classes and input size', async () => {
  await initBackend('cpu');
  const { model, counter } = countingModel(7, 2);
  const times = calibratePasses(model, 8);
  assert.deepEqual([times.classes, times.inputSize, times.batchSize], [7, SIZE, 8]);
  assert.ok(times.forward > 0 && times.gradient > 0 && Number.isFinite(times.forward) && Number.isFinite(times.gradient));
  // A first untimed round and three timed ones of each kind, on the whole batch.
  assert.deepEqual([counter.forwardRows, counter.backwardRows], [8 * 8, 8 * 4]);
  model.dispose();
});
