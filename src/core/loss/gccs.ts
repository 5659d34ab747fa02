import * as tf from '../tf';
import type { GccsOptions } from '../catalog';
import { batchedLogDet } from './logdet';

// The options and their defaults (the paper's) live in the catalog, which the schemas and the attacks read too.
export { GCCS_DEFAULTS } from '../catalog';
export type { GccsOptions, KurtosisPenalty } from '../catalog';
// What a converged loss looks like (no TensorFlow.js there: the extension host shows it too).
export { convergedGccsLoss, convergedLossNote } from './converged';

/** Batches below this many samples per class (on average) estimate each class's statistics poorly. */
const MIN_SAMPLES_PER_CLASS = 4;

/**
 * Warnings about a GCCS configuration: the paper asks μ_T/σ_T > √(2D) so the classes separate, and
 * each class's mean and D×D covariance come from its few samples in a batch.
 */
export function gccsWarnings(options: GccsOptions, numClasses: number, batchSize: number): string[] {
  const warnings: string[] = [];
  const bound = Math.sqrt(2 * numClasses);
  if (options.muT / options.sigmaT <= bound) {
    warnings.push(`μ_T/σ_T = ${(options.muT / options.sigmaT).toFixed(3)} ≤ √(2D) = ${bound.toFixed(3)}: the target Gaussians overlap; raise μ_T or lower σ_T`);
  }
  if (batchSize < MIN_SAMPLES_PER_CLASS * numClasses) {
    warnings.push(`batch size ${batchSize} gives about ${(batchSize / numClasses).toFixed(1)} samples per class: GCCS estimates each class's mean and covariance from them and skips classes with fewer than 2; use a batch size of ${MIN_SAMPLES_PER_CLASS * numClasses} or more`);
  }
  return warnings;
}

/**
 * The GCCS loss of a batch: Σ over classes i with ≥ 2 samples of
 *   log(|Σ_T|/|Σ_Oi|) − D + tr(Σ_T⁻¹Σ_Oi) + (μ_Ti−μ_Oi)ᵀΣ_T⁻¹(μ_Ti−μ_Oi) + λ·penalty(K_i − 3),
 * with Σ_T = σ_T²I, μ_Ti = μ_T·e_i, batch statistics by maximum likelihood (divide by n_i)
 * plus the ridge, and K_i the mean over dimensions of the standardised fourth moment.
 * All classes are computed at once with a one-hot mask, so the cost does not grow with a loop.
 */
export function gccsLoss(z: tf.Tensor2D, labels: Int32Array, options: GccsOptions): tf.Scalar {
  return tf.tidy(() => {
    const [batch, dims] = z.shape;
    // The batch's constants are built here in JavaScript: each op saved is a kernel call in the
    // forward pass and several in the backward pass.
    const oneHot = new Float32Array(batch * dims);
    const counts = new Float32Array(dims);
    labels.forEach((label, b) => {
      oneHot[b * dims + label] = 1;
      counts[label]++;
    });
    const active = tf.tensor1d(counts.map((n) => (n >= 2 ? 1 : 0)));
    const inverseCounts = tf.tensor2d(counts.map((n) => 1 / Math.max(n, 1)), [dims, 1]); // 1/n_k

    const sigma2 = options.sigmaT * options.sigmaT;
    const ridge = options.ridge * sigma2;
    const mask = tf.tensor2d(oneHot, [batch, dims]); // [B, K]
    const classMean = (values: tf.Tensor) => tf.mul(tf.matMul(mask, values as tf.Tensor2D, true, false), inverseCounts); // Σ_b mask_bk v_b / n_k
    const classMeans = classMean(z); // [K, D]
    const centred = tf.sub(z, tf.matMul(mask, classMeans)); // each row minus its class mean

    // Σ_k = Σ_b mask_bk c_b c_bᵀ / n_k: per-sample outer products, summed per class by one matmul.
    const outer = tf.reshape(tf.mul(tf.expandDims(centred, 2), tf.expandDims(centred, 1)), [batch, dims * dims]);
    const eye = tf.eye(dims);
    const covariances = tf.add(tf.reshape(classMean(outer), [dims, dims, dims]), tf.mul(eye, ridge)) as tf.Tensor3D;

    const squared = tf.square(centred);
    const m2 = tf.add(classMean(squared), ridge); // [K, D]
    const m4 = classMean(tf.square(squared));
    const kurtosis = tf.mean(tf.div(m4, tf.square(m2)), 1); // [K]

    const logDetTarget = dims * Math.log(sigma2);
    const targets = tf.mul(eye, options.muT);
    const kl = tf.addN([
      tf.sub(logDetTarget - dims, batchedLogDet(covariances)),
      tf.div(tf.sum(m2, 1), sigma2),
      tf.div(tf.sum(tf.square(tf.sub(targets, classMeans)), 1), sigma2),
    ]);
    const excess = tf.sub(kurtosis, 3);
    const penalty = options.kurtosis === 'linear' ? excess : options.kurtosis === 'abs' ? tf.abs(excess) : tf.square(excess);
    return tf.sum(tf.mul(tf.add(kl, tf.mul(penalty, options.lambda)), active)) as tf.Scalar;
  });
}
