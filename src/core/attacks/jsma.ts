/**
 * JSMA (Papernot et al. 2016), targeted, single-pixel saliency map, increasing features (θ = +1).
 * With α_i = ∂z_t/∂x_i and β_i = Σ_{j≠t} ∂z_j/∂x_i, the saliency of input value i is α_i·|β_i| when
 * α_i > 0 and β_i < 0, else 0. Each iteration sets the most salient value not yet changed (and below
 * 1) to 1. A sample stops when it reaches the target, when γ·(H·W·C) values have changed, or when no
 * value has positive saliency. "Pixels" here are input values: for colour images, one channel of a pixel.
 * One class-tiled backward pass per iteration gives the whole map: ∇z_t and ∇Σ_j z_j (β = the second − α).
 */
import * as tf from '../tf';
import { argmaxRows } from '../metrics/classification';
import { cancelled, classCount, defineAttack, oneHotRows, rowsTensor } from './common';
import { tiledInputGradients } from './packed';
import { targetClasses } from './objectives';

export const jsma = defineAttack<'jsma'>({
  run: async (model, x, labels, { target, maxIterations, gamma }, _seed, signal) => {
    const [batch, ...shape] = x.shape;
    const size = shape[0] * shape[1] * shape[2];
    const dims = classCount(model);
    const budget = Math.floor(gamma * size);
    const targets = targetClasses(model, x, labels, target);
    const adversarial = Float32Array.from(x.dataSync());
    const changed = new Uint8Array(batch * size);
    const counts = new Int32Array(batch);
    const ones = new Float32Array(batch * dims).fill(1);
    let active = [...Array(batch).keys()];

    for (let iteration = 0; iteration < maxIterations; iteration++) {
      active = active.filter((b) => counts[b] < budget);
      if (active.length === 0) break;
      // ∇z_t and ∇Σ_j z_j in one class-tiled pass whose forward also tells which samples reached their target.
      const input = rowsTensor(adversarial, active, shape);
      const { gradients, z } = tiledInputGradients(model, input, [oneHotRows(active.map((b) => targets[b]), dims), ones.subarray(0, active.length * dims)]);
      input.dispose();
      const reached = argmaxRows(z, dims);
      const alpha = gradients.subarray(0, active.length * size);
      const all = gradients.subarray(active.length * size);
      // Changes the most salient value of each sample still short of its target; one without such a value drops out.
      active = active.filter((b, i) => {
        if (reached[i] === targets[b]) return false;
        let best = -1;
        let bestSaliency = 0;
        for (let p = 0; p < size; p++) {
          const at = b * size + p;
          if (changed[at] || adversarial[at] >= 1) continue;
          const a = alpha[i * size + p];
          const beta = all[i * size + p] - a;
          if (a > 0 && beta < 0 && -a * beta > bestSaliency) {
            bestSaliency = -a * beta;
            best = at;
          }
        }
        if (best < 0) return false;
        adversarial[best] = 1;
        changed[best] = 1;
        counts[b]++;
        return true;
      });
      if (await cancelled(signal)) break;
    }
    return { adversarial: tf.tensor4d(adversarial, x.shape), changedPixelFraction: Float32Array.from(counts, (n) => n / size) };
  },
});
