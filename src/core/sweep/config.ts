/**
 * Sweep configurations: validated once (schema/sweep.schema.json with the catalog's names and
 * ranges, then what a schema cannot say: which attack takes which parameter, the target rule, the
 * number of cells) and resolved once into cells with stable ids. The cells carry every parameter
 * filled in and checked, so nothing downstream checks again. No TensorFlow.js here: the extension
 * host can plan a sweep in its own process.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import SCHEMA from '../../../schema/sweep.schema.json';
import { ATTACK_CATALOG, AttackName, AttackParams, CATALOG, GRID_KEYS, GridKey } from '../catalog';
import { checkAttackParams, defaultOf, sweepSchema, takesParam, withDefaults } from '../catalog';
import { UserError } from '../errors';
import { CONFIG_LIMITS } from '../limits';
import { META_FILE, ModelMeta, readModelMeta, resolveModelJson } from '../io/modelLocation';
import { presetSweepEntries } from '../robustness/presets';
import { parseGrid } from './grid';
import { JsonSchema, checkJsonKeys, formatPath, readJsonFile, validateJson } from './jsonSchema';
import type { CellData, SweepAttackConfig, SweepCell, SweepConfig, SweepDataConfig } from './types';

/** The schema file with the catalog's attacks, parameters, presets and dataset kinds filled in. */
export const SWEEP_SCHEMA = sweepSchema(SCHEMA as unknown as JsonSchema, CATALOG);

export const SWEEP_DEFAULTS = { count: 1000, batchSize: 100, seed: 0 };

/** A problem at a place in a configuration; the message names the configuration (e.g. its file) and the JSON path. */
export class SweepConfigError extends UserError {
  constructor(
    readonly label: string,
    readonly path: (string | number)[],
    readonly problem: string,
  ) {
    super(`${label}: ${path.length ? `${formatPath(path)}: ` : ''}${problem}`);
  }
}

/** A configuration with every default filled in and every grid expanded: what the configHash covers. */
export interface NormalizedSweep {
  models: string[];
  attacks: { name: AttackName; grid: Partial<Record<GridKey, number[]>>; params: AttackParams }[];
  data: SweepDataConfig | null;
  count: number;
  batchSize: number;
  seed: number;
}

export interface SweepPlan {
  sweep: NormalizedSweep;
  configHash: string;
  cells: SweepCell[];
}

/** Configurations validated here (frozen, so they stay valid), with what they resolved to. */
const validated = new WeakMap<SweepConfig, NormalizedSweep>();

/**
 * Checks a configuration (schema and catalog; the models are looked at by planSweep) and returns
 * it frozen, relative paths made absolute against `base`; `label` names it in errors.
 */
export function validateSweepConfig(value: unknown, label = 'sweep config', base = process.cwd()): SweepConfig {
  const problem = checkJsonKeys(value) ?? validateJson(value, SWEEP_SCHEMA);
  if (problem) throw new SweepConfigError(label, problem.path, problem.message);
  // A copy: the caller's object stays its own, and this one cannot change after it was checked.
  const config = deepFreeze(withAbsolutePaths(structuredClone(value) as SweepConfig, base));
  validated.set(config, normalize(config, label));
  return config;
}

/** Reads and validates a configuration file; its relative paths become relative to the file. */
export function loadSweepConfig(file: string): SweepConfig {
  const read = readJsonFile(file);
  if ('problem' in read) throw new SweepConfigError(file, read.problem.path, read.problem.message);
  return validateSweepConfig(read.value, file, path.dirname(path.resolve(file)));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

function withAbsolutePaths(config: SweepConfig, base: string): SweepConfig {
  const data = config.data && {
    ...config.data,
    ...(config.data.path !== undefined && { path: path.resolve(base, config.data.path) }),
    ...(config.data.cacheRoot !== undefined && { cacheRoot: path.resolve(base, config.data.cacheRoot) }),
  };
  return { ...config, models: config.models.map((model) => path.resolve(base, model)), ...(data && { data }) };
}

/** JSON with sorted keys, so equal values hash equally. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function stableHash(value: unknown): string {
  return createHash('sha256').update(canonical(value)).digest('hex').slice(0, 16);
}

/** Runs a catalog check, turning its UserError into one at `at` in the configuration. */
function checked<T>(label: string, at: (string | number)[], check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof UserError && !(error instanceof SweepConfigError)) throw new SweepConfigError(label, at, error.message);
    throw error;
  }
}

/** One attack entry, checked against the catalog: its fixed parameters and its grids (defaults for those it takes and the entry leaves out). */
function normalizeEntry({ name, params = {}, ...grids }: SweepAttackConfig, origin: (string | number)[], label: string): NormalizedSweep['attacks'][number] {
  const entry = ATTACK_CATALOG[name];
  for (const [key, value] of Object.entries(params)) checked(label, [...origin, 'params', key], () => checkAttackParams(name, { [key]: value }));
  const grid: Partial<Record<GridKey, number[]>> = {};
  for (const key of GRID_KEYS) {
    const given = grids[key];
    const at = [...origin, key];
    if (given !== undefined && !takesParam(entry, key)) throw new SweepConfigError(label, at, `${name} takes no parameter "${key}" (it takes ${entry.params.join(', ')})`);
    if (given === undefined) {
      if (takesParam(entry, key)) grid[key] = [defaultOf(entry, key) as number];
      continue;
    }
    const values = typeof given === 'string' ? checked(label, at, () => parseGrid(given)) : given;
    // A grid written as a string gets the checks (the catalog's ranges) a list gets.
    const problem = typeof given === 'string' ? validateJson(values, SWEEP_SCHEMA.$defs!.attack.properties![key], SWEEP_SCHEMA, at) : undefined;
    if (problem) throw new SweepConfigError(label, problem.path, problem.message);
    grid[key] = [...new Set(values)].sort((a, b) => a - b);
  }
  return { name, grid, params };
}

/** The configuration's attacks and presets as entries, defaults filled in; the models as given (absolute). */
function normalize(config: SweepConfig, label: string): NormalizedSweep {
  // A preset's entries are numbered after the configuration's own attacks; errors name where each came from.
  const own = (config.attacks ?? []).map((attack, i) => ({ attack, origin: ['attacks', i] }));
  const fromPresets = (config.presets ?? []).flatMap(({ name, eps }, i) =>
    checked(label, ['presets', i, 'name'], () => presetSweepEntries(name, eps)).map((attack) => ({ attack, origin: ['presets', i] })),
  );
  const entries = [...own, ...fromPresets];
  if (!entries.length) throw new SweepConfigError(label, [], 'a sweep needs "attacks", "presets" or both');
  const attacks = entries.map(({ attack, origin }) => normalizeEntry(attack, origin, label));
  const points = (grid: Partial<Record<GridKey, number[]>>) => Object.values(grid).reduce((product, values) => product * values.length, 1);
  const cellCount = config.models.length * attacks.reduce((sum, { grid }) => sum + points(grid), 0);
  if (cellCount > CONFIG_LIMITS.sweepCells) {
    throw new SweepConfigError(label, [], `${cellCount} cells (models × grid points) are more than ${CONFIG_LIMITS.sweepCells}: split the sweep or use coarser grids`);
  }
  return {
    models: config.models,
    attacks,
    data: config.data ?? null,
    count: config.count ?? SWEEP_DEFAULTS.count,
    batchSize: config.batchSize ?? SWEEP_DEFAULTS.batchSize,
    seed: config.seed ?? SWEEP_DEFAULTS.seed,
  };
}

/** The model's gccs.json (null for a LayersModel this engine did not train), after checking the model exists. */
function configuredModelMeta(label: string, model: string, index: number): ModelMeta | null {
  const modelJson = resolveModelJson(model);
  if (!fs.existsSync(modelJson)) throw new SweepConfigError(label, ['models', index], `no model at ${model} (expected a model folder, its model.json or gccs.json)`);
  return readModelMeta(modelJson);
}

/** The test split a model is attacked on: the configured data, else the model's own. */
function cellData(override: SweepDataConfig | null, meta: ModelMeta | null, label: string, model: string, index: number): CellData {
  if (override) {
    const { testRange, ...spec } = override;
    return { spec, trainRange: null, testRange: testRange ?? null, validationFraction: 0, splitSeed: spec.seed ?? 0 };
  }
  if (!meta) throw new SweepConfigError(label, ['models', index], `${model} has no ${META_FILE} to take its test split from: give the data to attack on (the config's data, or --dataset/--data)`);
  const { spec, trainRange, testRange, validationFraction, splitSeed } = meta.dataset;
  return { spec, trainRange, testRange, validationFraction, splitSeed };
}

/** Every combination of the grids' values, ε first. */
function gridPoints(grid: Partial<Record<GridKey, number[]>>): Partial<Record<GridKey, number>>[] {
  return GRID_KEYS.reduce<Partial<Record<GridKey, number>>[]>(
    (points, key) => (grid[key] ? points.flatMap((point) => grid[key]!.map((value) => ({ ...point, [key]: value }))) : points),
    [{}],
  );
}

/**
 * Expands a configuration to cells, model by model, after checking the models; a configuration
 * that validateSweepConfig or loadSweepConfig did not return is validated first. A cell's id
 * hashes all that determines its result, so equal cells from two entries are run once and a
 * resumed sweep recognises its finished cells.
 */
export function planSweep(config: SweepConfig, label = 'sweep config'): SweepPlan {
  const sweep = validated.get(config) ?? validated.get(validateSweepConfig(config, label))!;
  const cells: SweepCell[] = [];
  const seen = new Set<string>();
  sweep.models.forEach((model, m) => {
    const meta = configuredModelMeta(label, model, m);
    const data = cellData(sweep.data, meta, label, model, m);
    sweep.attacks.forEach((attack, entry) => {
      for (const point of gridPoints(attack.grid)) {
        const given: AttackParams = { ...attack.params, ...point };
        // The latent loss aims at the model's own simplex vertices (gccs.json's schema checks μ_T > 0).
        if (takesParam(ATTACK_CATALOG[attack.name], 'muT') && given.muT === undefined && meta?.loss.kind === 'gccs') given.muT = meta.loss.muT;
        const params = withDefaults(attack.name, given);
        const identity = { model, attack: attack.name, params, data, count: sweep.count, batchSize: sweep.batchSize, seed: sweep.seed };
        const id = stableHash(identity);
        if (seen.has(id)) continue;
        seen.add(id);
        cells.push({ id, entry, ...identity, eps: point.eps ?? null, iterations: point.iterations ?? null, samples: point.samples ?? null });
      }
    });
  });
  return { sweep, configHash: stableHash(sweep), cells };
}

const GRID_LABELS: Record<GridKey, string> = { eps: 'ε', iterations: 'IT', samples: 'BS' };

/** A few words naming a cell, for progress and errors. */
export function describeCell(cell: SweepCell): string {
  const grid = GRID_KEYS.filter((key) => cell[key] !== null).map((key) => ` ${GRID_LABELS[key]}=${cell[key]}`);
  return `${cell.attack}${grid.join('')} on ${cell.model}`;
}
