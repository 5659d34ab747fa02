/**
 * Training experiments (`*.gccs.json`): read, relative paths resolved against the file, then the
 * engine's one builder and check (core/train/config.ts) give the TrainConfig, so that a bad file is
 * refused before anything runs, in one line naming the file and the field.
 * No vscode and no TensorFlow.js here (the extension bundle must stay free of it); tested directly.
 */
import * as path from 'node:path';
import { ARCHITECTURES } from '../../core/catalog/models';
import { UserError } from '../../core/errors';
import { SchemaProblem, formatPath, parseJson, readJsonFile } from '../../core/sweep/jsonSchema';
import { ConfigError, TrainConfig, TrainingDescription, trainConfigFrom, validateTrainConfig } from '../../core/train/config';

export { EXPERIMENT_SCHEMA } from '../../core/train/config';

/** The catalog's built-in architectures; any other model is a path, relative to the experiment file. */
export const BUILT_IN_MODELS: readonly string[] = ARCHITECTURES;

/** A problem with an experiment file: one line naming the file, then the field and the problem. */
export class ExperimentError extends UserError {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${path.basename(file)}: ${problem}`);
    this.name = 'ExperimentError';
  }
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Parses and checks an experiment; `file` names it in errors and anchors its relative paths. */
export function parseExperiment(file: string, text: string): TrainConfig {
  return experimentConfig(file, parseJson(text));
}

export function loadExperiment(file: string): TrainConfig {
  return experimentConfig(file, readJsonFile(file));
}

function experimentConfig(file: string, parsed: { value: unknown } | { problem: SchemaProblem }): TrainConfig {
  if ('problem' in parsed) throw new ExperimentError(file, `${parsed.problem.path.length ? `${formatPath(parsed.problem.path)}: ` : ''}${parsed.problem.message}`);
  try {
    const config = trainConfigFrom(withPathsResolved(parsed.value, path.dirname(path.resolve(file))));
    validateTrainConfig(config);
    return config;
  } catch (error) {
    throw error instanceof ConfigError ? new ExperimentError(file, error.message) : error;
  }
}

/** The experiment with its relative paths made absolute from `dir`; anything not a non-empty string is left for the check. */
function withPathsResolved(value: unknown, dir: string): TrainingDescription {
  if (!isObject(value)) return value as TrainingDescription;
  const resolve = (p: unknown, keep = false) => (typeof p === 'string' && p !== '' && !keep ? path.resolve(dir, p) : p);
  const experiment: Json = { ...value };
  if (isObject(value.dataset)) experiment.dataset = { ...value.dataset, ...pathsOf(value.dataset, ['path', 'cacheRoot'], resolve) };
  Object.assign(experiment, pathsOf(value, ['fineTuneFrom', 'outDir'], resolve));
  if (Object.hasOwn(value, 'model')) experiment.model = resolve(value.model, BUILT_IN_MODELS.includes(value.model as string));
  return experiment as unknown as TrainingDescription;
}

/** The `keys` that `object` has, resolved. */
function pathsOf(object: Json, keys: string[], resolve: (p: unknown) => unknown): Json {
  return Object.fromEntries(keys.filter((key) => Object.hasOwn(object, key)).map((key) => [key, resolve(object[key])]));
}
