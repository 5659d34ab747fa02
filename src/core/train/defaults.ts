import type { OptimizerConfig } from './options';

/**
 * Defaults that train the reference CNN stably with both losses and, with GCCS, give the most
 * compact classes we measured on the MNIST sample (README › Results). They differ from the paper's
 * setup (SGD, cosine decay from 0.01, batch 200, no augmentation): with the GCCS loss, whose value
 * starts near D·μ_T², plain SGD at 0.01 diverges in the first epoch. Adam with cosine decay trains
 * both losses; a two-epoch warm-up lets it reach 2e-2 without killing the ReLUs; β2 = 0.99 (not
 * 0.999) lets it forget the huge gradients of the first steps; batch 100 doubles the steps of a
 * 20-epoch run; shifts of one pixel and decoupled weight decay 0.05 narrow the gap between the
 * training and the test images' latent spread. README lists every difference.
 */
export const TRAIN_DEFAULTS = {
  model: 'cnn',
  optimizer: { kind: 'adam', learningRate: 2e-2, momentum: 0.9, beta2: 0.99, weightDecay: 0.05, clipNorm: null, schedule: 'cosine', warmupEpochs: 2 } as OptimizerConfig,
  batchSize: 100,
  epochs: 20,
  seed: 0,
  validationFraction: 0.1,
  augmentShift: 1,
  workers: 1,
};

/** The paper's fine-tuning: a trained model trained further at lr 1e-3 without decay. */
export const FINE_TUNE_DEFAULTS = {
  ...TRAIN_DEFAULTS,
  epochs: 5,
  optimizer: { ...TRAIN_DEFAULTS.optimizer, learningRate: 1e-3, schedule: 'constant', warmupEpochs: 0 } as OptimizerConfig,
};

/**
 * The defences' weights λ (README › Defences). JR: Hoffman, Roberts & Yaida (2019) train MNIST with
 * λ_JR = 0.01 and one random projection, the penalty being (λ_JR/2)·‖J‖²_F. IGR (Ross & Doshi-Velez
 * 2018) and CLR (Hein & Andriushchenko 2017) choose λ per dataset by validation and report no single
 * value to copy; 1 for IGR and 0.1 for CLR are our choices for the MNIST sample (measured there:
 * README › Defences), with CLR normalised as in Hein & Andriushchenko's code (1/D² over class pairs).
 */
export const DEFENCE_DEFAULTS = {
  jr: { weight: 0.01, projections: 1 },
  igr: { weight: 1 },
  clr: { weight: 0.1 },
} as const;

/** Adversarial training as the paper's §5: FGSM at ε = 0.03 (relative); PGD takes 7 steps (Madry et al.'s MNIST count is 40; 7 is their CIFAR one, cheaper). */
export const ADVERSARIAL_DEFAULTS = { method: 'fgsm', eps: 0.03, pgdSteps: 7 } as const;
