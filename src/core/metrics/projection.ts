/**
 * 2-D views of the latent space z ∈ R^D for the latent panel. Pure arithmetic (float64, no
 * TensorFlow.js, no Node): the webview bundles it, the tests check it against a float64 reference.
 *
 * Every view is an affine map p = B·(z − o) with two orthonormal rows B (or, for the simplex
 * layout, two rows that place each vertex on a regular D-gon), so clean and attacked points and the
 * simplex vertices μ_T·e_i all go through the same map and distances stay comparable.
 */

export type ProjectionKind = 'vertices' | 'simplex' | 'pca';

export interface Projection {
  kind: ProjectionKind;
  /** Two rows of length D. */
  basis: [number[], number[]];
  /** Length D: the point mapped to (0, 0). */
  origin: number[];
  /** Axis titles for the chart. */
  axes: [string, string];
}

export const project = (p: Projection, z: ArrayLike<number>): [number, number] => {
  let x = 0;
  let y = 0;
  for (let j = 0; j < p.origin.length; j++) {
    const d = z[j] - p.origin[j];
    x += p.basis[0][j] * d;
    y += p.basis[1][j] * d;
  }
  return [x, y];
};

const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
const norm = (a: number[]) => Math.sqrt(dot(a, a));
const unit = (dims: number, i: number) => Array.from({ length: dims }, (_, j) => (j === i ? 1 : 0));

/**
 * The plane of the chosen classes' simplex vertices (the paper's Figure 3). Three classes a, b, c:
 * the affine plane through μ_T·e_a, μ_T·e_b, μ_T·e_c, origin at their centroid, first axis along
 * e_b − e_a, second its Gram–Schmidt complement towards e_c. Two classes: the plane through the
 * origin and both vertices, axes e_a and e_b (so the axes read z_a and z_b).
 */
export function vertexPlane(dims: number, classes: number[], scale: number): Projection {
  if (classes.length !== 2 && classes.length !== 3) throw new Error(`the vertex plane needs 2 or 3 classes (got ${classes.length})`);
  for (const k of classes) if (!Number.isInteger(k) || k < 0 || k >= dims) throw new Error(`class ${k} is not one of the ${dims} classes`);
  if (new Set(classes).size !== classes.length) throw new Error('the classes must differ');
  if (classes.length === 2) {
    const [a, b] = classes;
    return { kind: 'vertices', basis: [unit(dims, a), unit(dims, b)], origin: new Array<number>(dims).fill(0), axes: [`z${a}`, `z${b}`] };
  }
  const [a, b, c] = classes.map((k) => unit(dims, k).map((v) => v * scale));
  const origin = a.map((_, j) => (a[j] + b[j] + c[j]) / 3);
  const d1 = b.map((v, j) => v - a[j]);
  const u1 = d1.map((v) => v / norm(d1));
  const d2 = c.map((v, j) => v - a[j]);
  const along = dot(d2, u1);
  const r2 = d2.map((v, j) => v - along * u1[j]);
  const u2 = r2.map((v) => v / norm(r2));
  return { kind: 'vertices', basis: [u1, u2], origin, axes: [`along z${classes[1]} − z${classes[0]}`, `towards z${classes[2]}`] };
}

/**
 * All classes at once: vertex μ_T·e_i lands on corner i of a regular D-gon of radius μ_T (class 0
 * at the top, clockwise), z maps linearly. Not orthonormal for D > 3, but every vertex is visible.
 */
export function simplexLayout(dims: number): Projection {
  const angle = (i: number) => Math.PI / 2 - (2 * Math.PI * i) / dims;
  return {
    kind: 'simplex',
    basis: [Array.from({ length: dims }, (_, i) => Math.cos(angle(i))), Array.from({ length: dims }, (_, i) => Math.sin(angle(i)))],
    origin: new Array<number>(dims).fill(0),
    axes: ['simplex layout x', 'simplex layout y'],
  };
}

/** The two leading principal components of the points (rows of length D), by power iteration with deflation. */
export function principalPlane(points: ArrayLike<number>[], dims: number): Projection {
  if (points.length < 2) throw new Error('PCA needs at least 2 points');
  const mean = new Array<number>(dims).fill(0);
  for (const z of points) for (let j = 0; j < dims; j++) mean[j] += z[j] / points.length;
  const cov = Array.from({ length: dims }, () => new Array<number>(dims).fill(0));
  for (const z of points) {
    for (let i = 0; i < dims; i++) {
      const di = z[i] - mean[i];
      for (let j = 0; j < dims; j++) cov[i][j] += (di * (z[j] - mean[j])) / (points.length - 1);
    }
  }
  const components: number[][] = [];
  for (let c = 0; c < 2; c++) {
    // A fixed, generic start vector: deterministic, and not orthogonal to a component in practice.
    let v = Array.from({ length: dims }, (_, j) => 1 + j / dims);
    for (let iteration = 0; iteration < 500; iteration++) {
      for (const u of components) {
        const along = dot(v, u);
        v = v.map((x, j) => x - along * u[j]);
      }
      const next = cov.map((row) => dot(row, v));
      const length = norm(next);
      if (length === 0) break;
      const moved = next.reduce((s, x, j) => s + Math.abs(x / length - v[j]), 0);
      v = next.map((x) => x / length);
      if (moved < 1e-12) break;
    }
    if (norm(v) === 0 || components.some((u) => Math.abs(dot(u, v)) > 1e-6)) v = unit(dims, c);
    components.push(v.map((x) => x / norm(v)));
  }
  return { kind: 'pca', basis: [components[0], components[1]], origin: mean, axes: ['PC 1', 'PC 2'] };
}

/**
 * The simplex scale to draw the vertices at: μ_T for a GCCS model; otherwise (cross-entropy) the
 * mean over classes of each class's mean own output z_k, so its "vertices" sit where its classes do.
 */
export function vertexScale(muT: number | null, samples: { label: number; z: number[] }[]): number {
  if (muT !== null && muT > 0) return muT;
  const sums = new Map<number, { sum: number; n: number }>();
  for (const { label, z } of samples) {
    const s = sums.get(label) ?? { sum: 0, n: 0 };
    s.sum += z[label];
    s.n++;
    sums.set(label, s);
  }
  const means = [...sums.values()].map((s) => s.sum / s.n);
  const scale = means.reduce((a, b) => a + b, 0) / Math.max(1, means.length);
  return Number.isFinite(scale) && scale > 0 ? scale : 1;
}

/** Vertex μ·e_k as a point of R^D. */
export const vertex = (dims: number, k: number, scale: number) => unit(dims, k).map((v) => v * scale);
