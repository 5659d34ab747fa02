/**
 * The optimizer's and adversarial training's settings, without TensorFlow.js: the training
 * configuration (./config.ts), the defaults (./defaults.ts) and a saved model's gccs.json
 * (io/modelLocation.ts) use them; ./optimizer.ts and ./adversarial.ts implement them.
 */

export interface OptimizerConfig {
  kind: 'adam' | 'sgd';
  learningRate: number;
  /** SGD only: heavy-ball momentum (0 = plain SGD). */
  momentum: number;
  /** Adam only: decay of the second-moment estimate. */
  beta2: number;
  /** SGD: L2 added to the gradient (as the paper's setup); Adam: decoupled (AdamW). */
  weightDecay: number;
  /** Rescale gradients whose global L2 norm exceeds this (null = never). */
  clipNorm: number | null;
  schedule: 'cosine' | 'constant';
  /** Ramp the rate up linearly over this many epochs at the start (0 = none); the schedule goes on underneath. */
  warmupEpochs: number;
}

export const ADVERSARIAL_METHODS = ['fgsm', 'pgd'] as const;
export type AdversarialMethod = (typeof ADVERSARIAL_METHODS)[number];

export interface AdversarialConfig {
  method: AdversarialMethod;
  /** Relative L∞ radius: ‖x_adv − x‖∞ ≤ eps·‖x‖∞. */
  eps: number;
  /** PGD steps (FGSM: 1). */
  steps: number;
}
