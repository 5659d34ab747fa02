export interface ClassLatentStats {
  classIndex: number;
  count: number;
  mean: number[];
  /** D×D maximum-likelihood covariance. */
  covariance: number[][];
  /** Mean over dimensions of the standardised fourth moment (3 for a Gaussian). */
  kurtosis: number;
  /** ‖mean − μ_T·e_i‖₂: how far the class centre is from its simplex vertex. */
  distanceToVertex: number;
}

/** Per-class statistics of the latent vectors z [N, D], for classes with ≥ 1 sample. */
export function latentStats(z: Float32Array, labels: Int32Array, dims: number, muT: number): ClassLatentStats[] {
  const stats: ClassLatentStats[] = [];
  for (let k = 0; k < dims; k++) {
    const rows: number[] = [];
    labels.forEach((label, i) => label === k && rows.push(i));
    if (!rows.length) continue;
    const n = rows.length;
    const mean = new Array<number>(dims).fill(0);
    for (const r of rows) for (let j = 0; j < dims; j++) mean[j] += z[r * dims + j] / n;
    const covariance = Array.from({ length: dims }, () => new Array<number>(dims).fill(0));
    const fourth = new Array<number>(dims).fill(0);
    for (const r of rows) {
      for (let i = 0; i < dims; i++) {
        const di = z[r * dims + i] - mean[i];
        fourth[i] += di ** 4 / n;
        for (let j = 0; j < dims; j++) covariance[i][j] += (di * (z[r * dims + j] - mean[j])) / n;
      }
    }
    const kurtosis = fourth.reduce((s, m4, j) => s + (covariance[j][j] > 0 ? m4 / covariance[j][j] ** 2 : 0), 0) / dims;
    const distanceToVertex = Math.sqrt(mean.reduce((s, m, j) => s + (m - (j === k ? muT : 0)) ** 2, 0));
    stats.push({ classIndex: k, count: n, mean, covariance, kurtosis, distanceToVertex });
  }
  return stats;
}
