import * as tf from '../tf';
import { crossEntropyLoss } from './crossEntropy';
import { GCCS_DEFAULTS, GccsOptions, gccsLoss } from './gccs';

export { GCCS_DEFAULTS, convergedGccsLoss, convergedLossNote, gccsLoss, gccsWarnings } from './gccs';
export type { GccsOptions, KurtosisPenalty } from './gccs';
export { crossEntropyLoss } from './crossEntropy';

/** The training objective and its parameters, as stored in a model's gccs.json. */
export type LossConfig = ({ kind: 'gccs' } & GccsOptions) | { kind: 'crossentropy' };

/** A loss with the GCCS defaults filled in (for library callers; train() validates it with the rest of its configuration). */
export function lossConfig(kind: 'gccs' | 'crossentropy', overrides: Partial<GccsOptions> = {}): LossConfig {
  if (kind === 'crossentropy') return { kind };
  const given = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  return { kind, ...GCCS_DEFAULTS, ...given };
}

export function computeLoss(config: LossConfig, z: tf.Tensor2D, labels: Int32Array): tf.Scalar {
  return config.kind === 'gccs' ? gccsLoss(z, labels, config) : crossEntropyLoss(z, labels);
}

/** The decision rule of both losses: ŷ = argmax_i z_i. */
export function predict(z: tf.Tensor2D): tf.Tensor1D {
  return tf.argMax(z, 1) as tf.Tensor1D;
}
