/** The training losses and the GCCS loss's defaults (the loss itself is in core/loss, with TensorFlow.js). */

export const LOSS_KINDS = ['gccs', 'crossentropy'] as const;
export type LossKind = (typeof LOSS_KINDS)[number];

/** How the kurtosis excess K−3 is penalised; `linear` is the paper's λ(K−3). */
export const KURTOSIS_PENALTIES = ['linear', 'abs', 'squared'] as const;
export type KurtosisPenalty = (typeof KURTOSIS_PENALTIES)[number];

export interface GccsOptions {
  /** Distance of each target mean from the origin along its axis (μ_T). */
  muT: number;
  /** Standard deviation of every target Gaussian (σ_T). */
  sigmaT: number;
  /** Weight of the kurtosis term (λ). */
  lambda: number;
  kurtosis: KurtosisPenalty;
  /**
   * Added to the diagonal of each batch covariance, as a multiple of σ_T², so that its
   * log-determinant stays finite when a class has ≤ D samples in a batch.
   */
  ridge: number;
}

/** The paper's values; the attacks' latent loss takes the same μ_T by default. */
export const GCCS_DEFAULTS: GccsOptions = { muT: 70, sigmaT: 1, lambda: 0.2, kurtosis: 'linear', ridge: 1e-4 };

/** A training loss as gccs.json records it (core/loss's LossConfig, without its TensorFlow.js import). */
export type TrainingLoss = ({ kind: 'gccs' } & GccsOptions) | { kind: 'crossentropy' };

const KURTOSIS_TERMS: Record<KurtosisPenalty, string> = { linear: '', abs: ' on |K−3|', squared: ' on (K−3)²' };

/**
 * A model's own training loss as the panels and the CLI name it, with one spelling of its
 * parameters everywhere: "GCCS (μ_T 70, σ_T 1, λ 0.2)", "cross-entropy + JR (weight 0.01)".
 */
export function lossLabel(loss: TrainingLoss, defence?: { kind: string; weight: number }): string {
  const base = loss.kind === 'gccs' ? `GCCS (μ_T ${loss.muT}, σ_T ${loss.sigmaT}, λ ${loss.lambda}${KURTOSIS_TERMS[loss.kurtosis]})` : 'cross-entropy';
  return defence ? `${base} + ${defence.kind.toUpperCase()} (weight ${defence.weight})` : base;
}
