import { Random } from '../random';
import { studentTQuantile } from './studentT';

export interface SeparationRatio {
  /** Mean of r_AB over all ordered pairs (A, B), A ≠ B, of classes with ≥ 2 distinct latent vectors. */
  mean: number;
  /**
   * 95% Student-t interval of that mean over the ordered pairs (mean ± t₀.₉₇₅,ₚ₋₁·s/√p). It describes
   * how much r_AB varies between class pairs (as the paper's Table 3), not the sampling error of the
   * test set; the pairs share classes, so they are not independent draws.
   */
  ci95: [number, number];
  /** Number of ordered class pairs averaged (D·(D−1) when every class qualifies). */
  pairs: number;
}

/**
 * The inter/intra-class distance ratio of the paper (equations 4–6), over all samples: for classes
 * A (n samples) and B (m samples) of the latent vectors z [N, dims],
 *   d_intra(A)   = sqrt(Σ_{i∈A} Σ_{j∈A} ‖z_i − z_j‖²),
 *   d_inter(A,B) = sqrt(Σ_{i∈A} Σ_{j∈B} ‖z_i − z_j‖²),
 *   r_AB = d_inter(A,B) / d_intra(A),
 * averaged over every ordered pair A ≠ B. The double sums are exact, in float64, from each class's
 * count, mean and scatter W = Σ‖z_i − z̄‖² (the identity Σ‖a−b‖² = m·Σ‖a‖² + n·Σ‖b‖² − 2·Σa·Σb
 * taken about the class means, which avoids cancellation far from the origin):
 *   d_intra(A)²   = 2·n·W_A,
 *   d_inter(A,B)² = m·W_A + n·W_B + n·m·‖z̄_A − z̄_B‖².
 * As written, r_AB grows like √(m/n) with the class sizes; it is scale-free only for equal sizes.
 * Classes with fewer than 2 samples, or no spread (d_intra = 0), are left out.
 */
export function separationRatio(z: Float32Array, labels: Int32Array, dims: number): SeparationRatio {
  const classes = classMoments(z, labels, dims).filter((c) => c.count >= 2 && c.scatter > 0);
  const ratios: number[] = [];
  for (const a of classes) {
    const intraSquared = 2 * a.count * a.scatter;
    for (const b of classes) {
      if (a === b) continue;
      let centres = 0;
      for (let k = 0; k < dims; k++) centres += (a.mean[k] - b.mean[k]) ** 2;
      const interSquared = b.count * a.scatter + a.count * b.scatter + a.count * b.count * centres;
      ratios.push(Math.sqrt(interSquared / intraSquared));
    }
  }
  return { ...meanWithInterval(ratios), pairs: ratios.length };
}

interface ClassMoments {
  count: number;
  mean: Float64Array;
  /** Σ over the class's samples of ‖z_i − mean‖². */
  scatter: number;
}

/** Count, mean and scatter of each class, in float64 (two passes). */
function classMoments(z: Float32Array, labels: Int32Array, dims: number): ClassMoments[] {
  const classes = Array.from({ length: dims }, () => ({ count: 0, mean: new Float64Array(dims), scatter: 0 }));
  labels.forEach((label, i) => {
    const c = classes[label];
    c.count++;
    for (let k = 0; k < dims; k++) c.mean[k] += z[i * dims + k];
  });
  for (const c of classes) if (c.count) c.mean.forEach((s, k) => (c.mean[k] = s / c.count));
  labels.forEach((label, i) => {
    const c = classes[label];
    for (let k = 0; k < dims; k++) c.scatter += (z[i * dims + k] - c.mean[k]) ** 2;
  });
  return classes;
}

function meanWithInterval(values: number[]): { mean: number; ci95: [number, number] } {
  const p = values.length;
  if (p === 0) return { mean: NaN, ci95: [NaN, NaN] };
  const mean = values.reduce((s, r) => s + r, 0) / p;
  if (p === 1) return { mean, ci95: [mean, mean] };
  const variance = values.reduce((s, r) => s + (r - mean) ** 2, 0) / (p - 1);
  const half = studentTQuantile(0.975, p - 1) * Math.sqrt(variance / p);
  return { mean, ci95: [mean - half, mean + half] };
}

export interface MeanDistanceRatio {
  /** Mean over unordered class pairs of d̄_inter(A,B) / ((d̄_intra(A) + d̄_intra(B))/2), with mean (unsquared) distances. */
  mean: number;
  /** 95% Student-t interval over the pairs. */
  ci95: [number, number];
  pairs: number;
  /** Samples per class used (larger classes are subsampled, seeded). */
  samplesPerClassCap: number;
}

/** Classes above this many samples are subsampled by meanDistanceRatio (its cost is quadratic). */
export const MEAN_DISTANCE_SAMPLES_PER_CLASS = 500;

/**
 * The earlier, non-paper separation measure (what this project called r_AB before it followed the paper): the mean
 * Euclidean distance between samples of A and B over the mean of the two classes' mean distances
 * between their own samples, averaged over unordered pairs. Kept to compare with earlier results.
 */
export function meanDistanceRatio(z: Float32Array, labels: Int32Array, dims: number, seed = 0, cap = MEAN_DISTANCE_SAMPLES_PER_CLASS): MeanDistanceRatio {
  const byClass = groupByClass(labels, dims, seed, cap).filter((rows) => rows.length >= 2);
  const intra = byClass.map((rows) => meanDistance(z, dims, rows, rows, true));
  const ratios: number[] = [];
  for (let a = 0; a < byClass.length; a++) {
    for (let b = a + 1; b < byClass.length; b++) {
      ratios.push(meanDistance(z, dims, byClass[a], byClass[b], false) / ((intra[a] + intra[b]) / 2));
    }
  }
  return { ...meanWithInterval(ratios), pairs: ratios.length, samplesPerClassCap: cap };
}

function groupByClass(labels: Int32Array, numClasses: number, seed: number, cap: number): number[][] {
  const groups = Array.from({ length: numClasses }, () => [] as number[]);
  labels.forEach((label, i) => groups[label].push(i));
  const rng = new Random(seed);
  return groups.map((rows) => {
    if (rows.length <= cap) return rows;
    rng.shuffle(rows);
    return rows.slice(0, cap);
  });
}

function meanDistance(z: Float32Array, dims: number, rowsA: number[], rowsB: number[], samePairsOnly: boolean): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < rowsA.length; i++) {
    for (let j = samePairsOnly ? i + 1 : 0; j < rowsB.length; j++) {
      let d2 = 0;
      const a = rowsA[i] * dims;
      const b = rowsB[j] * dims;
      for (let k = 0; k < dims; k++) d2 += (z[a + k] - z[b + k]) ** 2;
      sum += Math.sqrt(d2);
      count++;
    }
  }
  return sum / count;
}
