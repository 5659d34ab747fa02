import type { OptimizerConfig } from './optimizer';

/**
 * Defaults that train the reference CNN stably with both losses. They differ from the paper's
 * setup (SGD, cosine decay from 0.01): with the GCCS loss, whose value starts near D·μ_T², plain
 * SGD at 0.01 diverges in the first epoch. Adam at 3e-3 with cosine decay trains both losses
 * stably; β2 = 0.99 (not 0.999) lets Adam forget the huge gradients of the first steps, whose
 * memory otherwise shrinks its steps for the rest of a short run. README lists every difference.
 */
export const TRAIN_DEFAULTS = {
  model: 'cnn',
  optimizer: { kind: 'adam', learningRate: 3e-3, momentum: 0.9, beta2: 0.99, weightDecay: 1e-3, clipNorm: null, schedule: 'cosine' } as OptimizerConfig,
  batchSize: 200,
  epochs: 20,
  seed: 0,
  validationFraction: 0.1,
};

/** The paper's fine-tuning: a trained model trained further at lr 1e-3 without decay. */
export const FINE_TUNE_DEFAULTS = {
  ...TRAIN_DEFAULTS,
  epochs: 5,
  optimizer: { ...TRAIN_DEFAULTS.optimizer, learningRate: 1e-3, schedule: 'constant' } as OptimizerConfig,
};
