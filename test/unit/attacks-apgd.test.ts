import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../../src/core/tf';
import { initBackend } from '../../src/core/backend';
import { UserError } from '../../src/core/errors';
import { AttackName, AttackParams, attackBatch, resolveAttackParams } from '../../src/core/attacks';
import { APGD, ApgdTrace, apgdCheckpoints, apgdRun } from '../../src/core/attacks/apgd';
import { ThreatModel } from '../../src/core/attacks/common';
import { ballRadius, lossAndGradient, normalizeGradient, project } from '../../src/core/attacks/gradientCore';
import { attackLoss, referenceCrossEntropy, targetedDlrLoss } from '../../src/core/attacks/objectives';
import { Random } from '../../src/core/random';

const SIDE = 5;
const SIZE = SIDE * SIDE;

/** A small ReLU network with seeded weights: nonlinear, so attack paths are not monotone. */
function reluModel(classes: number, seed: number, hidden = 12): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(tfl.layers.flatten({ inputShape: [SIDE, SIDE, 1] }));
  model.add(tfl.layers.dense({ units: hidden, activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed }) }));
  model.add(tfl.layers.dense({ units: classes, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }));
  return model;
}

function images(random: Random, count: number): Float32Array {
  return Float32Array.from({ length: count * SIZE }, () => random.uniform(0, 1));
}

function outputs(model: tfl.LayersModel, x: Float32Array): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor4d(x, [x.length / SIZE, SIDE, SIDE, 1])) as tf.Tensor).dataSync() as Float32Array);
}

const argmax = (z: Float32Array, dims: number, b: number) => {
  const row = Array.from(z.subarray(b * dims, (b + 1) * dims));
  return row.indexOf(Math.max(...row));
};

/** Labels the model gives the images: every sample starts correctly classified. */
function ownLabels(model: tfl.LayersModel, x: Float32Array, dims: number): Int32Array {
  const z = outputs(model, x);
  return Int32Array.from({ length: x.length / SIZE }, (_, b) => argmax(z, dims, b));
}

async function run(model: tfl.LayersModel, name: AttackName, x: Float32Array, labels: Int32Array, params: AttackParams, seed = 0) {
  const input = tf.tensor4d(x, [labels.length, SIDE, SIDE, 1]);
  const output = await attackBatch(model, name, input, labels, resolveAttackParams(name, params), seed);
  const adversarial = output.adversarial.dataSync() as Float32Array;
  tf.dispose([input, output.adversarial]);
  return adversarial;
}

test("APGD's checkpoints are w_j = ⌈p_j·N⌉ with p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06)", () => {
  // The paper's N = 100 (and AutoAttack's integer recurrence gives the same).
  assert.deepEqual(apgdCheckpoints(100), [22, 41, 57, 70, 80, 87, 93, 99]);
  assert.deepEqual(apgdCheckpoints(1000), [220, 410, 570, 700, 800, 870, 930, 990]);
  for (const iterations of [1, 3, 7, 10, 37, 50, 250]) {
    // The recurrence in floating point, rounded to hundredths.
    const expected: number[] = [];
    for (let previous = 0, p = 0.22; ;) {
      const w = Math.ceil(Math.round(p * iterations * 1e6) / 1e6);
      if (w > iterations) break;
      if (w > (expected.at(-1) ?? 0)) expected.push(w);
      [previous, p] = [p, Math.round((p + Math.max(p - previous - 0.03, 0.06)) * 100) / 100];
    }
    assert.deepEqual(apgdCheckpoints(iterations), expected, `N = ${iterations}`);
  }
});

test('APGD halves the step exactly where Algorithm 1 says, recomputed from its own loss trace', async () => {
  await initBackend('wasm');
  const random = new Random(11);
  const classes = 5;
  const model = reluModel(classes, 21, 16);
  const count = 12;
  const x = images(random, count);
  const labels = ownLabels(model, x, classes);
  const iterations = 40;
  const eps = 0.03;
  const history: Parameters<ApgdTrace>[0][] = [];
  const input = tf.tensor4d(x, [count, SIDE, SIDE, 1]);
  const result = await apgdRun(
    model,
    input,
    labels,
    {
      eps,
      norm: 'linf',
      iterations,
      objective: (z, rows) =>
        attackLoss(
          'crossentropy',
          z,
          Int32Array.from(rows, (b) => labels[b]),
          0,
        ),
      trace: (event) => history.push(event),
    },
    new Random(3),
  );
  input.dispose();
  assert.equal(history[0].iteration, 0);
  const checkpoints = apgdCheckpoints(iterations);
  let halvings = 0;
  let keeps = 0;
  let checked = 0;
  for (let b = 0; b < count; b++) {
    const seen = history.map((event) => event.rows.indexOf(b));
    if (seen.some((a) => a < 0)) continue; // misclassified on the way: left the run
    checked++;
    const loss = history.map((event, i) => event.loss[seen[i]]);
    const step = history.map((event, i) => event.stepSize[seen[i]]);
    const initial = APGD.initialStep * eps * Math.max(...x.subarray(b * SIZE, (b + 1) * SIZE));
    assert.ok(Math.abs(step[0] - initial) <= 1e-6 * initial, `η⁽⁰⁾ = 2ε·‖x‖∞: ${step[0]} vs ${initial}`);
    let expectedStep = step[0];
    let halvedBefore = false;
    let previous = 0;
    const bestUpTo = (w: number) => Math.max(...loss.slice(0, w + 1));
    for (let i = 1; i <= iterations; i++) {
      if (checkpoints.includes(i)) {
        let increases = 0;
        for (let k = previous + 1; k <= i; k++) if (loss[k] > loss[k - 1]) increases++;
        const condition1: boolean = increases < APGD.rho * (i - previous);
        const condition2: boolean = !halvedBefore && bestUpTo(previous) >= bestUpTo(i);
        halvedBefore = condition1 || condition2;
        if (halvedBefore) {
          expectedStep /= 2;
          halvings++;
        } else keeps++;
        previous = i;
      }
      assert.equal(step[i], Math.fround(expectedStep), `sample ${b}, iteration ${i}`);
    }
    assert.equal(result.fooled[b], 0);
    assert.equal(result.bestLoss[b], Math.max(...loss), 'the run ends at its highest-loss iterate');
  }
  assert.ok(checked >= 4, `${checked} samples ran all iterations`);
  assert.ok(halvings > 0 && keeps > 0, `both outcomes exercised (${halvings} halvings, ${keeps} kept)`);
  model.dispose();
});

test('DLR, targeted DLR and the cross-entropy value agree with a float64 computation', () => {
  const random = new Random(5);
  const [rows, dims] = [40, 7];
  const z = Float32Array.from({ length: rows * dims }, () => random.normal() * 10);
  // A confident row: cross-entropy ≈ e^−60, which −log softmax rounds to 0 in float32.
  z.set([60, 0, -1, -2, -3, -4, -5], 0);
  const labels = Int32Array.from({ length: rows }, (_, b) => (b === 0 ? 0 : random.int(dims)));
  const targets = labels.map((y) => (y + 1 + random.int(dims - 1)) % dims);
  const values = (f: (z: tf.Tensor2D) => tf.Tensor1D) => tf.tidy(() => Array.from(f(tf.tensor2d(z, [rows, dims])).dataSync()));
  const dlr = values((t) => attackLoss('dlr', t, labels, 0));
  const targeted = values((t) => targetedDlrLoss(t, labels, targets));
  const crossEntropy = values((t) => attackLoss('crossentropy', t, labels, 0));
  for (let b = 0; b < rows; b++) {
    const row = Array.from(z.subarray(b * dims, (b + 1) * dims), Number);
    const sorted = [...row].sort((p, q) => q - p);
    const other = Math.max(...row.filter((_, j) => j !== labels[b]));
    const expectedDlr = -(row[labels[b]] - other) / (sorted[0] - sorted[2] + 1e-12);
    const expectedTargeted = -(row[labels[b]] - row[targets[b]]) / (sorted[0] - (sorted[2] + sorted[3]) / 2 + 1e-12);
    const top = Math.max(...row);
    const expectedCe = Math.log(row.reduce((sum, v) => sum + Math.exp(v - top), 0)) + top - row[labels[b]];
    const close = (actual: number, expected: number, what: string) =>
      assert.ok(Math.abs(actual - expected) <= 1e-5 * Math.max(1, Math.abs(expected)), `${what}, row ${b}: ${actual} vs ${expected}`);
    close(dlr[b], expectedDlr, 'DLR');
    close(targeted[b], expectedTargeted, 'targeted DLR');
    if (b > 0) close(crossEntropy[b], expectedCe, 'cross-entropy');
  }
  // log(1 + t) = t to float64 precision for t ≈ 1.6e−26.
  const tiny = [0, -1, -2, -3, -4, -5].reduce((sum, v) => sum + Math.exp(v - 60), 0);
  assert.ok(Math.abs(crossEntropy[0] - tiny) < 1e-4 * tiny, `cross-entropy of a confident row: ${crossEntropy[0]} vs ${tiny} (not rounded to 0)`);
  // DLR is unchanged when the outputs are shifted and rescaled (the reason it exists).
  const scaled = tf.tidy(() =>
    Array.from(
      attackLoss(
        'dlr',
        tf.tensor2d(
          z.map((v) => 100 * v + 7),
          [rows, dims],
        ),
        labels,
        0,
      ).dataSync(),
    ),
  );
  scaled.forEach((v, b) => assert.ok(Math.abs(v - dlr[b]) <= 1e-4 * Math.max(1, Math.abs(dlr[b])), `row ${b}: ${v} vs ${dlr[b]}`));
  assert.throws(
    () => tf.tidy(() => attackLoss('dlr', tf.tensor2d([1, 2, 3, 4], [2, 2]), Int32Array.from([0, 1]), 0)),
    /^UserError: the DLR loss needs at least 3 classes \(the model has 2\)$/,
  );
});

/** −log softmax(z)_c's gradient as PyTorch computes it in float32 (log_softmax, then its backward): p − e_c. */
function float32CrossEntropyGradient(row: number[], c: number): number[] {
  const f = Math.fround;
  const top = Math.max(...row);
  const sum = row.reduce((total, v) => f(total + f(Math.exp(f(v - top)))), 0);
  const logSum = f(Math.log(sum));
  return row.map((v, j) => f(f(Math.exp(f(f(v - top) - logSum))) - (j === c ? 1 : 0)));
}

test("APGD-CE's reference cross-entropy gradient: float64 rule, and the float32 softmax − e_c direction of the reference implementation", async () => {
  await initBackend('wasm');
  const random = new Random(17);
  const [rows, dims] = [60, 10];
  // Gaps between the true output and the others from 0 to 40: p_c rounds to 1 in float32 beyond ~17.
  const labels = Int32Array.from({ length: rows }, () => random.int(dims));
  const z = Float32Array.from({ length: rows * dims }, (_, i) => {
    const [b, j] = [Math.floor(i / dims), i % dims];
    return j === labels[b] ? (40 * b) / rows : random.normal() * 2 - 1;
  });
  const gradient = tf.tidy(
    () =>
      tf
        .grad((t: tf.Tensor) => tf.sum(referenceCrossEntropy(t as tf.Tensor2D, labels)))(tf.tensor2d(z, [rows, dims]))
        .arraySync() as number[][],
  );
  const exact = tf.tidy(
    () =>
      tf
        .grad((t: tf.Tensor) => tf.sum(attackLoss('crossentropy', t as tf.Tensor2D, labels, 0)))(tf.tensor2d(z, [rows, dims]))
        .arraySync() as number[][],
  );
  let [saturated, compared] = [0, 0];
  for (let b = 0; b < rows; b++) {
    const row = Array.from(z.subarray(b * dims, (b + 1) * dims), Number);
    const c = labels[b];
    // float64: others exp(z_j − runner-up); the true class −Σ of them, or 0 where Σ_{j≠c} e^{z_j − z_c} ≤ 2⁻²⁴.
    const runnerUp = Math.max(...row.filter((_, j) => j !== c));
    const others = row.map((v, j) => (j === c ? 0 : Math.exp(v - runnerUp)));
    const total = others.reduce((sum, v) => sum + v, 0);
    const ratio = row.reduce((sum, v, j) => (j === c ? sum : sum + Math.exp(v - row[c])), 0);
    const isSaturated = ratio <= 2 ** -24;
    saturated += isSaturated ? 1 : 0;
    const expected = others.map((v, j) => (j === c ? (isSaturated ? 0 : -total) : v));
    gradient[b].forEach((v, j) =>
      assert.ok(Math.abs(v - expected[j]) <= 1e-5 * Math.max(1, Math.abs(expected[j])), `row ${b}, class ${j}: ${v} vs ${expected[j]}`),
    );
    // Unsaturated rows: the exact cross-entropy direction.
    if (!isSaturated) exact[b].forEach((v, j) => assert.ok(Math.abs(v - gradient[b][j]) <= 1e-5 * Math.max(1, Math.abs(v)), `row ${b}: exact direction`));
    // Away from the rounding threshold, the direction of float32 softmax − e_c, whenever that does not vanish, up to
    // float32's quantisation of 1 − p_c (steps of 2⁻²⁴, relative to Σ_{j≠c} p_j ≈ ratio).
    if (Math.abs(Math.log2(ratio) + 24) < 1) continue;
    const reference = float32CrossEntropyGradient(row, c);
    const scale = Math.max(...reference.map(Math.abs));
    if (scale === 0) continue;
    compared++;
    const tolerance = 1e-4 + (isSaturated ? 0 : 2 ** -22 / ratio);
    const ourScale = Math.max(...gradient[b].map(Math.abs));
    reference.forEach((v, j) =>
      assert.ok(
        Math.abs(v / scale - gradient[b][j] / ourScale) <= tolerance,
        `row ${b}, class ${j}: ${gradient[b][j] / ourScale} vs the float32 reference's ${v / scale}`,
      ),
    );
  }
  assert.ok(saturated >= 10 && saturated <= rows - 10, `both kinds of rows are tested (${saturated} saturated)`);
  assert.ok(compared >= rows - 5, `${compared} rows compared with the float32 reference`);
  // The value is the exact cross-entropy's, so APGD's loss comparisons are unchanged.
  const values = tf.tidy(() =>
    [referenceCrossEntropy, (t: tf.Tensor2D, y: Int32Array) => attackLoss('crossentropy', t, y, 0)].map((f) =>
      Array.from(f(tf.tensor2d(z, [rows, dims]), labels).dataSync()),
    ),
  );
  assert.deepEqual(values[0], values[1]);
});

test('best iterate: PGD never ends worse than its last iterate (misclassified first, then the loss)', async () => {
  await initBackend('wasm');
  const random = new Random(8);
  const classes = 4;
  const model = reluModel(classes, 31);
  const count = 16;
  const x = images(random, count);
  const labels = ownLabels(model, x, classes);
  for (const norm of ['linf', 'l2'] as ThreatModel[]) {
    // A step far too large: iterates jump around, so the last is often not the best.
    const params = { eps: norm === 'linf' ? 0.15 : 0.3, norm, steps: 6, stepSize: norm === 'linf' ? 0.15 : 0.3, loss: 'margin' as const };
    const best = await run(model, 'pgd', x, labels, params);
    // The last iterate, from the core's own pieces.
    const input = tf.tensor4d(x, [count, SIDE, SIDE, 1]);
    const lossOf = (z: tf.Tensor2D) => attackLoss('margin', z, labels, 0);
    const [radius, step] = tf.tidy(() => [ballRadius(input, norm, params.eps), ballRadius(input, norm, params.stepSize)]);
    let last = tf.clone(input);
    for (let k = 0; k < params.steps; k++) {
      const { gradient } = lossAndGradient(model, last, lossOf);
      const next = tf.tidy(() => project(tf.add(last, tf.mul(step, normalizeGradient(gradient, norm))) as tf.Tensor4D, input, radius, norm));
      tf.dispose([last, gradient]);
      last = next;
    }
    const lastValues = last.dataSync() as Float32Array;
    tf.dispose([input, radius, step, last]);
    const [zBest, zLast] = [outputs(model, best), outputs(model, lastValues)];
    const margin = (z: Float32Array, b: number) =>
      Math.max(...Array.from(z.subarray(b * classes, (b + 1) * classes)).filter((_, j) => j !== labels[b])) - z[b * classes + labels[b]];
    let better = 0;
    for (let b = 0; b < count; b++) {
      const [bestFooled, lastFooled] = [argmax(zBest, classes, b) !== labels[b], argmax(zLast, classes, b) !== labels[b]];
      assert.ok(bestFooled || !lastFooled, `${norm} sample ${b}: the last iterate is misclassified, the best is not`);
      if (bestFooled === lastFooled)
        assert.ok(margin(zBest, b) >= margin(zLast, b) - 1e-5, `${norm} sample ${b}: best loss ${margin(zBest, b)} < last ${margin(zLast, b)}`);
      if (margin(zBest, b) > margin(zLast, b) + 1e-5 || bestFooled !== lastFooled) better++;
    }
    assert.ok(better > 0, `${norm}: the best iterate differs from the last on some sample`);
  }
  model.dispose();
});

test('L2: PGD, APGD and their restarts stay inside ‖n‖₂ ≤ ε·‖x‖₂ and [0, 1], and move to its surface', async () => {
  await initBackend('wasm');
  const random = new Random(4);
  const model = reluModel(4, 41);
  const count = 8;
  const x = images(random, count);
  const labels = Int32Array.from({ length: count }, (_, b) => b % 4);
  const eps = 0.1;
  const cases: [AttackName, AttackParams][] = [
    ['fgsm', { eps, norm: 'l2' }],
    ['pgd', { eps, norm: 'l2', steps: 5, randomStart: true, restarts: 2 }],
    ['apgd-ce', { eps, norm: 'l2', iterations: 10, restarts: 2 }],
    ['apgd-dlr', { eps, norm: 'l2', iterations: 10 }],
    ['apgd-t', { eps, norm: 'l2', iterations: 5, targetCount: 3 }],
  ];
  for (const [name, params] of cases) {
    const adversarial = await run(model, name, x, labels, params, 2);
    let largest = 0;
    for (let b = 0; b < count; b++) {
      const row = x.subarray(b * SIZE, (b + 1) * SIZE);
      const bound = eps * Math.hypot(...row);
      const n = Math.hypot(...Array.from(row, (v, p) => adversarial[b * SIZE + p] - v));
      assert.ok(n <= bound * (1 + 1e-5), `${name} sample ${b}: ‖n‖₂ = ${n} > ${bound}`);
      assert.ok(
        adversarial.subarray(b * SIZE, (b + 1) * SIZE).every((v) => v >= 0 && v <= 1),
        `${name}: a pixel outside [0, 1]`,
      );
      largest = Math.max(largest, n / bound);
    }
    assert.ok(largest > 0.5, `${name} used the budget (largest ‖n‖₂/ε‖x‖₂ = ${largest})`);
  }
  model.dispose();
});

test('APGD-CE, APGD-DLR and APGD-T (one target) defeat an undefended linear model', async () => {
  await initBackend('wasm');
  const random = new Random(9);
  const classes = 4;
  const w = Array.from({ length: classes }, () => Array.from({ length: SIZE }, () => random.normal()));
  const model = tfl.sequential();
  model.add(tfl.layers.flatten({ inputShape: [SIDE, SIDE, 1] }));
  model.add(tfl.layers.dense({ units: classes }));
  model.setWeights([
    tf.tensor2d(
      Float32Array.from({ length: SIZE * classes }, (_, i) => w[i % classes][Math.floor(i / classes)]),
      [SIZE, classes],
    ),
    tf.zeros([classes]),
  ]);
  const count = 10;
  const x = images(random, count);
  const labels = ownLabels(model, x, classes);
  for (const name of ['apgd-ce', 'apgd-dlr', 'apgd-t'] as AttackName[]) {
    const adversarial = await run(model, name, x, labels, { eps: 1, iterations: 20, ...(name === 'apgd-t' && { targetCount: 1 }) });
    const z = outputs(model, adversarial);
    for (let b = 0; b < count; b++) assert.notEqual(argmax(z, classes, b), labels[b], `${name} sample ${b}`);
  }
  model.dispose();
});

test('APGD: the same seed gives identical results, another seed does not; cancelling leaks nothing', async () => {
  await initBackend('wasm');
  const random = new Random(6);
  const model = reluModel(5, 51);
  const count = 8;
  const x = images(random, count);
  const labels = ownLabels(model, x, 5);
  for (const name of ['apgd-ce', 'apgd-t'] as AttackName[]) {
    const params = { eps: 0.05, iterations: 8, ...(name === 'apgd-t' && { targetCount: 2 }) };
    const first = await run(model, name, x, labels, params, 3);
    assert.deepEqual(await run(model, name, x, labels, params, 3), first, `${name}: same seed`);
    assert.notDeepEqual(await run(model, name, x, labels, params, 4), first, `${name}: another seed`);
  }
  const before = tf.memory().numTensors;
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 5);
  const input = tf.tensor4d(x, [count, SIDE, SIDE, 1]);
  await assert.rejects(attackBatch(model, 'apgd-ce', input, labels, resolveAttackParams('apgd-ce', { eps: 0.01, iterations: 10000 }), 0, controller.signal), {
    name: 'AttackCancelled',
  });
  input.dispose();
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test('bad APGD and threat-model parameters are one-line UserErrors', async () => {
  const bad: [AttackName, AttackParams, RegExp][] = [
    ['apgd-ce', { norm: 'l2', eps: 1.5 }, /^apgd-ce: eps must be a number in \[0, 1\], relative to the image .*\(got 1\.5\)$/],
    ['apgd-ce', { norm: 'l1' as ThreatModel }, /^apgd-ce: norm must be linf or l2 \(got "l1"\)$/],
    ['apgd-ce', { restarts: 0 }, /^apgd-ce: restarts must be a whole number from 1 to 1000 \(got 0\)$/],
    ['apgd-t', { targetCount: 0 }, /^apgd-t: targetCount must be a whole number ≥ 1/],
    ['apgd-dlr', { iterations: 0 }, /^apgd-dlr: iterations must be a whole number from 1 to 10000 \(got 0\)$/],
    ['apgd-ce', { loss: 'margin' }, /^apgd-ce takes no parameter "loss" \(it takes eps, norm, iterations, restarts\)$/],
  ];
  for (const [name, params, message] of bad) {
    assert.throws(
      () => resolveAttackParams(name, params),
      (error: unknown) => error instanceof UserError && message.test(error.message) && !error.message.includes('\n'),
      `${name} ${JSON.stringify(params)}`,
    );
  }
  assert.deepEqual(resolveAttackParams('apgd-t'), { eps: 0.1, norm: 'linf', iterations: 100, restarts: 1, targetCount: 9 });
  // More targets than the model has other classes: refused when the model is known.
  await initBackend('wasm');
  const model = reluModel(4, 61);
  const input = tf.zeros([2, SIDE, SIDE, 1]) as tf.Tensor4D;
  await assert.rejects(attackBatch(model, 'apgd-t', input, Int32Array.from([0, 1]), resolveAttackParams('apgd-t', { targetCount: 4 }), 0), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.equal(error.message, 'apgd-t: targetCount 4 is more than the 3 classes other than the true one');
    return true;
  });
  input.dispose();
  model.dispose();
});
