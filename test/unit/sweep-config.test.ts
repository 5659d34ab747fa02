import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ATTACK_NAMES, resolveAttackParams } from '../../src/core/attacks';
import { DATASET_KINDS } from '../../src/core/data';
import { UserError } from '../../src/core/errors';
import { CONFIG_LIMITS, DATA_LIMITS } from '../../src/core/limits';
import { EXPERIMENT_SCHEMA } from '../../src/host/workspace/experiment';
import { sampleModelMeta } from '../helpers/modelMeta';
import { GRID_KEYS, SWEEP_SCHEMA, SweepConfig, loadSweepConfig, parseGrid, planSweep, validateSweepConfig } from '../../src/core/sweep';

/** A model folder as far as planning is concerned: a model.json and, optionally, a gccs.json. */
function fakeModel(withMeta = true): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-sweep-plan-'));
  fs.writeFileSync(path.join(dir, 'model.json'), '{}');
  // Synthetic data (600/300, seed 1), validation 0.1, split seed 1, GCCS with μ_T 50.
  if (withMeta) fs.writeFileSync(path.join(dir, 'gccs.json'), JSON.stringify(sampleModelMeta()));
  return dir;
}

function assertOneLine(run: () => unknown, pattern: RegExp | string) {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof UserError, `a UserError: ${error}`);
    assert.ok(!error.message.includes('\n'), 'one line');
    if (typeof pattern === 'string') assert.equal(error.message, pattern);
    else assert.match(error.message, pattern);
    return true;
  });
}

test('ε grids: start:stop:step includes stop within rounding; comma lists; bad grids are one-line errors', () => {
  assert.deepEqual(parseGrid('0:0.1:0.01'), [0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1]);
  assert.deepEqual(parseGrid('0:0.3:0.1'), [0, 0.1, 0.2, 0.3]);
  assert.deepEqual(parseGrid('0.1:0.25:0.1'), [0.1, 0.2]);
  assert.deepEqual(parseGrid('0.05'), [0.05]);
  assert.deepEqual(parseGrid('0, 0.05,0.1'), [0, 0.05, 0.1]);
  assert.deepEqual(parseGrid('10:40:10'), [10, 20, 30, 40]);
  assertOneLine(() => parseGrid('0:0.1'), /^"0:0\.1" is not a grid: expected start:stop:step/);
  assertOneLine(() => parseGrid('0,,0.1'), /is not a grid/);
  assertOneLine(() => parseGrid('a:b:c'), /is not a grid/);
  assertOneLine(() => parseGrid('0:0.1:0'), 'grid "0:0.1:0": the step must be > 0');
  assertOneLine(() => parseGrid('0.1:0:0.01'), 'grid "0.1:0:0.01": stop is below start');
  assertOneLine(() => parseGrid('0:1:0.0001'), /has 10001 points/);
});

test('configuration errors name the file and the JSON path, in one line', () => {
  const model = fakeModel();
  const file = 'sweep.json';
  const plan = (config: object) => () => planSweep(config as SweepConfig, file);
  const pgd = { name: 'pgd', eps: [0.1] };
  assertOneLine(plan({ models: [model], attacks: [pgd, pgd, { name: 'pgdd' }] }), `sweep.json: attacks[2].name: unknown attack "pgdd" (${ATTACK_NAMES.join(', ')})`);
  assertOneLine(plan({ attacks: [pgd] }), 'sweep.json: missing "models"');
  assertOneLine(plan({ models: [], attacks: [pgd] }), 'sweep.json: models: needs at least 1 item');
  assertOneLine(plan({ models: [model], attacks: [{ name: 'pgd', eps: [0, -0.1] }] }), 'sweep.json: attacks[0].eps[1]: must be ≥ 0 (got -0.1)');
  assertOneLine(plan({ models: [model], attacks: [{ name: 'pgd', eps: '-0.1:0.1:0.1' }] }), 'sweep.json: attacks[0].eps[0]: must be ≥ 0 (got -0.1)');
  assertOneLine(plan({ models: [model], attacks: [{ name: 'pgd', eps: '0:0.1' }] }), 'sweep.json: attacks[0].eps: must look like 0:0.1:0.01 or 0,0.05,0.1 (got "0:0.1")');
  assertOneLine(plan({ models: [model], attacks: [{ name: 'pgd', eps: '0:0.1:x' }] }), /^sweep\.json: attacks\[0\]\.eps: "0:0\.1:x" is not a grid/);
  assertOneLine(plan({ models: [model], attacks: [{ name: 'pgd', eps: 0.1 }] }), 'sweep.json: attacks[0].eps: must be a list or a string (got 0.1)');
  assertOneLine(plan({ models: [model], attacks: [{ name: 'pgd', epsilon: [0.1] }] }), 'sweep.json: attacks[0].epsilon: unknown property (expected name, eps, iterations, samples, params)');
  assertOneLine(plan({ models: [model], attacks: [{ name: 'pgd', params: { steps: 0 } }] }), 'sweep.json: attacks[0].params.steps: must be ≥ 1 (got 0)');
  assertOneLine(plan({ models: [model], attacks: [{ name: 'pgd', params: { steps: 2.5 } }] }), 'sweep.json: attacks[0].params.steps: must be a whole number (got 2.5)');
  assertOneLine(plan({ models: [model], attacks: [{ name: 'pgd', params: { loss: 'hinge' } }] }), `sweep.json: attacks[0].params.loss: unknown attack loss "hinge" (${SWEEP_SCHEMA.$defs!.attack.properties!.params.properties!.loss.enum!.join(', ')})`);
  assertOneLine(plan({ models: [model], attacks: [{ name: 'fgsm', params: { gamma: 0.1 } }] }), `sweep.json: attacks[0].params.gamma: fgsm takes no parameter "gamma" (it takes ${Object.keys(resolveAttackParams('fgsm')).join(', ')})`);
  assertOneLine(plan({ models: [model], attacks: [{ name: 'deepfool', eps: [0.1] }] }), /^sweep\.json: attacks\[0\]\.eps: deepfool takes no parameter "eps"/);
  assertOneLine(plan({ models: [model], attacks: [{ name: 'pgd', iterations: [5] }] }), /^sweep\.json: attacks\[0\]\.iterations: pgd takes no parameter "iterations"/);
  assertOneLine(plan({ models: [model], attacks: [{ name: 'spsa', samples: [0] }] }), 'sweep.json: attacks[0].samples[0]: must be ≥ 1 (got 0)');
  assertOneLine(plan({ models: [model], attacks: [pgd], count: 0 }), 'sweep.json: count: must be ≥ 1 (got 0)');
  assertOneLine(plan({ models: [model], attacks: [pgd], data: { kind: 'imagenet' } }), /^sweep\.json: data\.kind: unknown dataset kind "imagenet"/);
  assertOneLine(plan({ models: [model], attacks: [pgd], data: { kind: 'mnist', testRange: 'all' } }), 'sweep.json: data.testRange: must look like 8000:10000 (got "all")');
  assertOneLine(plan({ models: [path.join(model, 'nope')], attacks: [pgd] }), /^sweep\.json: models\[0\]: no model at .*nope/);
  assertOneLine(plan({ models: [fakeModel(false)], attacks: [pgd] }), /^sweep\.json: models\[0\]: .* has no gccs\.json to take its test split from/);
});

test('a configuration file: invalid JSON is one line; relative paths are relative to the file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-sweep-file-'));
  const file = path.join(dir, 'sweep.json');
  fs.writeFileSync(file, '{ "models": [');
  assertOneLine(() => loadSweepConfig(file), new RegExp(`^${file}: not valid JSON`));
  fs.writeFileSync(file, JSON.stringify({ models: ['models/a'], attacks: [{ name: 'fgsm' }], data: { kind: 'mnist', path: 'data/mnist' } }));
  const config = loadSweepConfig(file);
  assert.deepEqual(config.models, [path.join(dir, 'models/a')]);
  assert.equal(config.data?.path, path.join(dir, 'data/mnist'));
});

test('the schema agrees with the attack registry and the dataset kinds', () => {
  const attack = SWEEP_SCHEMA.$defs!.attack;
  assert.deepEqual(attack.properties!.name.enum, ATTACK_NAMES);
  const taken = new Set(ATTACK_NAMES.flatMap((name) => Object.keys(resolveAttackParams(name))));
  const gridded = GRID_KEYS as readonly string[];
  assert.deepEqual(Object.keys(attack.properties!.params.properties!).sort(), [...taken].filter((key) => !gridded.includes(key)).sort());
  assert.ok(GRID_KEYS.every((key) => taken.has(key) && attack.properties![key]));
  assert.deepEqual(SWEEP_SCHEMA.$defs!.data.properties!.kind.enum, [...DATASET_KINDS]);
  // The defaults the schema documents are the registry's.
  for (const [key, schema] of Object.entries(attack.properties!.params.properties!)) {
    if (schema.default === undefined) continue;
    for (const name of ATTACK_NAMES) {
      const params = resolveAttackParams(name) as Record<string, unknown>;
      if (key in params) assert.equal(params[key], schema.default, `${name}.${key}`);
    }
  }
});

test('cells: ε × IT × BS for SPSA, one for DeepFool and JSMA; ids stable, ε = 0 is the clean baseline', () => {
  const model = fakeModel();
  const config: SweepConfig = {
    models: [model],
    attacks: [
      { name: 'spsa', eps: [0.1, 0.05], iterations: [5, 10], samples: '8,16,32' },
      { name: 'deepfool' },
      { name: 'jsma', params: { gamma: 0.2 } },
      { name: 'pgd', eps: '0:0.1:0.05', params: { loss: 'latent' } },
      { name: 'pgd', eps: [0.05], params: { loss: 'latent' } },
    ],
    count: 300,
  };
  const { cells, configHash } = planSweep(config);
  const of = (entry: number) => cells.filter((cell) => cell.entry === entry);
  assert.equal(of(0).length, 2 * 2 * 3);
  assert.deepEqual(of(0).map((cell) => [cell.eps, cell.iterations, cell.samples]).slice(0, 4), [[0.05, 5, 8], [0.05, 5, 16], [0.05, 5, 32], [0.05, 10, 8]]);
  assert.deepEqual(of(0)[0].params, { ...resolveAttackParams('spsa'), eps: 0.05, iterations: 5, samples: 8 });
  assert.equal(of(1).length, 1);
  assert.deepEqual([of(1)[0].eps, of(1)[0].iterations, of(1)[0].samples], [null, null, null]);
  assert.deepEqual(of(1)[0].params, { overshoot: 0.02, maxIterations: 50 });
  assert.equal(of(2).length, 1);
  assert.equal(of(2)[0].params.gamma, 0.2);
  const pgd = of(3);
  assert.deepEqual(pgd.map((cell) => cell.eps), [0, 0.05, 0.1]);
  assert.deepEqual(pgd.map((cell) => cell.params.stepSize), [0, 0.025, 0.05], 'stepSize 2.5ε/K, 0 at ε = 0');
  assert.ok(pgd.every((cell) => cell.params.muT === 50), "the latent loss takes μ_T from the model's gccs.json");
  assert.equal(of(4).length, 0, 'a cell equal to an earlier one runs once');
  assert.equal(new Set(cells.map((cell) => cell.id)).size, cells.length);
  const spec = { kind: 'synthetic', syntheticTrain: 600, syntheticTest: 300, seed: 1 };
  assert.deepEqual(pgd[0].data, { spec, trainRange: null, testRange: null, validationFraction: 0.1, splitSeed: 1 });
  assert.ok(cells.every((cell) => cell.count === 300 && cell.batchSize === 100 && cell.seed === 0));

  const again = planSweep(JSON.parse(JSON.stringify(config)));
  assert.equal(again.configHash, configHash);
  assert.deepEqual(again.cells.map((cell) => cell.id), cells.map((cell) => cell.id));
  const reseeded = planSweep({ ...config, seed: 1 });
  assert.notEqual(reseeded.configHash, configHash);
  assert.ok(reseeded.cells.every((cell, i) => cell.id !== cells[i].id));
  // Another data source changes every cell.
  const override = planSweep({ ...config, data: { kind: 'synthetic', testRange: '0:100' } });
  assert.deepEqual(override.cells[0].data, { spec: { kind: 'synthetic' }, trainRange: null, testRange: '0:100', validationFraction: 0, splitSeed: 0 });
  // A model without gccs.json is fine when the data is given.
  assert.equal(planSweep({ models: [fakeModel(false)], attacks: [{ name: 'deepfool' }], data: { kind: 'synthetic' } }).cells.length, 1);
});

test('caps (CONFIG_LIMITS): every grid form, the cells of a sweep, steps and count are refused before anything is built', () => {
  const model = fakeModel();
  const plan = (config: object) => () => planSweep(config as SweepConfig, 'sweep.json');
  const max = CONFIG_LIMITS.gridValues;
  const many = Array.from({ length: max + 1 }, (_, i) => i / (max + 1));
  assertOneLine(() => parseGrid(many.join(',')), /^grid "[\d.,]{37}\.\.\." has more than 1000 values$/);
  assertOneLine(() => parseGrid(','.repeat(10_000_000)), /has more than 1000 values$/);
  assertOneLine(() => parseGrid('0:1e300:1e-300'), /^grid "0:1e300:1e-300" has Infinity points \(at most 1000\)$/);
  assert.equal(parseGrid(many.slice(0, max).join(',')).length, max);
  assertOneLine(plan({ models: [model], attacks: [{ name: 'pgd', eps: many }] }), `sweep.json: attacks[0].eps: takes at most ${max} items`);
  assertOneLine(plan({ models: [model], attacks: [{ name: 'pgd', eps: many.join(',') }] }), /^sweep\.json: attacks\[0\]\.eps: grid ".*" has more than 1000 values$/);
  const grid = '1:100:1';
  assertOneLine(plan({ models: [model], attacks: [{ name: 'spsa', eps: '0:0.99:0.01', iterations: grid, samples: grid }] }), `sweep.json: 1000000 cells (models × grid points) are more than ${CONFIG_LIMITS.sweepCells}: split the sweep or use coarser grids`);
  assertOneLine(plan({ models: [model], attacks: [{ name: 'pgd', params: { steps: CONFIG_LIMITS.steps + 1 } }] }), `sweep.json: attacks[0].params.steps: must be ≤ ${CONFIG_LIMITS.steps} (got ${CONFIG_LIMITS.steps + 1})`);
  assertOneLine(plan({ models: [model], attacks: [{ name: 'spsa', iterations: [CONFIG_LIMITS.iterations + 1] }] }), `sweep.json: attacks[0].iterations[0]: must be ≤ ${CONFIG_LIMITS.iterations} (got ${CONFIG_LIMITS.iterations + 1})`);
  assertOneLine(plan({ models: [model], attacks: [{ name: 'spsa', samples: `${CONFIG_LIMITS.samples + 1}` }] }), `sweep.json: attacks[0].samples[0]: must be ≤ ${CONFIG_LIMITS.samples} (got ${CONFIG_LIMITS.samples + 1})`);
  assertOneLine(plan({ models: [model], attacks: [{ name: 'pgd' }], count: CONFIG_LIMITS.count + 1 }), `sweep.json: count: must be ≤ ${CONFIG_LIMITS.count} (got ${CONFIG_LIMITS.count + 1})`);
  // eslint-disable-next-line no-loss-of-precision -- 1e999 is Infinity, as JSON.parse reads it
  assertOneLine(plan({ models: [model], attacks: [{ name: 'pgd' }], batchSize: 1e999 }), 'sweep.json: batchSize: must be a whole number (got Infinity)');
});

test('the schemas carry CONFIG_LIMITS as their maxima', () => {
  const sweep = SWEEP_SCHEMA;
  const attack = sweep.$defs!.attack.properties!;
  const data = sweep.$defs!.data.properties!;
  assert.equal(sweep.$defs!.grid.maxItems, CONFIG_LIMITS.gridValues);
  assert.equal(sweep.properties!.models.maxItems, CONFIG_LIMITS.sweepModels);
  assert.equal(sweep.properties!.attacks.maxItems, CONFIG_LIMITS.sweepAttacks);
  assert.equal(sweep.properties!.count.maximum, CONFIG_LIMITS.count);
  assert.equal(sweep.properties!.batchSize.maximum, CONFIG_LIMITS.batchSize);
  assert.equal(attack.iterations.items!.maximum, CONFIG_LIMITS.iterations);
  assert.equal(attack.samples.items!.maximum, CONFIG_LIMITS.samples);
  assert.equal(attack.params.properties!.steps.maximum, CONFIG_LIMITS.steps);
  assert.equal(attack.params.properties!.maxIterations.maximum, CONFIG_LIMITS.steps);
  const experiment = EXPERIMENT_SCHEMA;
  assert.equal(experiment.properties!.epochs.maximum, CONFIG_LIMITS.epochs);
  assert.equal(experiment.properties!.batchSize.maximum, CONFIG_LIMITS.batchSize);
  assert.equal(experiment.properties!.workers.maximum, CONFIG_LIMITS.workers);
  const top = experiment.properties!;
  const paths = [sweep.properties!.models.items!, data.path, data.cacheRoot, top.model, top.fineTuneFrom, top.outDir];
  for (const schema of paths) assert.equal(schema.maxLength, CONFIG_LIMITS.pathChars);
  for (const dataset of [data, experiment.$defs!.dataset.properties!]) {
    assert.equal(dataset.path.maxLength, CONFIG_LIMITS.pathChars);
    assert.equal(dataset.cacheRoot.maxLength, CONFIG_LIMITS.pathChars);
    assert.equal(dataset.syntheticTrain.maximum, CONFIG_LIMITS.syntheticExamples);
    assert.equal(dataset.syntheticTest.maximum, CONFIG_LIMITS.syntheticExamples);
    assert.equal(dataset.imageSize.items!.maximum, DATA_LIMITS.imageSide);
  }
});

test('sweep files: __proto__, constructor and prototype keys, deep nesting, huge files, folders and FIFOs are one line naming the file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-sweep-hostile-'));
  const file = path.join(dir, 'hostile.sweep.json');
  const load = (text: string) => () => {
    fs.writeFileSync(file, text);
    return loadSweepConfig(file);
  };
  assertOneLine(load('{"models":["m"],"attacks":[{"name":"pgd","params":{"__proto__":{"steps":1e9}}}]}'), `${file}: attacks[0].params.__proto__: the key "__proto__" is not allowed`);
  assertOneLine(load('{"constructor":{"prototype":{}},"models":["m"],"attacks":[{"name":"pgd"}]}'), `${file}: constructor: the key "constructor" is not allowed`);
  assertOneLine(load('{"models":["m"],"attacks":[{"name":"pgd"}],"data":{"kind":"synthetic","x":{"prototype":1}}}'), `${file}: data.x.prototype: the key "prototype" is not allowed`);
  assertOneLine(load(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), new RegExp(`^${file}: (\\[0\\]){${CONFIG_LIMITS.jsonDepth}}: nested deeper than ${CONFIG_LIMITS.jsonDepth} levels$`));
  assertOneLine(load(' '.repeat(CONFIG_LIMITS.configFileBytes + 1)), `${file}: is ${CONFIG_LIMITS.configFileBytes + 1} bytes (at most ${CONFIG_LIMITS.configFileBytes})`);
  assertOneLine(load('null'), `${file}: must be an object (got null)`);
  // V8's JSON.parse message quotes the text, newlines included (found by npm run fuzz:config).
  assertOneLine(load('{"models":nu\nll}'), `${file}: not valid JSON (Unexpected token '\\u000a', "{"models":nu\\u000all}" is not valid JSON)`);
  assertOneLine(() => loadSweepConfig(dir), `${dir}: is a folder, not a file`);
  const fifo = path.join(dir, 'fifo.json');
  execFileSync('mkfifo', [fifo]);
  assertOneLine(() => loadSweepConfig(fifo), `${fifo}: is not a regular file`);
  // A config object from code gets the same key check.
  const object = JSON.parse('{"models":["m"],"attacks":[{"name":"pgd"}],"__proto__":{}}') as SweepConfig;
  assertOneLine(() => planSweep(object, 'api'), 'api: __proto__: the key "__proto__" is not allowed');
});

test('a sweep is validated once: loadSweepConfig returns it frozen, with absolute paths, and planSweep plans it as the same object from code', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-sweep-once-'));
  const model = fakeModel();
  const file = path.join(dir, 'once.sweep.json');
  const raw: SweepConfig = { models: [path.relative(dir, model)], attacks: [{ name: 'pgd', eps: '0:0.1:0.05', params: { steps: 3 } }] };
  fs.writeFileSync(file, JSON.stringify(raw));
  const loaded = loadSweepConfig(file);
  assert.ok(Object.isFrozen(loaded) && Object.isFrozen(loaded.attacks![0].params), 'a checked configuration cannot change afterwards');
  assert.throws(() => (loaded.models as string[]).push('elsewhere'), TypeError);
  assert.deepEqual(loaded.models, [model]);
  const fromCode = planSweep({ ...raw, models: [model] });
  assert.deepEqual(planSweep(loadSweepConfig(file)), fromCode);
  assert.deepEqual(validateSweepConfig(raw, 'api', dir).models, [model], 'relative paths against the given folder');
  assert.deepEqual(raw.models, [path.relative(dir, model)], "the caller's object is left as it was");
  // Cells carry every parameter, checked: the step size follows each ε (0 at ε = 0), μ_T is the model's.
  const expected = (eps: number) => ({ ...resolveAttackParams('pgd', { steps: 3 }), eps, stepSize: (2.5 * eps) / 3, muT: 50 });
  assert.deepEqual(fromCode.cells.map((cell) => cell.params), [0, 0.05, 0.1].map(expected));
});

test("the catalog's ranges in the schema and its checks beyond it name the place in the file", () => {
  const model = fakeModel();
  const plan = (config: object) => () => planSweep(config as SweepConfig, 'sweep.json');
  assertOneLine(plan({ models: [model], attacks: [{ name: 'jsma', params: { gamma: 0 } }] }), 'sweep.json: attacks[0].params.gamma: must be > 0 (got 0)');
  assertOneLine(plan({ models: [model], attacks: [{ name: 'tgsm', params: { target: -1 } }] }), 'sweep.json: attacks[0].params.target: tgsm: target must be next, least-likely or a class index ≥ 0 (got -1)');
  assertOneLine(plan({ models: [model], attacks: [{ name: 'square', params: { queries: 0 } }] }), 'sweep.json: attacks[0].params.queries: must be ≥ 1 (got 0)');
  assertOneLine(plan({ models: [model], attacks: [{ name: 'pgd', eps: '0.5:1.5:0.5' }] }), 'sweep.json: attacks[0].eps[2]: must be ≤ 1 (got 1.5)');
});
