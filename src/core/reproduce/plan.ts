/**
 * The paper's comparison as data: which models (cross-entropy, GCCS, JR, IGR, CLR, GCCS fine-tuned
 * from cross-entropy, and each regular model fine-tuned with FGSM adversarial training, as the
 * paper's §4–5 describe), at which scale, evaluated with which attacks at which ε. Everything a
 * run does comes from here; runReproduction (run.ts) only carries it out.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { DatasetSpec } from '../data';
import { UserError } from '../errors';
import type { DefenceKind } from '../loss/defences';
import { checkEpsList } from '../robustness/evaluate';
import { TrainConfig, TrainingDescription, trainConfigFrom, validateTrainConfig } from '../train/config';
import { TRAIN_DEFAULTS } from '../train/defaults';
import { CONFIG_LIMITS } from '../limits';
import { DEFAULT_SCALE, ReproduceScale, SCALES, SCALE_NAMES, ScaleName } from './scales';

export { DEFAULT_SCALE, SCALES, SCALE_NAMES } from './scales';
export type { ReproduceScale, ScaleName } from './scales';

/** How a model of the comparison is trained: from scratch, or fine-tuned from another model of the plan. */
export interface PlannedModelSpec {
  id: string;
  /** The paper's name for the method (its tables' rows). */
  method: 'No defence' | 'GCCS' | 'JR' | 'IGR' | 'CLR';
  /**
   * regular: trained from scratch; fine-tuning: GCCS on top of the cross-entropy model (Tables 3–5);
   * adversarial: the regular model fine-tuned with FGSM adversarial training (§5).
   */
  training: 'regular' | 'fine-tuning' | 'adversarial';
  loss: 'gccs' | 'crossentropy';
  defence?: DefenceKind;
  /** The plan's model this one starts from. */
  from?: string;
}

const regular = (id: string, method: PlannedModelSpec['method'], loss: PlannedModelSpec['loss'], defence?: DefenceKind): PlannedModelSpec => ({
  id,
  method,
  training: 'regular',
  loss,
  ...(defence && { defence }),
});
const REGULAR: PlannedModelSpec[] = [
  regular('ce', 'No defence', 'crossentropy'),
  regular('gccs', 'GCCS', 'gccs'),
  regular('jr', 'JR', 'crossentropy', 'jr'),
  regular('igr', 'IGR', 'crossentropy', 'igr'),
  regular('clr', 'CLR', 'crossentropy', 'clr'),
];

/**
 * The paper's models, parents before children. Fine-tuning: "a model already pre-trained with a
 * standard cross-entropy loss is further trained for 100 epochs with the proposed GCCS loss" (§4).
 * Adversarial training: "fine-tuning an already trained model for a total 100 epochs", FGSM at
 * ε = 0.03, clean and adversarial losses averaged, starting from the regular models (§5).
 */
export const PAPER_MODELS: PlannedModelSpec[] = [
  ...REGULAR,
  { id: 'gccs-ft', method: 'GCCS', training: 'fine-tuning', loss: 'gccs', from: 'ce' },
  ...REGULAR.map((spec) => ({ ...spec, id: `${spec.id}-at`, training: 'adversarial' as const, from: spec.id })),
];

/**
 * The largest ε of the paper's accuracy-vs-ε figures: "for MNIST 0 ≤ ε ≤ 0.10, 0 ≤ ε ≤ 0.06 for
 * SVHN, CIFAR-10 and CIFAR-100" (§5.1; Fashion-MNIST is not stated: MNIST's). Table 7's SPSA grid is
 * at ε = 0.02 on CIFAR-10; on the MNIST-like sets it is at their largest ε (our choice: at 0.02
 * nothing falls there).
 */
export function paperEps(kind: DatasetSpec['kind']): { max: number; spsaTable: number } {
  return ['mnist', 'fmnist', 'synthetic'].includes(kind) ? { max: 0.1, spsaTable: 0.1 } : { max: 0.06, spsaTable: 0.02 };
}

/** The robustness evaluation of every model: `gccs evaluate --preset quick` at the plan's ε (its paper's FGSM/PGD-5/TGSM-5 and the per-sample worst case). */
export const ROBUSTNESS_PRESET = 'quick';
/** Batch size and seed of every attack (the paper attacks batches of 100). */
export const ATTACK_DEFAULTS = { batchSize: 100, seed: 0 };
/** Models whose SPSA IT × BS grid makes Table 7 (the paper: GCCS and cross-entropy). */
export const SPSA_TABLE_MODELS = ['ce', 'gccs'];

/**
 * The paper's Figure 3: the latent space of MNIST classes 0, 1 and 9 of the models trained without
 * adversarial training, clean and under FGSM, PGD-5, TGSM-5 (at the plan's largest ε) and JSMA. The
 * paper does not say how many samples it plots: the first 50 test samples of each class here.
 */
export const FIGURE3 = { classes: [0, 1, 9], samplesPerClass: 50, training: 'regular' as PlannedModelSpec['training'] };

/** What the command line (or a caller) asks for; anything not given comes from the scale. */
export interface ReproduceRequest {
  dataset: DatasetSpec;
  scale?: ScaleName;
  outDir: string;
  seed?: number;
  /** Only these models of PAPER_MODELS (and the ones they start from); default all. */
  models?: string[];
  overrides?: Partial<
    Pick<ReproduceScale, 'model' | 'epochs' | 'fineTuneEpochs' | 'adversarialEpochs' | 'batchSize' | 'trainRange' | 'testRange' | 'count' | 'jsmaIterations'>
  > & { eps?: number[] };
}

export interface PlannedModel extends PlannedModelSpec {
  /** models/<id>-<hash of its training settings and its parent's>: equal settings, same folder. */
  dir: string;
  config: TrainConfig;
}

export interface ReproductionPlan {
  outDir: string;
  scaleName: ScaleName;
  settings: ReproduceScale & { eps: number[]; spsaTableEps: number; seed: number };
  dataset: DatasetSpec;
  models: PlannedModel[];
}

/** The plan of a run: every model's TrainConfig (as `gccs train` would build it), every evaluation setting. */
export function planReproduction(request: ReproduceRequest): ReproductionPlan {
  const scaleName = request.scale ?? DEFAULT_SCALE;
  if (!Object.hasOwn(SCALES, scaleName)) throw new UserError(`unknown scale "${scaleName}": expected one of ${SCALE_NAMES.join(', ')}`);
  const scale: ReproduceScale = SCALES[scaleName];
  const { eps: givenEps, ...overrides } = request.overrides ?? {};
  const synthetic = request.dataset.kind === 'synthetic';
  const base = { ...scale, ...(synthetic && { trainRange: null, testRange: null }), ...withoutUndefined(overrides) };
  checkCounts(base);
  const { max, spsaTable } = paperEps(request.dataset.kind);
  const eps = checkEpsList(givenEps ?? Array.from({ length: base.epsPoints }, (_, i) => round(((i + 1) * max) / base.epsPoints)));
  const seed = request.seed ?? TRAIN_DEFAULTS.seed;
  const outDir = path.resolve(request.outDir);
  // An absolute data path keeps the models' identity (and their gccs.json) independent of the working folder.
  const dataset = request.dataset.path ? { ...request.dataset, path: path.resolve(request.dataset.path) } : request.dataset;

  const models: PlannedModel[] = [];
  for (const spec of selectModels(request.models)) {
    const parent = spec.from === undefined ? null : models.find((m) => m.id === spec.from)!;
    const epochs = spec.training === 'regular' ? base.epochs : spec.training === 'fine-tuning' ? base.fineTuneEpochs : base.adversarialEpochs;
    // As `gccs train` builds it: the defaults (a fine-tuning's for a fine-tuning) filled in by the one builder.
    const description: Omit<TrainingDescription, 'outDir'> = {
      dataset,
      split: { trainRange: base.trainRange, testRange: base.testRange },
      model: base.model,
      fineTuneFrom: parent ? parent.dir : null,
      loss: { kind: spec.loss },
      batchSize: base.batchSize,
      epochs,
      seed,
      ...(spec.defence && { defence: { kind: spec.defence } }),
      ...(spec.training === 'adversarial' && { adversarial: { method: 'fgsm' as const } }),
    };
    const { outDir: _none, resume: _resume, ...identity } = trainConfigFrom({ ...description, outDir: '' });
    // The parent's folder (itself named by its settings' hash) is part of the identity.
    const dir = path.join(outDir, 'models', `${spec.id}-${settingsHash(identity)}`);
    const config = { ...identity, outDir: dir, resume: false };
    // Every model's settings are checked before the first one trains.
    validateTrainConfig(config);
    models.push({ ...spec, dir, config });
  }
  return { outDir, scaleName, settings: { ...base, eps, spsaTableEps: spsaTable, seed }, dataset, models };
}

/** A short hash of settings built by this file (so their keys always come in the same order). */
export function settingsHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 12);
}

/** The counts a flag may set that no later check covers: epochs of each kind, samples attacked, JSMA's iterations. */
function checkCounts(base: ReproduceScale): void {
  const counts = [
    ['epochs', base.epochs, CONFIG_LIMITS.epochs],
    ['fine-tune-epochs', base.fineTuneEpochs, CONFIG_LIMITS.epochs],
    ['adv-epochs', base.adversarialEpochs, CONFIG_LIMITS.epochs],
    ['count', base.count, CONFIG_LIMITS.count],
    ['jsma-iterations', base.jsmaIterations, CONFIG_LIMITS.steps],
  ] as const;
  for (const [flag, value, max] of counts) {
    if (!Number.isInteger(value) || value < 1 || value > max) throw new UserError(`--${flag} must be an integer from 1 to ${max} (got ${value})`);
  }
}

/** The chosen models with every model they start from, in PAPER_MODELS's order (parents first). */
function selectModels(ids: string[] | undefined): PlannedModelSpec[] {
  if (!ids) return PAPER_MODELS;
  const unknown = ids.find((id) => !PAPER_MODELS.some((spec) => spec.id === id));
  if (unknown !== undefined) throw new UserError(`unknown model "${unknown}": expected some of ${PAPER_MODELS.map((spec) => spec.id).join(', ')}`);
  const chosen = new Set<string>();
  const add = (id: string) => {
    chosen.add(id);
    const from = PAPER_MODELS.find((spec) => spec.id === id)?.from;
    if (from !== undefined) add(from);
  };
  ids.forEach(add);
  return PAPER_MODELS.filter((spec) => chosen.has(spec.id));
}

const round = (value: number) => Number(value.toPrecision(6));

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
