/**
 * The parts of schema/sweep.schema.json and schema/experiment.schema.json that are catalog data:
 * names (enums), parameter ranges and defaults. The files are written by hand otherwise; these
 * functions fill the catalog parts in (the validator uses the result, `npm run build` writes it
 * back to the files, and a test checks that the files are up to date).
 */
import type { JsonSchema } from '../sweep/jsonSchema';
import { AttackEntry, AttackList, attacksTaking, defaultOf } from './attacks';
import { DATASET_KINDS } from './datasets';
import { GCCS_DEFAULTS, KURTOSIS_PENALTIES, LOSS_KINDS } from './losses';
import { ARCHITECTURES } from './models';
import { PARAMS, ParamKey, ParamSpec } from './params';
import type { Preset } from './presets';

/** What the schemas are made from; tests pass one with more attacks. */
export interface Catalog {
  attacks: AttackList;
  presets: Readonly<Record<string, Preset>>;
  datasets: readonly string[];
}

/** The parameters a sweep may vary over a grid; every other attack parameter is fixed per entry. */
export const GRID_KEYS = ['eps', 'iterations', 'samples'] as const;
export type GridKey = (typeof GRID_KEYS)[number];

const clone = <T>(value: T): T => structuredClone(value);

/** The JSON Schema of one value of `spec` (ranges and enums; the target rule is checked by the catalog). */
function valueSchema(spec: ParamSpec): JsonSchema {
  switch (spec.type) {
    case 'boolean':
      return { type: 'boolean' };
    case 'choice':
      return { title: spec.title, enum: [...spec.choices] };
    case 'target':
      return { type: ['string', 'integer'] };
    default:
      return {
        type: spec.type,
        ...(spec.minExclusive ? { exclusiveMinimum: spec.min } : { minimum: spec.min }),
        ...(spec.max !== undefined && { maximum: spec.max }),
      };
  }
}

/** "PGD/TGSM: gradient steps K", and the default when every attack taking it has the same one. */
function paramSchema(key: ParamKey, attacks: AttackList, grid = false): JsonSchema {
  const spec = PARAMS[key];
  const takers = attacksTaking(key, attacks).map((name) => attacks[name]);
  const defaults = [...new Set(takers.map((entry: AttackEntry) => defaultOf(entry, key)))];
  const perAttack = defaults.length > 1 ? ` (default ${takers.map((entry) => `${entry.display} ${defaultOf(entry, key)}`).join(', ')})` : '';
  const { title, ...value } = valueSchema(spec);
  return {
    ...(title && { title }),
    description: `${takers.map((entry) => entry.display).join('/')}: ${grid ? 'a grid of ' : ''}${spec.description}${perAttack}`,
    ...value,
    ...(defaults.length === 1 && defaults[0] !== undefined && !spec.sweepDefaultFromModel && { default: defaults[0] }),
  };
}

/** schema/sweep.schema.json with the catalog's attacks, parameters, presets and dataset kinds. */
export function sweepSchema(base: JsonSchema, catalog: Catalog): JsonSchema {
  const schema = clone(base);
  const attack = schema.$defs!.attack.properties!;
  attack.name.enum = Object.keys(catalog.attacks);
  for (const key of GRID_KEYS) {
    const { description, default: _, ...item } = paramSchema(key, catalog.attacks, true);
    attack[key] = { ...attack[key], description, items: item };
  }
  const fixed = (Object.keys(PARAMS) as ParamKey[]).filter((key) => !(GRID_KEYS as readonly string[]).includes(key));
  const taken = fixed.filter((key) => attacksTaking(key, catalog.attacks).length > 0);
  attack.params.properties = Object.fromEntries(taken.map((key) => [key, paramSchema(key, catalog.attacks)]));
  schema.properties!.presets.items!.properties!.name.enum = Object.keys(catalog.presets);
  schema.$defs!.data.properties!.kind.enum = [...catalog.datasets];
  return schema;
}

/** schema/experiment.schema.json with the catalog's dataset kinds, losses, GCCS defaults and built-in models. */
export function experimentSchema(base: JsonSchema): JsonSchema {
  const schema = clone(base);
  schema.$defs!.dataset.properties!.kind.enum = [...DATASET_KINDS];
  const loss = schema.$defs!.loss.properties!;
  loss.kind.enum = [...LOSS_KINDS];
  loss.kurtosis.enum = [...KURTOSIS_PENALTIES];
  for (const [key, value] of Object.entries(GCCS_DEFAULTS)) loss[key].default = value;
  const model = schema.properties!.model;
  model.examples = [...ARCHITECTURES, ...(model.examples ?? []).filter((example) => !(ARCHITECTURES as readonly unknown[]).includes(example))];
  return schema;
}
