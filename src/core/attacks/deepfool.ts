/**
 * DeepFool (Moosavi-Dezfooli et al. 2016), multi-class, L2. Each iteration linearises the network at
 * the current point and steps onto the nearest linearised boundary among the candidate classes:
 *   l = argmin_{k≠y} |f_k|/‖w_k‖,  r_i = (|f_l| + 1e-4)·w_l/‖w_l‖²,  f_k = z_k − z_y,  w_k = ∇z_k − ∇z_y.
 * Candidates are the true class and the 9 other classes scoring highest on the clean image (all of
 * them when D ≤ 10), as in the authors' code; the 1e-4, also theirs, keeps a sample lying on a
 * boundary from stalling. The output is clip(x + (1 + overshoot)·Σr_i, 0, 1), and a sample stops as
 * soon as it is misclassified, so one misclassified from the start is returned unchanged (norm 0).
 */
import * as tf from '../tf';
import { argmaxRows } from '../metrics/classification';
import { cancelled, classCount, defineAttack, outputsOf, rowOutputs, rowsTensor } from './common';
import { tiledInputGradients } from './packed';

const CANDIDATES = 10;

export const deepfool = defineAttack<'deepfool'>({
  run: async (model, x, labels, { overshoot, maxIterations }, _seed, signal) => {
    const [batch, ...shape] = x.shape;
    const size = shape[0] * shape[1] * shape[2];
    const dims = classCount(model);
    const clean = Float32Array.from(x.dataSync());
    const adversarial = Float32Array.from(clean);
    const total = new Float32Array(batch * size);
    const z = outputsOf(model, x); // z of each sample at its current point
    const ranks = Math.min(CANDIDATES, dims);
    const candidates = Array.from({ length: batch }, (_, b) => candidateClasses(z.subarray(b * dims, (b + 1) * dims), labels[b], ranks));
    let active = stillCorrect(z, labels, dims, [...Array(batch).keys()]);

    for (let iteration = 0; iteration < maxIterations && active.length > 0; iteration++) {
      const input = rowsTensor(adversarial, active, shape);
      // Every w_k in one class-tiled pass, as ∇(z_k − z_y): row i of differences[r − 1] is w_k of sample active[i]'s r-th candidate k.
      const weights = Array.from({ length: ranks - 1 }, (_, r) => candidateDifference(active.map((b) => candidates[b]), r + 1, dims));
      const tiled = tiledInputGradients(model, input, weights);
      input.dispose();
      const rows = active.length * size;
      const differences = weights.map((_, r) => tiled.gradients.subarray(r * rows, (r + 1) * rows));
      // A sample none of whose candidate scores moves with the input has nothing to follow: it drops out.
      active = active.filter((b, i) => {
        const step = nearestBoundaryStep(differences, i * size, size, candidates[b].map((k) => z[b * dims + k]));
        if (!step) return false;
        for (let p = 0; p < size; p++) {
          const at = b * size + p;
          total[at] += step[p];
          adversarial[at] = Math.min(Math.max(clean[at] + (1 + overshoot) * total[at], 0), 1);
        }
        return true;
      });
      rowOutputs(model, adversarial, active, shape).forEach((value, j) => (z[active[Math.floor(j / dims)] * dims + (j % dims)] = value));
      active = stillCorrect(z, labels, dims, active);
      if (await cancelled(signal)) break;
    }

    const perturbationNorms = new Float32Array(batch).map((_, b) => {
      let sum = 0;
      for (let p = b * size; p < (b + 1) * size; p++) sum += (adversarial[p] - clean[p]) ** 2;
      return Math.sqrt(sum);
    });
    return { adversarial: tf.tensor4d(adversarial, x.shape), perturbationNorms };
  },
});

/** The true class first, then the highest-scoring others. */
function candidateClasses(z: Float32Array, label: number, count: number): number[] {
  const others = [...z.keys()].filter((k) => k !== label).sort((a, b) => z[b] - z[a]);
  return [label, ...others.slice(0, count - 1)];
}

/** The samples among `rows` still classified as their label. */
function stillCorrect(z: Float32Array, labels: Int32Array, dims: number, rows: number[]): number[] {
  const predictions = argmaxRows(z, dims);
  return rows.filter((b) => predictions[b] === labels[b]);
}

/** Weights [A, D] of z_k − z_y for each sample's `rank`-th candidate k (its candidates[0] is y). */
function candidateDifference(candidates: number[][], rank: number, dims: number): Float32Array {
  const rows = new Float32Array(candidates.length * dims);
  candidates.forEach((classes, b) => {
    rows[b * dims + classes[rank]] = 1;
    rows[b * dims + classes[0]] = -1;
  });
  return rows;
}

/**
 * r_i for one sample: `differences[k − 1]` holds w_k = ∇(z_k − z_y) of its k-th candidate at
 * `offset`, `scores` the candidates' z (true class first). Undefined when every w_k is zero.
 */
function nearestBoundaryStep(differences: Float32Array[], offset: number, size: number, scores: number[]): Float32Array | undefined {
  let best: { w: Float32Array; f: number; norm2: number } | undefined;
  for (let k = 1; k < scores.length; k++) {
    const w = differences[k - 1].subarray(offset, offset + size);
    const norm2 = w.reduce((sum, v) => sum + v * v, 0);
    const f = Math.abs(scores[k] - scores[0]);
    if (norm2 > 0 && (!best || f / Math.sqrt(norm2) < best.f / Math.sqrt(best.norm2))) best = { w, f, norm2 };
  }
  return best && best.w.map((v) => ((best.f + 1e-4) / best.norm2) * v);
}
