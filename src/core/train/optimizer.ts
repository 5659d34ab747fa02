import * as tf from '../tf';
import { UserError } from '../errors';
import type { OptimizerConfig } from './options';

/**
 * The rate of step `step` (from 0): cosine decay from the initial rate to 0 over the whole run (the
 * paper's schedule) or constant, times a linear ramp from 1/W to 1 over the first W = warmupEpochs ×
 * stepsPerEpoch steps. The ramp keeps a high rate from killing the ReLUs in the first steps, where
 * the GCCS loss (≈ D·μ_T²) gives every weight a large, coherent update.
 */
export function learningRateAt(config: OptimizerConfig, step: number, totalSteps: number, stepsPerEpoch: number): number {
  const warmupSteps = Math.round(config.warmupEpochs * stepsPerEpoch);
  const ramp = Math.min(1, (step + 1) / Math.max(1, warmupSteps));
  if (config.schedule === 'constant') return config.learningRate * ramp;
  return 0.5 * config.learningRate * (1 + Math.cos((Math.PI * Math.min(step, totalSteps)) / totalSteps)) * ramp;
}

const ADAM_BETA1 = 0.9;
const ADAM_EPSILON = 1e-7;

/**
 * SGD (with momentum) and Adam on a list of variables, written out here rather than taken from
 * tf.train so that weight decay, clipping and the state saved in checkpoints are all explicit.
 */
export class Optimizer {
  /** Adam: first and second moments; SGD: the momentum buffer (second unused). */
  private readonly slots: tf.Variable[][];
  private steps = 0;

  constructor(private readonly config: OptimizerConfig, private readonly variables: tf.Variable[]) {
    const slotCount = config.kind === 'adam' ? 2 : config.momentum > 0 ? 1 : 0;
    this.slots = variables.map((v) => Array.from({ length: slotCount }, () => zeroSlot(v)));
  }

  get stepCount(): number {
    return this.steps;
  }

  apply(gradients: tf.Tensor[], learningRate: number): void {
    this.steps++;
    const { config } = this;
    tf.tidy(() => {
      const scale = config.clipNorm === null ? null : clipScale(gradients, config.clipNorm);
      this.variables.forEach((variable, i) => {
        let g = scale ? tf.mul(gradients[i], scale) : gradients[i];
        if (config.kind === 'adam') {
          const [m, v] = this.slots[i];
          m.assign(tf.add(tf.mul(m, ADAM_BETA1), tf.mul(g, 1 - ADAM_BETA1)));
          v.assign(tf.add(tf.mul(v, config.beta2), tf.mul(tf.square(g), 1 - config.beta2)));
          const mHat = tf.div(m, 1 - ADAM_BETA1 ** this.steps);
          const vHat = tf.div(v, 1 - config.beta2 ** this.steps);
          const update = tf.add(tf.div(mHat, tf.add(tf.sqrt(vHat), ADAM_EPSILON)), tf.mul(variable, config.weightDecay));
          variable.assign(tf.sub(variable, tf.mul(update, learningRate)));
        } else {
          if (config.weightDecay > 0) g = tf.add(g, tf.mul(variable, config.weightDecay));
          if (config.momentum > 0) {
            const [buffer] = this.slots[i];
            buffer.assign(tf.add(tf.mul(buffer, config.momentum), g));
            g = buffer;
          }
          variable.assign(tf.sub(variable, tf.mul(g, learningRate)));
        }
      });
    });
  }

  /** The optimizer's state as plain arrays, for checkpoints. */
  saveState(): { steps: number; slots: Float32Array[] } {
    return { steps: this.steps, slots: this.slots.flat().map((slot) => slot.dataSync() as Float32Array) };
  }

  loadState(state: { steps: number; slots: Float32Array[] }): void {
    const flat = this.slots.flat();
    if (flat.length !== state.slots.length) throw new UserError('checkpoint optimizer state does not match this optimizer');
    flat.forEach((slot, i) => tf.tidy(() => slot.assign(tf.tensor(state.slots[i], slot.shape))));
    this.steps = state.steps;
  }

  dispose(): void {
    this.slots.flat().forEach((slot) => slot.dispose());
  }
}

/** min(1, maxNorm / ‖g‖₂) over all gradients, as a tensor so no value leaves the backend. */
function clipScale(gradients: tf.Tensor[], maxNorm: number): tf.Scalar {
  const norm = tf.sqrt(tf.addN(gradients.map((g) => tf.sum(tf.square(g)))));
  return tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-12))) as tf.Scalar;
}

/** A zero variable shaped like v; its initial tensor is disposed (a variable keeps its own reference to the data). */
function zeroSlot(v: tf.Variable): tf.Variable {
  const zeros = tf.zerosLike(v);
  const slot = tf.variable(zeros, false);
  zeros.dispose();
  return slot;
}
