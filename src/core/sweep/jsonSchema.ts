/**
 * The one validator of the JSON files users give (experiment, sweep and gccs.json files): ajv,
 * in strict mode, so a schema using a keyword ajv does not know fails to compile (and the tests
 * with it) instead of being ignored. It stops at the first problem and reports it as a JSON path
 * and one line, with `title` naming enum values and `examples` showing the expected form.
 * parseJson reads the text first: keys that reach an object's prototype are refused anywhere.
 */
import * as fs from 'node:fs';
import Ajv2020, { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import { CONFIG_LIMITS } from '../limits';
import { counted } from '../text';

export interface JsonSchema {
  $schema?: string;
  $id?: string;
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
  maxLength?: number;
  minimum?: number;
  exclusiveMinimum?: number;
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

/** Keys that JSON.parse makes own properties but that code reading the object may follow to a prototype. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Parses user-given JSON text. Refuses, as a problem at a path, text that is not JSON, keys named
 * __proto__, constructor or prototype (at any depth), and nesting deeper than any of our formats
 * has (so nothing later recurses without bound).
 */
export function parseJson(text: string): { value: unknown } | { problem: SchemaProblem } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // V8 quotes the text around the error, control characters and all: keep the message one line.
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    const detail = (error as Error).message.replace(/[\u0000-\u001f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    return { problem: { path: [], message: `not valid JSON (${detail})` } };
  }
  const problem = checkJsonKeys(value);
  return problem ? { problem } : { value };
}

/** The first key named __proto__, constructor or prototype in a JSON value, or nesting too deep. */
export function checkJsonKeys(value: unknown): SchemaProblem | undefined {
  // Iterative, so a deeply nested document cannot overflow the stack here.
  const stack: { node: unknown; path: (string | number)[] }[] = [{ node: value, path: [] }];
  while (stack.length) {
    const { node, path } = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (path.length >= CONFIG_LIMITS.jsonDepth) return { path, message: `nested deeper than ${CONFIG_LIMITS.jsonDepth} levels` };
    if (Array.isArray(node)) {
      node.forEach((item, i) => stack.push({ node: item, path: [...path, i] }));
      continue;
    }
    for (const [key, item] of Object.entries(node)) {
      if (FORBIDDEN_KEYS.has(key)) return { path: [...path, key], message: `the key "${key}" is not allowed` };
      stack.push({ node: item, path: [...path, key] });
    }
  }
  return undefined;
}

/**
 * The bytes of a file a user gives. Refuses, before reading, what is not a regular file (opening a
 * FIFO does not wait for a writer) or is over `maxBytes`; never reads more than that.
 */
export function readBoundedFile(file: string, maxBytes: number): { bytes: Buffer } | { problem: string } {
  const code = (error: unknown) => (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    return { problem: code(error) === 'ENOENT' ? 'file not found' : `cannot be read (${code(error)})` };
  }
  try {
    const stat = fs.fstatSync(fd);
    if (stat.isDirectory()) return { problem: 'is a folder, not a file' };
    if (!stat.isFile()) return { problem: 'is not a regular file' };
    if (stat.size > maxBytes) return { problem: `is ${stat.size} bytes (at most ${maxBytes})` };
    // One byte more tells a file that grew since fstat.
    const buffer = Buffer.alloc(Math.min(stat.size, maxBytes) + 1);
    let length = 0;
    while (length < buffer.length) {
      const read = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    if (length > maxBytes) return { problem: `is over ${maxBytes} bytes` };
    return { bytes: buffer.subarray(0, length) };
  } catch (error) {
    return { problem: `cannot be read (${code(error)})` };
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads (readBoundedFile; default cap: an experiment or sweep file's) and parses (parseJson) a user's JSON file. */
export function readJsonFile(file: string, maxBytes: number = CONFIG_LIMITS.configFileBytes): { value: unknown } | { problem: SchemaProblem } {
  const read = readBoundedFile(file, maxBytes);
  return 'problem' in read ? { problem: { path: [], message: read.problem } } : parseJson(read.bytes.toString('utf8'));
}

// strict: unknown keywords, unknown formats and ignored keywords fail compilation. strictNumbers:
// 1e999 parses to Infinity, which is no number here. verbose: errors carry their schema, for messages.
// addUsedSchema: false, so two copies of a schema with the same $id do not clash.
const ajv = new Ajv2020({ allErrors: false, strict: true, allowUnionTypes: true, strictNumbers: true, verbose: true, addUsedSchema: false });

const compiled = new WeakMap<JsonSchema, ValidateFunction>();

/**
 * The compiled validator of `schema`. A part of a larger schema is compiled with the whole
 * schema's $defs beside it, so that its local $refs resolve.
 */
function validatorOf(schema: JsonSchema, root: JsonSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema === root ? schema : { ...schema, ...(root.$defs && { $defs: root.$defs }) });
    compiled.set(schema, validate);
  }
  return validate;
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

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'an object';
  // Not JSON.stringify: it writes Infinity (from 1e999) as null.
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** ["attacks", 2, "name"] from "/attacks/2/name", array indices as numbers. */
function pathOf(pointer: string, data: unknown): (string | number)[] {
  const path: (string | number)[] = [];
  let node = data;
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const key = Array.isArray(node) ? Number(part) : part;
    path.push(key);
    node = typeof node === 'object' && node !== null ? (node as Record<string | number, unknown>)[key] : undefined;
  }
  return path;
}

const BOUNDS: Record<string, string> = { minimum: '≥', exclusiveMinimum: '>', maximum: '≤' };

/** One line for ajv's first error, in the words the rest of the engine uses. */
function messageOf(error: ErrorObject): string {
  const schema = (error.parentSchema ?? {}) as JsonSchema;
  const value = error.data;
  const params = error.params as Record<string, unknown>;
  if (Object.hasOwn(BOUNDS, error.keyword)) return `must be ${BOUNDS[error.keyword]} ${params.limit} (got ${value})`;
  switch (error.keyword) {
    case 'type': {
      const types = Array.isArray(schema.type) ? schema.type : [String(params.type)];
      return `must be ${types.map((t) => TYPE_NAMES[t] ?? t).join(' or ')} (got ${describe(value)})`;
    }
    case 'enum': {
      const list = (schema.enum ?? []).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
      return schema.title ? `unknown ${schema.title} ${describe(value)} (${list})` : `must be one of ${list} (got ${describe(value)})`;
    }
    case 'minLength':
      return 'must not be empty';
    case 'maxLength':
      return `must be at most ${params.limit} characters long`;
    case 'pattern':
      return schema.examples ? `must look like ${schema.examples.join(' or ')} (got ${describe(value)})` : `must match ${schema.pattern} (got ${describe(value)})`;
    case 'minItems':
      return `needs at least ${counted(Number(params.limit), 'item')}`;
    case 'maxItems':
      return `takes at most ${params.limit} items`;
    case 'required':
      return `missing "${params.missingProperty}"`;
    case 'additionalProperties':
      return `unknown property (expected ${Object.keys(schema.properties ?? {})
        .filter((k) => k !== '$schema')
        .join(', ')})`;
    default:
      return error.message ?? `fails ${error.keyword}`;
  }
}

/**
 * The first problem of `value` against `schema`, or undefined. `schema` may be a part of `root`
 * (whose $defs its $refs name); `at` is prepended to the problem's path.
 */
export function validateJson(value: unknown, schema: JsonSchema, root: JsonSchema = schema, at: (string | number)[] = []): SchemaProblem | undefined {
  const validate = validatorOf(schema, root);
  if (validate(value)) return undefined;
  const error = validate.errors![0];
  const path = pathOf(error.instancePath, value);
  if (error.keyword === 'additionalProperties') path.push(String((error.params as { additionalProperty: string }).additionalProperty));
  return { path: [...at, ...path], message: messageOf(error) };
}
