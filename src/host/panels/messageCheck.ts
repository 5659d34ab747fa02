/**
 * A small run-time guard for messages that cross a trust boundary (a webview → the extension
 * host): each check returns the value, typed, or throws MessageError naming the field and the
 * problem. Objects must be plain (no prototype but Object's, no accessors) and hold exactly the
 * declared fields: an unexpected key, `__proto__` included, is refused. the panels' messages.ts modules declare
 * every message with these checks and derives its TypeScript type from them (one definition).
 * Pure: no vscode, no Node, no TensorFlow.js.
 */

export class MessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MessageError';
  }
}

/** Checks `value` (found at `at`, e.g. "message.request.count") and returns it typed, or throws MessageError. */
export type Check<T> = (value: unknown, at: string) => T;
/** The type a check returns. */
export type Checked<C> = C extends Check<infer T> ? T : never;

/** A field that may be absent (never undefined-valued: a present field is checked). */
export interface Optional<T> {
  optional: Check<T>;
}
export type Shape = Record<string, Check<unknown> | Optional<unknown>>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type RequiredKeys<S> = { [K in keyof S]: S[K] extends Optional<unknown> ? never : K }[keyof S];
type OptionalKeys<S> = { [K in keyof S]: S[K] extends Optional<unknown> ? K : never }[keyof S];
export type ShapeOf<S extends Shape> = Simplify<
  { [K in RequiredKeys<S>]: S[K] extends Check<infer T> ? T : never } & { [K in OptionalKeys<S>]?: S[K] extends Optional<infer T> ? T : never }
>;

function fail(at: string, problem: string): never {
  throw new MessageError(`${at}: ${problem}`);
}

const kind = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value);

export function text(options: { maxLength: number; pattern?: RegExp; what?: string }): Check<string> {
  return (value, at) => {
    if (typeof value !== 'string') fail(at, `a string expected, got ${kind(value)}`);
    if (value.length > options.maxLength) fail(at, `longer than ${options.maxLength} characters (${value.length})`);
    if (options.pattern && !options.pattern.test(value)) fail(at, `not ${options.what ?? `of the form ${options.pattern}`}`);
    return value;
  };
}

/** A whole number in [min, max]. */
export function integer(min: number, max: number): Check<number> {
  return (value, at) => {
    if (typeof value !== 'number' || !Number.isInteger(value)) fail(at, `a whole number expected, got ${typeof value === 'number' ? value : kind(value)}`);
    if (value < min || value > max) fail(at, `${value} is outside [${min}, ${max}]`);
    return value;
  };
}

/** A finite number in [min, max]. */
export function finite(min: number, max: number): Check<number> {
  return (value, at) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) fail(at, `a finite number expected, got ${typeof value === 'number' ? value : kind(value)}`);
    if (value < min || value > max) fail(at, `${value} is outside [${min}, ${max}]`);
    return value;
  };
}

export function oneOf<const V extends readonly string[]>(...values: V): Check<V[number]> {
  return (value, at) => {
    if (typeof value !== 'string' || !values.includes(value)) fail(at, `one of ${values.join(', ')} expected, got ${typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : kind(value)}`);
    return value as V[number];
  };
}

export const optional = <T>(check: Check<T>): Optional<T> => ({ optional: check });

export function array<T>(item: Check<T>, maxItems: number): Check<T[]> {
  return (value, at) => {
    if (!Array.isArray(value) || Object.getPrototypeOf(value) !== Array.prototype) fail(at, `an array expected, got ${kind(value)}`);
    if (value.length > maxItems) fail(at, `more than ${maxItems} items (${value.length})`);
    return Array.from({ length: value.length }, (_, i) => item(value[i], `${at}[${i}]`));
  };
}

function plainObject(value: unknown, at: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(at, `an object expected, got ${kind(value)}`);
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) fail(at, 'a plain object expected');
  return value as Record<string, unknown>;
}

/** The declared fields of a plain object, each checked; `others: 'ignore'` skips undeclared fields instead of refusing them. */
function fields<S extends Shape>(shape: S, others: 'refuse' | 'ignore'): Check<ShapeOf<S>> {
  return (value, at) => {
    const source = plainObject(value, at);
    for (const key of Reflect.ownKeys(source)) {
      const declared = typeof key === 'string' && Object.hasOwn(shape, key);
      if (!declared && others === 'refuse') fail(at, `unexpected field ${JSON.stringify(String(key).slice(0, 40))}`);
      if (declared && !('value' in Object.getOwnPropertyDescriptor(source, key)!)) fail(`${at}.${String(key)}`, 'an accessor, not a value');
    }
    const out: Record<string, unknown> = {};
    for (const [key, spec] of Object.entries(shape)) {
      const present = Object.hasOwn(source, key);
      if ('optional' in spec) {
        if (present) out[key] = spec.optional(source[key], `${at}.${key}`);
      } else {
        if (!present) fail(at, `field "${key}" is missing`);
        out[key] = spec(source[key], `${at}.${key}`);
      }
    }
    return out as ShapeOf<S>;
  };
}

/** A plain object with exactly these fields. */
export const object = <S extends Shape>(shape: S): Check<ShapeOf<S>> => fields(shape, 'refuse');

/** Only these fields of a plain object, others ignored (e.g. a webview's saved state, of which the host reads a few fields). */
export const someFields = <S extends Shape>(shape: S): Check<ShapeOf<S>> => fields(shape, 'ignore');

/** One of several object shapes told apart by their `type` field; exactly its declared fields. */
export function tagged<M extends Record<string, Shape>>(variants: M): Check<{ [K in keyof M & string]: ShapeOf<{ type: Check<K> } & M[K]> }[keyof M & string]> {
  const checks = new Map(Object.entries(variants).map(([type, shape]) => [type, object({ type: oneOf(type), ...shape })]));
  return (value, at) => {
    const source = plainObject(value, at);
    const type = Object.hasOwn(source, 'type') ? source.type : undefined;
    const check = typeof type === 'string' ? checks.get(type) : undefined;
    if (!check) fail(`${at}.type`, `one of ${[...checks.keys()].join(', ')} expected, got ${typeof type === 'string' ? JSON.stringify(type.slice(0, 40)) : kind(type)}`);
    return check(source, at) as never;
  };
}

/** The value, or the one-line problem: for callers that drop what they refuse. */
export function checkMessage<T>(check: Check<T>, value: unknown, at = 'message'): { ok: true; value: T } | { ok: false; problem: string } {
  try {
    return { ok: true, value: check(value, at) };
  } catch (error) {
    if (error instanceof MessageError) return { ok: false, problem: error.message };
    throw error;
  }
}
