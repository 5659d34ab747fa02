/**
 * What a worker is asked about a saved model, and what it answers (src/core/protocol.ts `latent`
 * and `evaluate`; the CLI's `gccs latent` and `gccs eval` take the same options from flags). Types
 * only: no TensorFlow.js.
 */
import type { LatentAttack } from '../catalog';
import type { DatasetKind } from '../data';
import type { Evaluation } from '../metrics';
import type { SweepCell } from '../sweep/types';
import type { TrainConfig } from '../train/config';

/** A saved model and which of its data to run it on. */
export interface ModelSplitOptions {
  /** A model folder, its model.json or gccs.json, or an ONNX file. */
  model: string;
  /** Another dataset than the one in the model's gccs.json (flags --dataset, --data, …). */
  dataset?: DatasetKind;
  data?: string;
  seed?: number;
  syntheticTrain?: number;
  syntheticTest?: number;
  trainRange?: string;
  testRange?: string;
  valFraction?: number;
  /** Default test. */
  split?: 'test' | 'validation' | 'train';
  /** The training configuration that names the data of a model without gccs.json (a checkpoint during training). */
  trainConfig?: Pick<TrainConfig, 'dataset' | 'split' | 'loss' | 'seed'>;
  /** Names `trainConfig` in errors (e.g. its file); default "the training configuration". */
  trainConfigLabel?: string;
}

/** The attacks whose moved z the latent space can show (the catalog's attacks on a loss of z). */
export { LATENT_ATTACKS } from '../catalog';
export type { LatentAttack } from '../catalog';

export interface LatentOptions extends ModelSplitOptions {
  /** The first `count` samples of the split. */
  count: number;
  /** Also each sample's z after this L∞ attack at ε (relative to each image). */
  attack?: { name: LatentAttack; eps: number };
}

/** The outputs z of the first samples of a split (`gccs latent --json`, the latent panel). */
export interface LatentOutput {
  model: string;
  dims: number;
  classNames: string[];
  /** μ_T of a GCCS model; null otherwise. */
  muT: number | null;
  split: string;
  attack?: { name: string; eps: number };
  samples: { label: number; z: number[]; zAttacked?: number[] }[];
}

/** Clean metrics of a model on a split (`gccs eval --json`, Compare Models' <results>.eval.json). */
export type ModelEvaluation = Evaluation & { model: string; split: string; dataset: string; classNames: string[] };

/** The first samples of a sweep cell, attacked as the sweep attacked them (the robustness panel's gallery). */
export interface ExamplesOptions {
  cell: SweepCell;
  /** The first `count` samples of the cell (at most its count and GALLERY_LIMITS.samples). */
  count: number;
}

/** How the attack went for one sample. */
export type ExampleOutcome = 'broken' | 'robust' | 'misclassified';

/** One sample of the gallery: n = adversarial − clean. */
export interface AdversarialExample {
  /** Its index among the cell's samples (its test split's first `count`). */
  index: number;
  label: number;
  /** The predicted classes before and after the attack. */
  before: number;
  after: number;
  /** broken: classified correctly before, wrongly after; robust: correctly both times; misclassified: wrongly before. */
  outcome: ExampleOutcome;
  /** H·W·C values in [0, 1], channels last, exactly as the attack saw and returned them. */
  clean: number[];
  adversarial: number[];
  /** ‖n‖∞ and ‖n‖₂, and each relative to the clean image's norm (null for an all-black image). */
  linf: number;
  l2: number;
  linfRatio: number | null;
  l2Ratio: number | null;
}

export interface ExamplesOutput {
  cellId: string;
  model: string;
  attack: string;
  /** The cell's ε (null for an attack without one) and threat model (null when the attack has none). */
  eps: number | null;
  norm: 'linf' | 'l2' | null;
  seed: number;
  batchSize: number;
  /** [H, W, C] of every sample. */
  shape: [number, number, number];
  classNames: string[];
  samples: AdversarialExample[];
}
