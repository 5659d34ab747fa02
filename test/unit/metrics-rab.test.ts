import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { separationRatio, studentTQuantile } from '../../src/core/metrics';
import { Random } from '../../src/core/random';

/** Latent vectors near μ·e_label with the given spread, as float32 (as the network gives them). */
function latentSet(sizes: number[], dims: number, seed: number, mu = 70, spread = 3, offset = 0) {
  const rng = new Random(seed);
  const labels = Int32Array.from(sizes.flatMap((n, c) => new Array<number>(n).fill(c)));
  rng.shuffle(labels);
  const centre = (i: number) => offset + (labels[Math.floor(i / dims)] === i % dims ? mu : 0);
  const z = Float32Array.from({ length: labels.length * dims }, (_, i) => centre(i) + spread * (1 + (i % 3)) * rng.normal());
  return { z, labels };
}

/** Equations 4–6 by the letter: every pair of samples, squared distances summed in float64. */
function directRatios(z: Float32Array, labels: Int32Array, dims: number): number[] {
  const members = (c: number) => Array.from(labels.keys()).filter((i) => labels[i] === c);
  const sumSquared = (rowsA: number[], rowsB: number[]) => {
    let sum = 0;
    for (const i of rowsA) for (const j of rowsB) for (let k = 0; k < dims; k++) sum += (z[i * dims + k] - z[j * dims + k]) ** 2;
    return sum;
  };
  const classes = Array.from({ length: dims }, (_, c) => members(c)).filter((rows) => rows.length >= 2 && sumSquared(rows, rows) > 0);
  const ratios: number[] = [];
  for (const a of classes) {
    const intra = Math.sqrt(sumSquared(a, a));
    for (const b of classes) if (a !== b) ratios.push(Math.sqrt(sumSquared(a, b)) / intra);
  }
  return ratios;
}

const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;
const close = (actual: number, expected: number, relative: number) => Math.abs(actual - expected) <= relative * Math.abs(expected);

test('Student t quantiles match high-precision references (mpmath)', () => {
  // mpmath's values to 15 significant digits (a double holds them exactly; the check is to 1e-10).
  const references: [number, number, number][] = [
    [0.975, 1, 12.7062047361747],
    [0.975, 2, 4.30265272974946],
    [0.975, 5, 2.57058183563631],
    [0.975, 11, 2.20098516009164],
    [0.975, 89, 1.98697869950628],
    [0.975, 1e6, 1.95996635681411],
    [0.995, 3, 5.84090930973336],
    [0.6, 4, 0.270722294707597],
  ];
  for (const [p, df, expected] of references) {
    assert.ok(close(studentTQuantile(p, df), expected, 1e-10), `t(${p}, ${df}) = ${studentTQuantile(p, df)}, expected ${expected}`);
    assert.ok(close(studentTQuantile(1 - p, df), -expected, 1e-10), `symmetric at ${1 - p}`);
  }
});

test('r_AB equals equations 4–6 computed pair by pair in float64, with classes of unequal sizes', () => {
  const dims = 6;
  // Unequal classes, one of a single sample and one empty: both have no d_intra and are left out.
  const { z, labels } = latentSet([3, 17, 40, 81, 1, 0], dims, 7);
  const direct = directRatios(z, labels, dims);
  assert.equal(direct.length, 4 * 3);
  const result = separationRatio(z, labels, dims);
  assert.equal(result.pairs, 12, 'ordered pairs (A, B) and (B, A) both count');
  assert.ok(close(result.mean, mean(direct), 1e-12), `${result.mean} vs ${mean(direct)}`);
  // 95% t-interval over the 12 ordered pairs: 11 degrees of freedom.
  const s = Math.sqrt(direct.reduce((sum, r) => sum + (r - mean(direct)) ** 2, 0) / 11);
  const half = 2.20098516009164 * (s / Math.sqrt(12));
  assert.ok(close(result.ci95[0], mean(direct) - half, 1e-9) && close(result.ci95[1], mean(direct) + half, 1e-9), `${result.ci95} vs ±${half}`);
});

test('r_AB matches the pairwise definition on random latent sets (sizes, dimensions, offsets)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 5 }),
      fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 5, maxLength: 5 }),
      fc.integer({ min: 0, max: 1000 }),
      fc.constantFrom(0, 1000),
      (dims, sizes, seed, offset) => {
        const { z, labels } = latentSet(sizes.slice(0, dims), dims, seed, 20, 2, offset);
        const direct = directRatios(z, labels, dims);
        const result = separationRatio(z, labels, dims);
        assert.equal(result.pairs, direct.length);
        if (direct.length === 0) assert.ok(Number.isNaN(result.mean));
        // Far from the origin (offset 1000) the centred sums keep their precision.
        else assert.ok(close(result.mean, mean(direct), 1e-9), `${result.mean} vs ${mean(direct)} (sizes ${sizes}, offset ${offset})`);
      },
    ),
    { numRuns: 60, seed: 11 },
  );
});

test('r_AB as written depends on class sizes: duplicating class B multiplies r_AB by √2 and r_BA by 1/√2', () => {
  const dims = 2;
  const { z, labels } = latentSet([20, 30], dims, 3);
  const rowsB = Array.from(labels.keys()).filter((i) => labels[i] === 1);
  const doubledZ = new Float32Array(z.length + rowsB.length * dims);
  doubledZ.set(z);
  rowsB.forEach((row, k) => doubledZ.set(z.subarray(row * dims, (row + 1) * dims), z.length + k * dims));
  const doubledLabels = Int32Array.from([...labels, ...rowsB.map(() => 1)]);
  const [rAB, rBA] = directRatios(z, labels, dims);
  const [rAB2, rBA2] = directRatios(doubledZ, doubledLabels, dims);
  assert.ok(close(rAB2, rAB * Math.SQRT2, 1e-12) && close(rBA2, rBA / Math.SQRT2, 1e-12));
  assert.ok(close(separationRatio(doubledZ, doubledLabels, dims).mean, (rAB2 + rBA2) / 2, 1e-12));
});

test('r_AB is scale-free, grows as classes move apart, and is undefined with fewer than two classes', () => {
  const dims = 4;
  const { z, labels } = latentSet([50, 50, 50, 50], dims, 5, 10, 1);
  const base = separationRatio(z, labels, dims).mean;
  assert.ok(close(separationRatio(z.map((v) => 3 * v), labels, dims).mean, base, 1e-6));
  const tighter = latentSet([50, 50, 50, 50], dims, 5, 10, 0.2);
  assert.ok(separationRatio(tighter.z, tighter.labels, dims).mean > 3 * base);
  const single = separationRatio(Float32Array.from([1, 2, 3, 4, 5, 6]), Int32Array.from([0, 0, 0]), 2);
  assert.equal(single.pairs, 0);
  assert.ok(Number.isNaN(single.mean));
});
