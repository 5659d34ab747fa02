/**
 * Property-based fuzzing of the configuration inputs: experiment files (*.gccs.json), sweep files,
 * results JSON Lines (resumed with --resume) and ε grid strings. Valid inputs are generated, then
 * mutated (a value replaced by any JSON, a key removed or added — __proto__, constructor and
 * prototype among them —, deep nesting, huge numbers and grids, the text cut or spliced, bytes
 * flipped). Every case must end in a valid configuration or one UserError line: never another
 * error, and nothing accepted beyond the caps (CONFIG_LIMITS), so nothing later allocates without
 * bound. A refused --resume leaves the file byte-identical.
 *
 *   npm run fuzz:config                      10,000 cases per target (seed 1)
 *   npm run fuzz:config -- --runs 500 --seed 7 --only grid,sweep
 *
 * test/unit/fuzz-config.test.ts runs the same properties with a small count.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { DATASET_KINDS } from '../src/core/catalog';
import { UserError } from '../src/core/errors';
import { CONFIG_LIMITS } from '../src/core/limits';
import { loadSweepConfig, planSweep } from '../src/core/sweep/config';
import { parseGrid } from '../src/core/sweep/grid';
import { appendResult, openResults } from '../src/core/sweep/results';
import { parseExperiment } from '../src/host/workspace/experiment';
import { resultLine } from '../test/helpers/fileFormats';

// ---------------------------------------------------------------- mutations of JSON values and text

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

type Mutation =
  | { kind: 'replace'; at: number; value: Json }
  | { kind: 'remove'; at: number }
  | { kind: 'addKey'; at: number; key: string; value: Json }
  | { kind: 'nest'; at: number; depth: number }
  | { kind: 'cut'; at: number }
  | { kind: 'splice'; at: number; text: string };

/** Values a hostile file would put anywhere: extremes, wrong types, huge grids. */
const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  fc.constantFrom<Json>(
    0,
    -1,
    1.5,
    1e308,
    -1e308,
    2 ** 53,
    1e-320,
    '',
    ' ',
    '0:1:1e-9',
    '0:1e300:1e-300',
    '0,'.repeat(2000) + '0',
    'x'.repeat(100_000),
    '1:100:1',
    null,
    [],
    {},
  ),
  fc.integer({ min: 0, max: 3 }).map((k) => Array.from({ length: [999, 1000, 1001, 5000][k] }, (_, i) => i / 5000)),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: hostileValue }),
  fc.record({ kind: fc.constant('remove' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('addKey' as const),
    at: fc.nat(),
    key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', '$schema', 'eps', 'steps', 'x'), fc.string({ maxLength: 8 })),
    value: hostileValue,
  }),
  fc.record({ kind: fc.constant('nest' as const), at: fc.nat(), depth: fc.integer({ min: 1, max: 200 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('splice' as const),
    at: fc.nat(),
    text: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('"__proto__":{},', '{', ']', ',', '1e999', '\u0000', '\n')),
  }),
);

/** Every container of `value` (objects and arrays), in a fixed order. */
function containers(value: Json): (Json[] | { [key: string]: Json })[] {
  const found: (Json[] | { [key: string]: Json })[] = [];
  const walk = (node: Json) => {
    if (typeof node !== 'object' || node === null) return;
    found.push(node);
    (Array.isArray(node) ? node : Object.values(node)).forEach(walk);
  };
  walk(value);
  return found;
}

/** `value` after the JSON-level mutations, as text, then the text-level ones. */
function mutate(value: Json, mutations: Mutation[]): string {
  const doc = JSON.parse(JSON.stringify(value)) as Json;
  const textual: Mutation[] = [];
  for (const m of mutations) {
    const all = containers(doc);
    if (m.kind === 'cut' || m.kind === 'splice') {
      textual.push(m);
      continue;
    }
    if (!all.length) continue;
    const node = all[m.at % all.length];
    const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    const key = keys.length ? keys[m.at % keys.length] : undefined;
    const set = (k: string | number, v: Json) => {
      // defineProperty, so that __proto__ becomes an own key as JSON.parse would make it.
      Object.defineProperty(node, k, { value: v, enumerable: true, writable: true, configurable: true });
    };
    if (m.kind === 'replace' && key !== undefined) set(key, m.value);
    else if (m.kind === 'remove' && key !== undefined) {
      if (Array.isArray(node)) node.splice(key as number, 1);
      else delete node[key as string];
    } else if (m.kind === 'addKey' && !Array.isArray(node)) set(m.key, m.value);
    else if (m.kind === 'nest' && key !== undefined) {
      let nested = (node as Record<string | number, Json>)[key];
      for (let i = 0; i < m.depth; i++) nested = i % 2 ? [nested] : { a: nested };
      set(key, nested);
    }
  }
  let text = JSON.stringify(doc);
  for (const m of textual) {
    const at = m.at % (text.length + 1);
    text = m.kind === 'cut' ? text.slice(0, at) : text.slice(0, at) + (m as { text: string }).text + text.slice(at);
  }
  return text;
}

// ---------------------------------------------------------------- targets

export interface FuzzSummary {
  target: string;
  runs: number;
  /** Inputs that gave a valid configuration (or results). */
  accepted: number;
  /** Inputs refused with one UserError line. */
  refused: number;
  /** The slowest case, in ms. */
  slowestMs: number;
  /** Resident memory after the run, in MB. */
  rssMB: number;
}

/** Fails the property unless `error` is a one-line UserError. */
function assertRefusal(error: unknown, input: string): void {
  if (!(error instanceof UserError)) throw new Error(`not a UserError for ${JSON.stringify(input.slice(0, 300))}: ${(error as Error)?.stack ?? error}`);
  if (/[\n\r\u2028\u2029]/.test(error.message)) throw new Error(`a UserError of several lines: ${error.message}`);
  // A message may quote a path (≤ CONFIG_LIMITS.pathChars) but never a megabyte of the input.
  if (error.message.length > 2 * CONFIG_LIMITS.pathChars) throw new Error(`a UserError of ${error.message.length} characters`);
}

interface Target {
  name: string;
  /** The generated (and mutated) inputs. */
  property: () => fc.Arbitrary<unknown>;
  /** One case: true when accepted, false when refused with a UserError; throws when the property fails. */
  check: (input: never) => boolean;
}

const experiment: fc.Arbitrary<Json> = fc.record(
  {
    dataset: fc.record(
      {
        kind: fc.constantFrom(...DATASET_KINDS),
        path: fc.constantFrom('data/x', '../elsewhere'),
        seed: fc.nat(100),
        syntheticTrain: fc.integer({ min: 1, max: CONFIG_LIMITS.syntheticExamples }),
        syntheticTest: fc.integer({ min: 1, max: CONFIG_LIMITS.syntheticExamples }),
      },
      { requiredKeys: ['kind'] },
    ),
    split: fc.record(
      {
        trainRange: fc.constantFrom(null, '0:100', '100:0'),
        testRange: fc.constantFrom(null, '100:200'),
        validationFraction: fc.double({ min: 0, max: 0.9, noNaN: true }),
      },
      { requiredKeys: [] },
    ),
    model: fc.constantFrom('mlp', 'cnn', 'resnet18', 'nets/model.json'),
    loss: fc.oneof(
      fc.constant({ kind: 'crossentropy' }),
      fc.record(
        { kind: fc.constant('gccs'), muT: fc.double({ min: 1, max: 100, noNaN: true }), lambda: fc.double({ min: 0, max: 1, noNaN: true }) },
        { requiredKeys: ['kind'] },
      ),
    ),
    optimizer: fc.record(
      { kind: fc.constantFrom('adam', 'sgd'), learningRate: fc.double({ min: 1e-6, max: 1, noNaN: true }), clipNorm: fc.constantFrom(null, 1) },
      { requiredKeys: [] },
    ),
    batchSize: fc.integer({ min: 2, max: CONFIG_LIMITS.batchSize }),
    epochs: fc.integer({ min: 1, max: CONFIG_LIMITS.epochs }),
    seed: fc.nat(1000),
    outDir: fc.constantFrom('models/x', 'out'),
    resume: fc.boolean(),
    augmentShift: fc.nat(3),
    workers: fc.integer({ min: 1, max: CONFIG_LIMITS.workers }),
  },
  { requiredKeys: ['dataset', 'outDir'] },
) as fc.Arbitrary<Json>;

const experimentTarget: Target = {
  name: 'experiment',
  property: () => fc.tuple(experiment, fc.array(mutation, { maxLength: 4 })).map(([value, mutations]) => mutate(value, mutations)),
  check: (text: string) => {
    try {
      const config = parseExperiment('/ws/fuzz.gccs.json', text);
      if (!(config.epochs <= CONFIG_LIMITS.epochs && config.batchSize <= CONFIG_LIMITS.batchSize && (config.workers ?? 1) <= CONFIG_LIMITS.workers))
        throw new Error(`accepted beyond the caps: ${text}`);
      return true;
    } catch (error) {
      assertRefusal(error, text);
      return false;
    }
  },
};

/** A folder that planning takes for a model (a model.json; the sweep names the data). */
function fakeModel(root: string): string {
  const dir = path.join(root, 'model');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.json'), '{}');
  return dir;
}

const grid: fc.Arbitrary<Json> = fc.oneof(
  fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 5 }),
  fc.constantFrom('0:0.1:0.05', '0,0.05,0.1', '0.1', '0:0.3:0.1'),
);
const counts: fc.Arbitrary<Json> = fc.oneof(fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 3 }), fc.constantFrom('5,10', '1:3:1'));

const sweepAttack: fc.Arbitrary<Json> = fc.oneof(
  fc.record(
    {
      name: fc.constantFrom('fgsm', 'pgd', 'tgsm'),
      eps: grid,
      params: fc.record({ steps: fc.integer({ min: 1, max: 20 }), loss: fc.constantFrom('crossentropy', 'margin', 'latent') }, { requiredKeys: [] }),
    },
    { requiredKeys: ['name'] },
  ),
  fc.record({ name: fc.constant('spsa'), eps: grid, iterations: counts, samples: counts }, { requiredKeys: ['name'] }),
  fc.record(
    { name: fc.constantFrom('deepfool', 'jsma'), params: fc.record({ maxIterations: fc.integer({ min: 1, max: 100 }) }, { requiredKeys: [] }) },
    { requiredKeys: ['name'] },
  ),
) as fc.Arbitrary<Json>;

function sweepTarget(root: string): Target {
  const model = fakeModel(root);
  const file = path.join(root, 'fuzz.sweep.json');
  const sweep = fc.record(
    {
      models: fc.constant([model]),
      attacks: fc.array(sweepAttack, { minLength: 1, maxLength: 3 }),
      data: fc.constant({ kind: 'synthetic', testRange: '0:100' }),
      count: fc.integer({ min: 1, max: CONFIG_LIMITS.count }),
      batchSize: fc.integer({ min: 1, max: CONFIG_LIMITS.batchSize }),
      seed: fc.nat(100),
    },
    { requiredKeys: ['models', 'attacks', 'data'] },
  ) as fc.Arbitrary<Json>;
  return {
    name: 'sweep',
    property: () => fc.tuple(sweep, fc.array(mutation, { maxLength: 4 })).map(([value, mutations]) => mutate(value, mutations)),
    check: (text: string) => {
      fs.writeFileSync(file, text);
      try {
        const plan = planSweep(loadSweepConfig(file), file);
        if (plan.cells.length > CONFIG_LIMITS.sweepCells) throw new Error(`${plan.cells.length} cells accepted: ${text.slice(0, 300)}`);
        for (const attack of plan.sweep.attacks) {
          for (const values of Object.values(attack.grid))
            if (values.length > CONFIG_LIMITS.gridValues) throw new Error(`a grid of ${values.length} values accepted`);
        }
        return true;
      } catch (error) {
        assertRefusal(error, text);
        return false;
      }
    },
  };
}

type ByteMutation = { kind: 'flip'; at: number; mask: number } | { kind: 'cut'; at: number } | { kind: 'insert'; at: number; bytes: Uint8Array };

const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 8 }),
      fc.constantFrom(...['\n', '{}\n', '"__proto__":{},', 'null\n', '{"configHash":"h1",'].map((s) => Buffer.from(s))),
    ),
  }),
);

function resultsTarget(root: string): Target {
  const file = path.join(root, 'fuzz.results.jsonl');
  const cellIds = new Set(['c0', 'c1', 'c2', 'c3', 'c4']);
  const results = fc.tuple(
    fc.array(fc.record({ id: fc.constantFrom('c0', 'c1', 'c2', 'c3', 'c4', 'c9'), hash: fc.constantFrom('h1', 'h1', 'h1', 'h2') }), { maxLength: 6 }),
    fc.array(fc.tuple(fc.nat(), mutation), { maxLength: 2 }),
    fc.array(byteMutation, { maxLength: 3 }),
  );
  return {
    name: 'results',
    property: () => results,
    check: ([lines, lineMutations, byteMutations]: [{ id: string; hash: string }[], [number, Mutation][], ByteMutation[]]) => {
      const texts = lines.map(({ id, hash }) => JSON.stringify(resultLine(id, hash)));
      for (const [at, m] of lineMutations) {
        const i = at % Math.max(texts.length, 1);
        if (i < lines.length) texts[i] = mutate(resultLine(lines[i].id, lines[i].hash) as unknown as Json, [m]);
      }
      let bytes = Buffer.from(texts.map((t) => `${t}\n`).join(''));
      for (const m of byteMutations) {
        const at = m.at % (bytes.length + 1);
        if (m.kind === 'flip' && at < bytes.length) bytes[at] ^= m.mask;
        else if (m.kind === 'cut') bytes = bytes.subarray(0, at);
        else if (m.kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
      }
      fs.writeFileSync(file, bytes);
      const input = bytes.toString('latin1');
      try {
        const found = openResults(file, 'h1', true, cellIds);
        if (!found.every((r) => r.configHash === 'h1' && cellIds.has(r.cell.id))) throw new Error(`a foreign result accepted: ${input.slice(0, 300)}`);
        const after = fs.readFileSync(file);
        // Accepted: the file is as it was, or cut back to its last complete line (a torn line of this sweep).
        if (!(after.equals(bytes) || (after.length === bytes.lastIndexOf(0x0a) + 1 && after.equals(bytes.subarray(0, after.length)))))
          throw new Error('an accepted file was changed beyond its torn last line');
        appendResult(file, resultLine('c0', 'h1'));
        if (openResults(file, 'h1', true, cellIds).length !== found.length + 1) throw new Error('the next append is not a line of its own');
        return true;
      } catch (error) {
        assertRefusal(error, input);
        if (!fs.readFileSync(file).equals(bytes)) throw new Error(`a refused file was changed: ${input.slice(0, 300)}`, { cause: error });
        return false;
      }
    },
  };
}

const gridText: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.double({ noNaN: false }), fc.double(), fc.double()).map(([a, b, c]) => `${a}:${b}:${c}`),
  fc
    .tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 1e-6, max: 1, noNaN: true }))
    .map(([a, b, c]) => `${Math.min(a, b)}:${Math.max(a, b)}:${c}`),
  fc.array(fc.oneof(fc.double(), fc.integer()), { minLength: 1, maxLength: 20 }).map((values) => values.join(',')),
  fc.integer({ min: 990, max: 1010 }).map((n) => Array.from({ length: n }, (_, i) => i).join(',')),
  fc.integer({ min: 990, max: 1010 }).map((n) => `0:1:${1 / (n - 1)}`),
  fc.stringOf(fc.constantFrom('0', '1', '5', '.', ',', ':', 'e', '-', '+', ' ', 'x', 'Infinity', 'NaN', '0x1', '\u00a0', '\n'), { maxLength: 40 }),
  fc.string({ maxLength: 30 }),
);

const gridTarget: Target = {
  name: 'grid',
  property: () => gridText,
  check: (text: string) => {
    try {
      const values = parseGrid(text);
      if (values.length < 1 || values.length > CONFIG_LIMITS.gridValues || !values.every(Number.isFinite))
        throw new Error(`grid ${JSON.stringify(text)} gave ${values.length} values`);
      return true;
    } catch (error) {
      assertRefusal(error, text);
      return false;
    }
  },
};

export const FUZZ_TARGET_NAMES = ['experiment', 'sweep', 'results', 'grid'] as const;

/** Runs `runs` cases of one target with a fixed seed; throws (with fast-check's counterexample) if a property fails. */
export function fuzzConfigTarget(name: (typeof FUZZ_TARGET_NAMES)[number], runs: number, seed: number): FuzzSummary {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `gccs-fuzz-${name}-`));
  try {
    const target = { experiment: () => experimentTarget, sweep: () => sweepTarget(root), results: () => resultsTarget(root), grid: () => gridTarget }[name]();
    let accepted = 0;
    let refused = 0;
    let slowestMs = 0;
    fc.assert(
      fc.property(target.property(), (input) => {
        const start = performance.now();
        if (target.check(input as never)) accepted++;
        else refused++;
        slowestMs = Math.max(slowestMs, performance.now() - start);
      }),
      { numRuns: runs, seed, endOnFailure: true },
    );
    return { target: name, runs, accepted, refused, slowestMs, rssMB: process.memoryUsage().rss / 2 ** 20 };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

function main(argv: string[]): number {
  const option = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const runs = Number(option('--runs') ?? 10_000);
  const seed = Number(option('--seed') ?? 1);
  const only = option('--only')?.split(',') ?? [...FUZZ_TARGET_NAMES];
  for (const name of only) {
    if (!(FUZZ_TARGET_NAMES as readonly string[]).includes(name)) {
      process.stderr.write(`unknown target ${name} (${FUZZ_TARGET_NAMES.join(', ')})\n`);
      return 2;
    }
    const start = performance.now();
    const s = fuzzConfigTarget(name as (typeof FUZZ_TARGET_NAMES)[number], runs, seed);
    const seconds = (performance.now() - start) / 1000;
    process.stdout.write(
      `${s.target.padEnd(10)} ${s.runs} cases (seed ${seed}): ${s.accepted} accepted, ${s.refused} refused with one UserError line; slowest case ${s.slowestMs.toFixed(1)} ms; ${seconds.toFixed(1)} s; RSS ${s.rssMB.toFixed(0)} MB\n`,
    );
  }
  return 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
