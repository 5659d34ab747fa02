/**
 * The one way to a training configuration. A training description (an experiment file's content,
 * schema/experiment.schema.json, or the CLI's flags put in the same shape) becomes a TrainConfig with
 * the defaults of ./defaults.ts filled in (trainConfigFrom); train() checks all of it once
 * (validateTrainConfig): against the experiment schema, then what a schema cannot say. Problems name
 * fields ("batchSize: must be ≥ 2 (got 1)"): the CLI names its flags instead, the extension adds the
 * experiment file's name. No TensorFlow.js here (type imports only): the extension host uses it.
 */
import SCHEMA from '../../../schema/experiment.schema.json';
import { GCCS_DEFAULTS } from '../catalog/losses';
import type { DatasetSpec } from '../data';
import { UserError } from '../errors';
import type { LossConfig } from '../loss';
import type { DefenceConfig, DefenceKind } from '../loss/defences';
import type { ModelSource } from '../models';
import { JsonSchema, formatPath, validateJson } from '../sweep/jsonSchema';
import { ADVERSARIAL_DEFAULTS, DEFENCE_DEFAULTS, FINE_TUNE_DEFAULTS, TRAIN_DEFAULTS } from './defaults';
import type { AdversarialConfig, AdversarialMethod, OptimizerConfig } from './options';

/** What an experiment file may hold; a TrainConfig (every default filled in) is one too. */
export const EXPERIMENT_SCHEMA = SCHEMA as JsonSchema;

export interface TrainConfig {
  dataset: DatasetSpec;
  split: { trainRange: string | null; testRange: string | null; validationFraction: number };
  /** A built-in architecture or a workspace model.json; ignored when fine-tuning. */
  model: ModelSource;
  /** Start from this saved model (its architecture and weights) instead of a fresh one. */
  fineTuneFrom: string | null;
  loss: LossConfig;
  optimizer: OptimizerConfig;
  batchSize: number;
  epochs: number;
  seed: number;
  outDir: string;
  /** Continue from the checkpoint in outDir. */
  resume: boolean;
  /** Training augmentation: shift each image by up to this many pixels (0 = none, as the paper; default 1). */
  augmentShift?: number;
  /**
   * Processes that train together, each on its share of every batch (data parallel; default 1).
   * GCCS's class statistics are then estimated per share. Not part of the checkpoint's identity.
   */
  workers?: number;
  /** A penalty added to the loss: JR, IGR or CLR (loss/defences.ts; absent: none). */
  defence?: DefenceConfig;
  /** Adversarial training: each batch's loss averaged with its adversarial copy's (absent: none). */
  adversarial?: AdversarialConfig;
}

/** A training as an experiment file describes it: every field but dataset and outDir may be left out. */
export interface TrainingDescription {
  $schema?: string;
  dataset: DatasetSpec;
  split?: Partial<TrainConfig['split']>;
  model?: ModelSource;
  fineTuneFrom?: string | null;
  loss?: { kind?: LossConfig['kind'] } & Partial<Omit<Extract<LossConfig, { kind: 'gccs' }>, 'kind'>>;
  optimizer?: Partial<OptimizerConfig>;
  batchSize?: number;
  epochs?: number;
  seed?: number;
  outDir: string;
  resume?: boolean;
  augmentShift?: number;
  workers?: number;
  defence?: { kind: DefenceKind; weight?: number; projections?: number };
  adversarial?: { method: AdversarialMethod; eps?: number; steps?: number };
}

/**
 * A problem with a training configuration that names its fields. `words` writes it with each field
 * named by `name`: the field itself here, a flag in the CLI (`named`).
 */
export class ConfigError extends UserError {
  constructor(
    /** The field at fault, as a dotted path ("loss.muT"; "" for the whole configuration). */
    readonly field: string,
    private readonly words: (name: (field: string) => string) => string,
  ) {
    super(words((field) => field));
    this.name = 'ConfigError';
  }

  /** The message with every field named by `name`. */
  named(name: (field: string) => string): string {
    return this.words(name);
  }
}

/** "field: problem" (the problem alone for the whole configuration). */
export function fieldProblem(field: string, problem: string): ConfigError {
  return new ConfigError(field, (name) => (field ? `${name(field)}: ${problem}` : problem));
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The object without its undefined values (a library caller's `{ weight: undefined }` leaves the default). */
const defined = (object: Json): Json => Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));

/** `given` over `defaults` when it is an object; anything else stays as given, for validateTrainConfig to refuse. */
function over<T extends object>(defaults: T, given: unknown): T {
  return (given === undefined ? { ...defaults } : isObject(given) ? { ...defaults, ...defined(given) } : given) as T;
}

/**
 * The TrainConfig a description stands for, every default filled in (a fine-tuning gets
 * FINE_TUNE_DEFAULTS). It checks nothing beyond the description being an object: a wrong value is
 * kept as it is, and an unknown field too, so that validateTrainConfig names it. `$schema`, an
 * editor's hint, is dropped. Paths stay as given.
 */
export function trainConfigFrom(description: TrainingDescription): TrainConfig {
  if (!isObject(description)) throw fieldProblem('', `must be an object (got ${description === null ? 'null' : typeof description})`);
  const { $schema: _hint, ...given } = defined(description as unknown as Json) as unknown as TrainingDescription;
  const defaults = given.fineTuneFrom ? FINE_TUNE_DEFAULTS : TRAIN_DEFAULTS;
  const known: TrainConfig = {
    dataset: given.dataset,
    split: over({ trainRange: null, testRange: null, validationFraction: defaults.validationFraction }, given.split),
    model: given.model ?? defaults.model,
    fineTuneFrom: given.fineTuneFrom ?? null,
    loss: lossWithDefaults(given.loss),
    optimizer: over(defaults.optimizer, given.optimizer),
    batchSize: given.batchSize ?? defaults.batchSize,
    epochs: given.epochs ?? defaults.epochs,
    seed: given.seed ?? defaults.seed,
    outDir: given.outDir,
    resume: given.resume ?? false,
    augmentShift: given.augmentShift ?? defaults.augmentShift,
    workers: given.workers ?? defaults.workers,
    // Absent when not asked for, so that checkpoints of runs without them still resume.
    ...(given.defence !== undefined && { defence: defenceWithDefaults(given.defence) }),
    ...(given.adversarial !== undefined && { adversarial: adversarialWithDefaults(given.adversarial) }),
  };
  return { ...known, ...Object.fromEntries(Object.entries(given).filter(([key]) => !Object.hasOwn(known, key))) };
}

function lossWithDefaults(loss: TrainingDescription['loss']): LossConfig {
  if (!isObject(loss)) return (loss ?? { kind: 'gccs', ...GCCS_DEFAULTS }) as LossConfig;
  // Cross-entropy keeps any GCCS option given, for validateTrainConfig to refuse.
  return (loss.kind === 'crossentropy' ? { ...loss } : { kind: 'gccs', ...GCCS_DEFAULTS, ...defined(loss) }) as LossConfig;
}

function defenceWithDefaults(defence: TrainingDescription['defence']): DefenceConfig {
  if (!isObject(defence)) return defence as unknown as DefenceConfig;
  const weight = DEFENCE_DEFAULTS[defence.kind as DefenceKind]?.weight;
  return { kind: defence.kind, weight, projections: DEFENCE_DEFAULTS.jr.projections, ...defined(defence) } as DefenceConfig;
}

function adversarialWithDefaults(adversarial: TrainingDescription['adversarial']): AdversarialConfig {
  if (!isObject(adversarial)) return adversarial as unknown as AdversarialConfig;
  const steps = adversarial.method === 'pgd' ? ADVERSARIAL_DEFAULTS.pgdSteps : 1;
  return { method: adversarial.method, eps: ADVERSARIAL_DEFAULTS.eps, steps, ...defined(adversarial) } as AdversarialConfig;
}

/**
 * The one check of a training configuration, run by train(): the experiment schema (types, ranges,
 * caps, unknown fields), then the rules between fields. Throws a ConfigError naming the field.
 */
export function validateTrainConfig(config: TrainConfig): void {
  const problem = validateJson(config, EXPERIMENT_SCHEMA);
  if (problem) {
    // A missing field is named itself, so that the CLI can name its flag.
    const missing = /^missing "(.+)"$/.exec(problem.message);
    if (missing) throw fieldProblem(formatPath([...problem.path, missing[1]]), 'is required');
    throw fieldProblem(formatPath(problem.path), problem.message);
  }
  const { dataset, split, loss, defence, adversarial } = config;
  if ((dataset.kind === 'svhn' || dataset.kind === 'folder') && !dataset.path) throw fieldProblem('dataset.path', `dataset kind "${dataset.kind}" needs a path (its folder)`);
  for (const key of ['trainRange', 'testRange'] as const) {
    const [start, end] = split[key]?.split(':').map(Number) ?? [];
    if (end <= start) throw fieldProblem(`split.${key}`, `end must be above start (got "${split[key]}")`);
  }
  if (loss.kind === 'crossentropy') {
    const extra = Object.keys(loss).find((key) => key !== 'kind');
    if (extra) throw fieldProblem(`loss.${extra}`, 'applies to the gccs loss only');
  }
  if (adversarial?.method === 'fgsm' && adversarial.steps !== 1) throw fieldProblem('adversarial.steps', `applies to PGD only (FGSM is one step; got ${adversarial.steps})`);
  const workers = config.workers ?? TRAIN_DEFAULTS.workers;
  if ((defence || adversarial) && workers > 1) throw fieldProblem('workers', `defences and adversarial training run in one process only (use 1; got ${workers})`);
}
