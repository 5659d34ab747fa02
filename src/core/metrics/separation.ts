import { Random } from '../random';

export interface SeparationRatio {
  /** Mean of r_AB over all class pairs A < B. */
  mean: number;
  /** 95% confidence interval of that mean (normal approximation over the pairs). */
  ci95: [number, number];
  pairs: number;
  /** Samples per class used (classes larger than the cap are subsampled, seeded). */
  samplesPerClassCap: number;
}

const DEFAULT_CAP = 500;

/**
 * The inter/intra-class distance ratio of a latent space:
 *   d_inter(A,B) = mean over a∈A, b∈B of ‖z_a − z_b‖₂,
 *   d_intra(A)   = mean over pairs a≠a' in A of ‖z_a − z_a'‖₂,
 *   r_AB = d_inter(A,B) / ((d_intra(A) + d_intra(B)) / 2),
 * averaged over all pairs of classes that have ≥ 2 samples. Higher means classes are farther
 * apart relative to their spread.
 */
export function separationRatio(z: Float32Array, labels: Int32Array, dims: number, seed = 0, cap = DEFAULT_CAP): SeparationRatio {
  const byClass = groupByClass(labels, dims, seed, cap).filter((rows) => rows.length >= 2);
  const intra = byClass.map((rows) => meanDistance(z, dims, rows, rows, true));
  const ratios: number[] = [];
  for (let a = 0; a < byClass.length; a++) {
    for (let b = a + 1; b < byClass.length; b++) {
      ratios.push(meanDistance(z, dims, byClass[a], byClass[b], false) / ((intra[a] + intra[b]) / 2));
    }
  }
  const mean = ratios.reduce((s, r) => s + r, 0) / ratios.length;
  const variance = ratios.reduce((s, r) => s + (r - mean) ** 2, 0) / Math.max(1, ratios.length - 1);
  const half = 1.96 * Math.sqrt(variance / ratios.length);
  return { mean, ci95: [mean - half, mean + half], pairs: ratios.length, samplesPerClassCap: cap };
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
