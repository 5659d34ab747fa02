/**
 * SPSA (Uesato et al. 2018), gradient-free. The gradient of the margin loss max_{j≠y} z_j − z_y is
 * estimated from `samples` pairs of forward passes at x' ± δ·v, v Rademacher (±1 per input value):
 *   ĝ = (1/samples)·Σ_k (L(x'+δv_k) − L(x'−δv_k)) / (2δ) · v_k,
 * Adam ascends it, and each iterate is projected onto the ε-ball (‖n‖∞ ≤ ε·‖x‖∞) and [0, 1]. The
 * draws come from the seed. With earlyStop a sample stops moving once it is misclassified.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import { argmaxRows } from '../metrics/classification';
import { Random } from '../random';
import { cancelled, classCount, defineAttack, rowOutputs, rowsTensor } from './common';
import { maxAbs, project } from './gradientCore';
import { attackLoss } from './objectives';
import { rowsPerPass } from './packed';
import { signPairLogits } from './signPairs';

const BETA1 = 0.9;
const BETA2 = 0.999;
const ADAM_EPSILON = 1e-8;

export const spsa = defineAttack<'spsa'>({
  run: async (model, x, labels, { eps, iterations, samples, delta, learningRate, earlyStop }, seed, signal) => {
    const [batch, ...shape] = x.shape;
    const size = shape[0] * shape[1] * shape[2];
    const dims = classCount(model);
    const random = new Random(seed);
    const radius = tf.tidy(() => tf.mul(maxAbs(x), eps) as tf.Tensor4D);
    const moment1 = new Float32Array(batch * size);
    const moment2 = new Float32Array(batch * size);
    let adversarial = tf.clone(x);
    let active = [...Array(batch).keys()];

    for (let t = 1; t <= iterations; t++) {
      const current = adversarial.dataSync() as Float32Array;
      if (earlyStop) {
        const predictions = argmaxRows(rowOutputs(model, current, active, shape), dims);
        active = active.filter((b, i) => predictions[i] === labels[b]);
        if (active.length === 0) break;
      }
      const base = rowsTensor(current, active, shape);
      const gradient = estimateGradient(model, base, active.map((b) => labels[b]), samples, delta, random);
      base.dispose();
      const step = new Float32Array(batch * size);
      active.forEach((b, i) => {
        for (let p = 0; p < size; p++) {
          const g = gradient[i * size + p];
          const at = b * size + p;
          moment1[at] = BETA1 * moment1[at] + (1 - BETA1) * g;
          moment2[at] = BETA2 * moment2[at] + (1 - BETA2) * g * g;
          const corrected1 = moment1[at] / (1 - BETA1 ** t);
          const corrected2 = moment2[at] / (1 - BETA2 ** t);
          step[at] = (learningRate * corrected1) / (Math.sqrt(corrected2) + ADAM_EPSILON);
        }
      });
      const previous = adversarial;
      adversarial = tf.tidy(() => project(tf.add(previous, tf.tensor4d(step, x.shape)), x, radius));
      previous.dispose();
      if (await cancelled(signal)) break;
    }
    radius.dispose();
    return { adversarial };
  },
});

/**
 * ĝ for each row of `base` [A, ...] from `samples` ± pairs. The pairs' forward passes are packed:
 * as many pairs as fit in one pass (rows: pair k's A plus rows, then its A minus rows). The
 * directions are drawn pair after pair and ĝ summed in the same order as one pass per pair would.
 */
function estimateGradient(model: tfl.LayersModel, base: tf.Tensor4D, labels: number[], samples: number, delta: number, random: Random): Float32Array {
  const count = labels.length;
  const size = base.size / count;
  const gradient = new Float32Array(base.size);
  const pairsPerPass = Math.max(1, Math.floor(rowsPerPass(size) / (2 * count)));
  for (let first = 0; first < samples; first += pairsPerPass) {
    const pairs = Math.min(pairsPerPass, samples - first);
    const directions = random.signs(new Float32Array(pairs * base.size));
    const marginLosses = tf.tidy(() => {
      const pairLabels = Int32Array.from({ length: pairs * 2 * count }, (_, row) => labels[row % count]);
      return attackLoss('margin', signPairLogits(model, base, directions, pairs, delta), pairLabels, 0);
    });
    const losses = marginLosses.dataSync();
    marginLosses.dispose();
    for (let k = 0; k < pairs; k++) {
      for (let i = 0; i < count; i++) {
        const scale = (losses[2 * k * count + i] - losses[(2 * k + 1) * count + i]) / (2 * delta * samples);
        for (let p = i * size; p < (i + 1) * size; p++) gradient[p] += scale * directions[k * base.size + p];
      }
    }
  }
  return gradient;
}
