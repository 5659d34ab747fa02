/**
 * A small JSON Schema validator for the keywords schema/sweep.schema.json uses (type, enum,
 * properties, required, additionalProperties: false, items, min/maxItems, minLength, minimum,
 * maximum, pattern, allOf, local $ref). It stops at the first problem and reports it as a JSON path
 * and one line, with `title` naming enum values and `examples` showing the expected form.
 */

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  examples?: unknown[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
}

export interface SchemaProblem {
  /** e.g. ["attacks", 2, "name"]. */
  path: (string | number)[];
  message: string;
}

/** "attacks[2].name"; "" for the document itself. */
export function formatPath(path: (string | number)[]): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : /^[A-Za-z_$][\w$]*$/.test(part) ? `${i ? '.' : ''}${part}` : `[${JSON.stringify(part)}]`)).join('');
}

const TYPE_NAMES: Record<string, string> = {
  object: 'an object',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  null: 'null',
};

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'null':
      return value === null;
    default:
      return typeof value === type;
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'an object';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** The first problem of `value` against `schema` (whose local $refs resolve in `root`), or undefined. */
export function validateJson(value: unknown, schema: JsonSchema, root: JsonSchema = schema, path: (string | number)[] = []): SchemaProblem | undefined {
  const problem = (message: string, at = path): SchemaProblem => ({ path: at, message });
  if (schema.$ref) {
    const name = schema.$ref.replace(/^#\/\$defs\//, '');
    const target = root.$defs?.[name];
    if (!target) throw new Error(`schema: unresolved $ref ${schema.$ref}`);
    const found = validateJson(value, target, root, path);
    if (found) return found;
  }
  for (const part of schema.allOf ?? []) {
    const found = validateJson(value, part, root, path);
    if (found) return found;
  }
  if (schema.type) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((type) => hasType(value, type))) return problem(`must be ${types.map((t) => TYPE_NAMES[t]).join(' or ')} (got ${describe(value)})`);
  }
  if (schema.enum && !schema.enum.some((allowed) => allowed === value)) {
    const list = schema.enum.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
    return problem(schema.title ? `unknown ${schema.title} ${describe(value)} (${list})` : `must be one of ${list} (got ${describe(value)})`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return problem(`must be ≥ ${schema.minimum} (got ${value})`);
    if (schema.maximum !== undefined && value > schema.maximum) return problem(`must be ≤ ${schema.maximum} (got ${value})`);
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) return problem('must not be empty');
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) {
      return problem(`must look like ${(schema.examples ?? []).join(' or ')} (got ${describe(value)})`);
    }
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) return problem(`needs at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) return problem(`takes at most ${schema.maxItems} items`);
    if (schema.items) {
      for (let i = 0; i < value.length; i++) {
        const found = validateJson(value[i], schema.items, root, [...path, i]);
        if (found) return found;
      }
    }
  }
  if (hasType(value, 'object')) {
    const object = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in object)) return problem(`missing "${key}"`);
    const properties = schema.properties ?? {};
    for (const [key, item] of Object.entries(object)) {
      const property = properties[key];
      if (property) {
        const found = validateJson(item, property, root, [...path, key]);
        if (found) return found;
      } else if (schema.additionalProperties === false) {
        return problem(`unknown property (expected ${Object.keys(properties).filter((k) => k !== '$schema').join(', ')})`, [...path, key]);
      }
    }
  }
  return undefined;
}
