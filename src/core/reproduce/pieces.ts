/**
 * The finished pieces of a run that are JSON files of its folder (evaluations/, figure3/), read back
 * when a run continues. Each is checked against its schema before anything reads it (the fields the
 * report uses), so a damaged or foreign file is one line naming it, never an internal error.
 */
import { UserError } from '../errors';
import { REPRODUCE_LIMITS } from '../limits';
import { JsonSchema, formatPath, readJsonFile, validateJson } from '../sweep/jsonSchema';

const number = { type: 'number' };
const fraction = { type: 'number', minimum: 0, maximum: 1 };
const count = { type: 'integer', minimum: 0 };
const text = { type: 'string' };
const list = (items: JsonSchema, more: JsonSchema = {}): JsonSchema => ({ type: 'array', items, ...more });
const object = (properties: Record<string, JsonSchema>, required = Object.keys(properties)): JsonSchema => ({ type: 'object', required, properties });
/** r_AB and the mean-distance ratio: NaN (null in JSON) when no class pair qualifies. */
const ratio = object({ mean: { type: ['number', 'null'] }, ci95: list({ type: ['number', 'null'] }, { minItems: 2, maxItems: 2 }), pairs: count });

/** evaluations/<model>-<key>.json: `gccs eval`'s numbers (clean) and `gccs evaluate`'s JSON (robustness). */
export const EVALUATION_SCHEMA: JsonSchema = object({
  key: { type: 'string', minLength: 1 },
  model: text,
  clean: object({ count, accuracy: fraction, macroF1: fraction, separation: ratio, meanDistanceRatio: ratio }),
  robustness: object({
    count,
    cleanAccuracy: fraction,
    eps: list(
      object(
        {
          eps: number,
          worstAccuracy: fraction,
          paper: { type: ['object', 'null'], required: ['accuracy', 'label'], properties: { accuracy: fraction, label: text } },
          runs: list(object({ label: text, protocol: { enum: ['paper', 'preset'] }, accuracy: fraction, params: { type: 'object' } })),
        },
        ['eps', 'worstAccuracy', 'runs'],
      ),
    ),
    diagnostics: list(object({ ok: { type: 'boolean' }, message: text })),
    verdict: list(text),
  }),
});

const point = list(number, { minItems: 2, maxItems: 2 });

/** figure3/<model>-<key>.json: the latent plots of one model (figure3.ts). */
export const FIGURE3_SCHEMA: JsonSchema = object({
  key: { type: 'string', minLength: 1 },
  classes: list(count, { minItems: 2, maxItems: 3 }),
  labels: list(count),
  scale: number,
  axes: list(text, { minItems: 2, maxItems: 2 }),
  vertices: list(point),
  panels: list(
    object({
      label: text,
      eps: { type: ['number', 'null'] },
      params: { type: ['object', 'null'] },
      accuracy: fraction,
      meanShift: number,
      points: list(point),
    }),
    { minItems: 1 },
  ),
});

/** A piece this run wrote under `key`: valid against `schema` and holding that key; else one line naming the file. */
export function readPiece<T>(file: string, schema: JsonSchema, key: string, what: string): T {
  const read = readJsonFile(file, REPRODUCE_LIMITS.evaluationFileBytes);
  const problem = 'problem' in read ? read.problem : validateJson(read.value, schema);
  if (problem)
    throw new UserError(
      `${file}: not ${what} this run wrote (${problem.path.length ? `${formatPath(problem.path)}: ` : ''}${problem.message}): use another --out`,
    );
  const value = (read as { value: T & { key: string } }).value;
  if (value.key !== key) throw new UserError(`${file}: not ${what} this run wrote (its key differs): use another --out`);
  return value;
}
