/**
 * The one gradient core (as in Foolbox 3): loss on z → gradient with respect to the input →
 * normalise (sign for L∞, unit L2 norm for L2) → step → projection onto the ε-ball and the pixel
 * range [0, 1]. FGSM, PGD and TGSM are configurations of `gradientAttack`; APGD (apgd.ts) is built
 * from the same pieces. Every iterative attack returns, per sample, its most successful iterate
 * (BestIterate), not its last.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import { argmaxRows } from '../metrics/classification';
import { Random } from '../random';
import { ResolvedParams, ThreatModel, cancelled, classCount, logitsOf, outputsOf } from './common';
import { linearize } from './chainBackward';
import { attackLoss } from './objectives';

export type GradientConfig = Pick<ResolvedParams, 'eps' | 'norm' | 'steps' | 'stepSize' | 'randomStart' | 'restarts' | 'loss' | 'muT'> & {
  /** Descend the loss toward these classes (targeted) instead of ascending it away from the labels. */
  targets?: Int32Array;
};

/** Keeps a division by a zero norm (a black image, a zero gradient) finite. */
const TINY = 1e-12;

/** ‖x‖∞ of each sample as [B, 1, 1, 1]. */
export function maxAbs(x: tf.Tensor4D): tf.Tensor4D {
  return tf.max(tf.abs(x), [1, 2, 3], true) as tf.Tensor4D;
}

/** ‖x‖₂ of each sample as [B, 1, 1, 1]. */
export function l2Norm(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.sqrt(tf.sum(tf.square(x), [1, 2, 3], true))) as tf.Tensor4D;
}

/** ‖x‖ of each sample in the threat model's norm, [B, 1, 1, 1]: ε and step sizes are fractions of it. */
export function imageNorm(x: tf.Tensor4D, norm: ThreatModel): tf.Tensor4D {
  return norm === 'linf' ? maxAbs(x) : l2Norm(x);
}

/** The radius ε·‖x‖ of each sample's ball, [B, 1, 1, 1]. */
export function ballRadius(x: tf.Tensor4D, norm: ThreatModel, eps: number): tf.Tensor4D {
  return tf.tidy(() => tf.mul(imageNorm(x, norm), eps));
}

/**
 * Projects `candidate` onto the ball {x' : ‖x' − x‖ ≤ radius} and then [0, 1]. Clipping to [0, 1]
 * moves every value toward x (x is in [0, 1]), so it never leaves the ball.
 */
export function project(candidate: tf.Tensor4D, x: tf.Tensor4D, radius: tf.Tensor4D, norm: ThreatModel = 'linf'): tf.Tensor4D {
  return tf.tidy(() => {
    if (norm === 'linf') return tf.clipByValue(tf.minimum(tf.maximum(candidate, tf.sub(x, radius)), tf.add(x, radius)), 0, 1);
    const delta = tf.sub(candidate, x) as tf.Tensor4D;
    const shrink = tf.minimum(1, tf.div(radius, tf.add(l2Norm(delta), TINY)));
    return tf.clipByValue(tf.add(x, tf.mul(delta, shrink)), 0, 1);
  }) as tf.Tensor4D;
}

/** The steepest-ascent direction of unit size in the threat model: sign(g) for L∞, g/‖g‖₂ for L2. */
export function normalizeGradient(gradient: tf.Tensor4D, norm: ThreatModel): tf.Tensor4D {
  return tf.tidy(() => (norm === 'linf' ? tf.sign(gradient) : tf.div(gradient, tf.add(l2Norm(gradient), TINY)))) as tf.Tensor4D;
}

/**
 * The outputs z, the per-sample losses and their input gradient at x, from one forward and one
 * backward pass: for a chain of common layers the chain's own (chainBackward.ts: the loss's
 * gradient with respect to z, then the chain's backward), for any other model tf.grad's.
 */
export function lossAndGradient(
  model: tfl.LayersModel,
  x: tf.Tensor4D,
  lossOf: (z: tf.Tensor2D) => tf.Tensor1D,
): { z: Float32Array; loss: Float32Array; gradient: tf.Tensor4D } {
  let z: tf.Tensor2D | undefined;
  let loss: tf.Tensor1D | undefined;
  // Summing the per-sample losses keeps each sample's gradient its own.
  const total = (outputs: tf.Tensor) => {
    z = tf.keep(outputs as tf.Tensor2D);
    loss = tf.keep(lossOf(z));
    return tf.sum(loss);
  };
  const gradient = tf.tidy(() => {
    const chain = linearize(model, x);
    if (!chain) return tf.grad((input: tf.Tensor) => total(logitsOf(model, input)))(x);
    return chain.inputGradient(tf.grad(total)(chain.z) as tf.Tensor2D);
  }) as tf.Tensor4D;
  const values = { z: z!.dataSync() as Float32Array, loss: loss!.dataSync() as Float32Array, gradient };
  tf.dispose([z!, loss!]);
  return values;
}

/** A seeded random point of the ball: uniform in the L∞ cube; for L2, on the sphere in a uniform direction. */
export function randomPoint(x: tf.Tensor4D, radius: tf.Tensor4D, norm: ThreatModel, random: Random): tf.Tensor4D {
  const draws = new Float32Array(x.size).map(norm === 'linf' ? () => random.uniform(-1, 1) : () => random.normal());
  return tf.tidy(() => {
    const noise = tf.tensor(draws, x.shape) as tf.Tensor4D;
    const direction = norm === 'linf' ? noise : tf.div(noise, tf.add(l2Norm(noise), TINY));
    return project(tf.add(x, tf.mul(radius, direction)), x, radius, norm);
  });
}

/**
 * Each sample's most successful point so far: a misclassified one beats any other, and between
 * two that are both misclassified or both not, the higher score (the attack's loss, times −1 for
 * a targeted attack that descends it) wins.
 */
export class BestIterate {
  private best: tf.Tensor4D | null = null;
  readonly fooled: Uint8Array;
  readonly score: Float32Array;

  constructor(
    private readonly labels: Int32Array,
    private readonly dims: number,
  ) {
    this.fooled = new Uint8Array(labels.length);
    this.score = new Float32Array(labels.length).fill(-Infinity);
  }

  /** Offers `candidate` [B, ...] with its outputs z [B·D] and scores [B]. */
  offer(candidate: tf.Tensor4D, z: Float32Array, score: ArrayLike<number>): void {
    const predicted = argmaxRows(z, this.dims);
    const take = new Uint8Array(this.labels.length);
    this.labels.forEach((label, b) => {
      const fooled = predicted[b] !== label ? 1 : 0;
      if (this.best !== null && fooled < this.fooled[b]) return;
      if (this.best !== null && fooled === this.fooled[b] && !(score[b] > this.score[b])) return;
      take[b] = 1;
      this.fooled[b] = fooled;
      this.score[b] = score[b];
    });
    const previous = this.best;
    this.best =
      previous === null
        ? tf.clone(candidate)
        : tf.tidy(() => tf.where(tf.reshape(tf.tensor1d(take, 'bool'), [-1, 1, 1, 1]), candidate, previous) as tf.Tensor4D);
    previous?.dispose();
  }

  /** The best points; the caller owns them. */
  take(): tf.Tensor4D {
    if (this.best === null) throw new Error('BestIterate: nothing was offered');
    const best = this.best;
    this.best = null;
    return best;
  }
}

/**
 * FGSM, PGD and TGSM: `restarts` runs of `steps` steps of size stepSize·‖x‖ along the normalised
 * gradient, each projected onto the ball ε·‖x‖ and [0, 1]. The first run starts at x (or at a
 * random point with randomStart), later ones at random points. Returns each sample's best iterate
 * over all runs (never the start point).
 */
export async function gradientAttack(
  model: tfl.LayersModel,
  x: tf.Tensor4D,
  labels: Int32Array,
  config: GradientConfig,
  seed: number,
  signal?: AbortSignal,
): Promise<tf.Tensor4D> {
  const classes = config.targets ?? labels;
  const direction = config.targets ? -1 : 1;
  const lossOf = (z: tf.Tensor2D) => attackLoss(config.loss, z, classes, config.muT);
  const scoreOf = (loss: Float32Array) => (direction === 1 ? loss : loss.map((v) => -v));
  const [radius, step] = tf.tidy(
    () => [ballRadius(x, config.norm, config.eps), tf.mul(imageNorm(x, config.norm), config.stepSize * direction)] as tf.Tensor4D[],
  );
  const random = new Random(seed);
  const best = new BestIterate(labels, classCount(model));
  let stopped = false;
  for (let run = 0; run < config.restarts && !stopped; run++) {
    let adversarial = run > 0 || config.randomStart ? randomPoint(x, radius, config.norm, random) : tf.clone(x);
    for (let k = 0; k < config.steps && !stopped; k++) {
      const { z, loss, gradient } = lossAndGradient(model, adversarial, lossOf);
      if (k > 0) best.offer(adversarial, z, scoreOf(loss));
      const current = adversarial;
      adversarial = tf.tidy(() => project(tf.add(current, tf.mul(step, normalizeGradient(gradient, config.norm))), x, radius, config.norm));
      tf.dispose([current, gradient]);
      stopped = await cancelled(signal);
    }
    const last = adversarial;
    const z = outputsOf(model, last);
    const loss = tf.tidy(() => lossOf(tf.tensor2d(z, [labels.length, z.length / labels.length])).dataSync() as Float32Array);
    best.offer(last, z, scoreOf(loss));
    last.dispose();
  }
  tf.dispose([radius, step]);
  return best.take();
}
