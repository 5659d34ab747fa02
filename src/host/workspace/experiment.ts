/**
 * Training experiments (`*.gccs.json`): checked against schema/experiment.schema.json, relative
 * paths resolved against the file, defaults filled in, giving the engine's TrainConfig.
 * No vscode and no TensorFlow.js here (the extension bundle must stay free of it); tested directly.
 */
import * as path from 'node:path';
import SCHEMA from '../../../schema/experiment.schema.json';
import { UserError } from '../../core/errors';
import { JsonSchema, SchemaProblem, formatPath, parseJson, readJsonFile, validateJson } from '../../core/sweep/jsonSchema';
import { TRAIN_DEFAULTS, adversarialWithDefaults, defenceWithDefaults } from '../../core/train/defaults';
import type { TrainConfig } from '../../core/train/trainer';
import type { DefenceKind } from '../../core/loss/defences';
import type { AdversarialMethod } from '../../core/train/adversarial';

export const EXPERIMENT_SCHEMA = SCHEMA as JsonSchema;

/** The engine's built-in architectures (src/core/models ARCHITECTURES; importing it would pull in TensorFlow.js; a test keeps them equal). */
export const BUILT_IN_MODELS = ['mlp', 'cnn', 'resnet18'];

/** A problem with an experiment file: one line naming the file and the field. */
export class ExperimentError extends UserError {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${path.basename(file)}: ${field ? `${field}: ` : ''}${problem}`);
    this.name = 'ExperimentError';
  }
}

/** The schema's default of each property of one of its $defs. */
function defaultsOf(def: string): Record<string, unknown> {
  const properties = EXPERIMENT_SCHEMA.$defs?.[def]?.properties ?? {};
  return Object.fromEntries(Object.entries(properties).flatMap(([key, value]) => (value.default === undefined ? [] : [[key, value.default]])));
}

type Json = Record<string, unknown>;

/** Parses and checks an experiment; `file` names it in errors and anchors its relative paths. */
export function parseExperiment(file: string, text: string): TrainConfig {
  return experimentConfig(file, parseJson(text));
}

function experimentConfig(file: string, parsed: { value: unknown } | { problem: SchemaProblem }): TrainConfig {
  const problem = 'problem' in parsed ? parsed.problem : validateJson(parsed.value, EXPERIMENT_SCHEMA);
  if (problem) throw new ExperimentError(file, formatPath(problem.path), problem.message);
  const raw = (parsed as { value: unknown }).value as Json;
  const dir = path.dirname(path.resolve(file));
  const resolve = (p: string) => path.resolve(dir, p);

  const dataset = { ...(raw.dataset as Json) } as unknown as TrainConfig['dataset'];
  if (dataset.path) dataset.path = resolve(dataset.path);
  if (dataset.cacheRoot) dataset.cacheRoot = resolve(dataset.cacheRoot);
  if ((dataset.kind === 'svhn' || dataset.kind === 'folder') && !dataset.path) throw new ExperimentError(file, 'dataset.path', `dataset kind "${dataset.kind}" needs a path (its folder)`);

  const loss = { ...(raw.loss as Json | undefined) };
  const kind = (loss.kind as string | undefined) ?? 'gccs';
  if (kind === 'crossentropy') {
    const extra = Object.keys(loss).find((key) => key !== 'kind');
    if (extra) throw new ExperimentError(file, `loss.${extra}`, 'applies to the gccs loss only');
  }
  const split = { ...defaultsOf('split'), ...(raw.split as Json | undefined) } as TrainConfig['split'];
  for (const key of ['trainRange', 'testRange'] as const) {
    const range = split[key];
    if (range && Number(range.split(':')[1]) <= Number(range.split(':')[0])) throw new ExperimentError(file, `split.${key}`, `end must be above start (got "${range}")`);
  }
  const model = (raw.model as string | undefined) ?? TRAIN_DEFAULTS.model;
  const defence = raw.defence as { kind: DefenceKind; weight?: number; projections?: number };
  const adversarial = raw.adversarial as { method: AdversarialMethod; eps?: number; steps?: number };
  return {
    dataset,
    split,
    model: BUILT_IN_MODELS.includes(model) ? model : resolve(model),
    fineTuneFrom: typeof raw.fineTuneFrom === 'string' ? resolve(raw.fineTuneFrom) : null,
    loss: (kind === 'crossentropy' ? { kind } : { ...defaultsOf('loss'), ...loss, kind }) as TrainConfig['loss'],
    optimizer: { ...TRAIN_DEFAULTS.optimizer, ...(raw.optimizer as Json | undefined) } as TrainConfig['optimizer'],
    batchSize: (raw.batchSize as number | undefined) ?? TRAIN_DEFAULTS.batchSize,
    epochs: (raw.epochs as number | undefined) ?? TRAIN_DEFAULTS.epochs,
    seed: (raw.seed as number | undefined) ?? TRAIN_DEFAULTS.seed,
    outDir: resolve(raw.outDir as string),
    resume: (raw.resume as boolean | undefined) ?? false,
    augmentShift: (raw.augmentShift as number | undefined) ?? TRAIN_DEFAULTS.augmentShift,
    workers: (raw.workers as number | undefined) ?? 1,
    ...(raw.defence ? { defence: defenceWithDefaults(defence.kind, defence.weight, defence.projections) } : {}),
    ...(raw.adversarial ? { adversarial: adversarialWithDefaults(adversarial.method, adversarial.eps, adversarial.steps) } : {}),
  };
}

export function loadExperiment(file: string): TrainConfig {
  return experimentConfig(file, readJsonFile(file));
}
