import { test } from 'node:test';
import assert from 'node:assert/strict';
import { principalPlane, project, simplexLayout, vertex, vertexPlane, vertexScale } from '../../src/core/metrics/projection';
import { Random } from '../../src/core/random';

const close = (a: number, b: number, tolerance = 1e-9, what = '') => assert.ok(Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(b)), `${what} ${a} ≠ ${b}`);

/** Float64 reference: orthogonal projection onto the affine plane p0 + span(A) by the normal equations P = A(AᵀA)⁻¹Aᵀ. */
function referenceProjection(z: number[], p0: number[], d1: number[], d2: number[]): number[] {
  const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
  const r = z.map((v, i) => v - p0[i]);
  const [g11, g12, g22] = [dot(d1, d1), dot(d1, d2), dot(d2, d2)];
  const [b1, b2] = [dot(d1, r), dot(d2, r)];
  const det = g11 * g22 - g12 * g12;
  const c1 = (g22 * b1 - g12 * b2) / det;
  const c2 = (g11 * b2 - g12 * b1) / det;
  return p0.map((v, i) => v + c1 * d1[i] + c2 * d2[i]);
}

test('three-class vertex plane: the vertices form an equilateral triangle and points project orthogonally (float64 reference)', () => {
  const dims = 10;
  const muT = 70;
  const plane = vertexPlane(dims, [0, 1, 9], muT);
  const corners = [0, 1, 9].map((k) => project(plane, vertex(dims, k, muT)));
  const side = (p: number[], q: number[]) => Math.hypot(p[0] - q[0], p[1] - q[1]);
  for (const [p, q] of [[0, 1], [1, 2], [0, 2]]) close(side(corners[p], corners[q]), muT * Math.SQRT2, 1e-12, 'side');
  close(corners[0][0] + corners[1][0] + corners[2][0], 0, 1e-12, 'centred x');
  close(corners[0][1] + corners[1][1] + corners[2][1], 0, 1e-12, 'centred y');
  assert.ok(corners[2][1] > 0, 'the third class is up the second axis');
  // Orthonormal rows.
  const [u1, u2] = plane.basis;
  close(u1.reduce((s, v) => s + v * v, 0), 1, 1e-12);
  close(u2.reduce((s, v) => s + v * v, 0), 1, 1e-12);
  close(u1.reduce((s, v, i) => s + v * u2[i], 0), 0, 1e-12);

  const random = new Random(3);
  const [a, b, c] = [0, 1, 9].map((k) => vertex(dims, k, muT));
  for (let n = 0; n < 20; n++) {
    const z = Array.from({ length: dims }, () => (random.next() - 0.3) * 100);
    const [x, y] = project(plane, z);
    const rebuilt = plane.origin.map((o, j) => o + x * u1[j] + y * u2[j]);
    const reference = referenceProjection(z, a, b.map((v, j) => v - a[j]), c.map((v, j) => v - a[j]));
    rebuilt.forEach((v, j) => close(v, reference[j], 1e-9, `component ${j}`));
  }
});

test('two-class plane reads z_a and z_b; bad class choices are refused', () => {
  const plane = vertexPlane(4, [2, 0], 5);
  assert.deepEqual(project(plane, [1, 2, 3, 4]), [3, 1]);
  assert.deepEqual(plane.axes, ['z2', 'z0']);
  assert.throws(() => vertexPlane(4, [0, 0, 1], 5), /must differ/);
  assert.throws(() => vertexPlane(4, [0, 4], 5), /not one of the 4 classes/);
  assert.throws(() => vertexPlane(4, [0], 5), /2 or 3 classes/);
});

test('simplex layout puts vertex i on corner i of a regular D-gon of radius μ_T', () => {
  const dims = 7;
  const layout = simplexLayout(dims);
  const corners = Array.from({ length: dims }, (_, k) => project(layout, vertex(dims, k, 3)));
  corners.forEach(([x, y]) => close(Math.hypot(x, y), 3, 1e-12, 'radius'));
  close(corners[0][0], 0, 1e-12);
  close(corners[0][1], 3, 1e-12);
  for (let k = 0; k < dims; k++) {
    const [p, q] = [corners[k], corners[(k + 1) % dims]];
    close(Math.hypot(p[0] - q[0], p[1] - q[1]), 2 * 3 * Math.sin(Math.PI / dims), 1e-12, 'edge');
  }
});

test('PCA plane: the leading eigenvectors of the sample covariance, in order', () => {
  const random = new Random(11);
  const dims = 5;
  // Variance 25 along (1,1,0,0,0)/√2, 4 along e_2, 0.01 elsewhere.
  const points = Array.from({ length: 400 }, () => {
    const [s, t] = [random.next() * 2 - 1, random.next() * 2 - 1].map((v) => v * Math.sqrt(3));
    const z = Array.from({ length: dims }, () => (random.next() * 2 - 1) * 0.1 * Math.sqrt(3));
    z[0] += (5 * s) / Math.SQRT2 + 10;
    z[1] += (5 * s) / Math.SQRT2;
    z[2] += 2 * t;
    return z;
  });
  const plane = principalPlane(points, dims);
  const [v1, v2] = plane.basis;
  close(Math.abs(v1[0] + v1[1]) / Math.SQRT2, 1, 1e-2, 'first component');
  close(Math.abs(v2[2]), 1, 1e-2, 'second component');
  close(v1.reduce((s, v, i) => s + v * v2[i], 0), 0, 1e-9, 'orthogonal');
  // Projected coordinates are centred and their variances are the covariance's top eigenvalues.
  const projected = points.map((z) => project(plane, z));
  const variance = (i: 0 | 1) => projected.reduce((s, p) => s + p[i] * p[i], 0) / (points.length - 1);
  close(projected.reduce((s, p) => s + p[0], 0) / points.length, 0, 1e-9, 'mean');
  assert.ok(variance(0) > variance(1) && variance(1) > 1, `${variance(0)} ${variance(1)}`);
  assert.throws(() => principalPlane([[1, 2]], 2), /at least 2 points/);
});

test('vertex scale: μ_T for GCCS, the mean own output for cross-entropy', () => {
  assert.equal(vertexScale(70, []), 70);
  assert.equal(vertexScale(null, [{ label: 0, z: [4, 0] }, { label: 0, z: [6, 1] }, { label: 1, z: [0, 10] }]), 7.5);
  assert.equal(vertexScale(null, []), 1);
});
