import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GCCS_DEFAULTS } from '../../src/core/loss/gccs';
import { ARCHITECTURES } from '../../src/core/models';
import { DATASET_KINDS } from '../../src/core/data';
import { UserError } from '../../src/core/errors';
import { CONFIG_LIMITS } from '../../src/core/limits';
import SWEEP_SCHEMA from '../../schema/sweep.schema.json';
import { JsonSchema, validateJson } from '../../src/core/sweep/jsonSchema';
import { TRAIN_DEFAULTS } from '../../src/core/train/defaults';
import { BUILT_IN_MODELS, EXPERIMENT_SCHEMA, ExperimentError, loadExperiment, parseExperiment } from '../../src/host/workspace/experiment';

const valid = {
  $schema: '../schema/experiment.schema.json',
  dataset: { kind: 'mnist', path: 'data/mnist' },
  split: { trainRange: '0:8000', testRange: '8000:10000', validationFraction: 0.1 },
  model: 'cnn',
  loss: { kind: 'gccs', muT: 70, sigmaT: 1, lambda: 0.2, kurtosis: 'linear', ridge: 1e-4 },
  optimizer: { kind: 'adam', learningRate: 0.003 },
  batchSize: 200,
  epochs: 20,
  seed: 0,
  outDir: 'models/mnist-gccs',
};

test('the experiment schema accepts a valid experiment and rejects bad ones, naming the field', () => {
  assert.equal(validateJson(valid, EXPERIMENT_SCHEMA), undefined);
  assert.equal(validateJson({ dataset: { kind: 'synthetic' }, outDir: 'm' }, EXPERIMENT_SCHEMA), undefined);
  assert.deepEqual(validateJson({ ...valid, loss: { ...valid.loss, kurtosis: 'cubic' } }, EXPERIMENT_SCHEMA), { path: ['loss', 'kurtosis'], message: 'unknown kurtosis penalty "cubic" (linear, abs, squared)' });
  assert.deepEqual(validateJson({ ...valid, epochs: 0 }, EXPERIMENT_SCHEMA)?.path, ['epochs']);
  assert.deepEqual(validateJson({ ...valid, dataset: { kind: 'imagenet' } }, EXPERIMENT_SCHEMA)?.path, ['dataset', 'kind']);
  assert.deepEqual(validateJson({ ...valid, batchsize: 10 }, EXPERIMENT_SCHEMA)?.path, ['batchsize']);
  assert.deepEqual(validateJson({ dataset: { kind: 'synthetic' } }, EXPERIMENT_SCHEMA)?.message, 'missing "outDir"');
  assert.deepEqual(validateJson({ ...valid, split: { trainRange: '0-8000' } }, EXPERIMENT_SCHEMA)?.path, ['split', 'trainRange']);
});

test("the schema's defaults and enums are the engine's", () => {
  const defs = EXPERIMENT_SCHEMA.$defs!;
  const defaults = (def: string) =>
    Object.fromEntries(Object.entries(defs[def].properties!).flatMap(([k, v]) => (v.default === undefined ? [] : [[k, v.default]])));
  assert.deepEqual(defaults('loss'), { kind: 'gccs', ...GCCS_DEFAULTS });
  assert.deepEqual(defaults('optimizer'), { ...TRAIN_DEFAULTS.optimizer });
  assert.equal(defaults('split').validationFraction, TRAIN_DEFAULTS.validationFraction);
  const top = EXPERIMENT_SCHEMA.properties!;
  assert.equal(top.model.default, TRAIN_DEFAULTS.model);
  assert.equal(top.batchSize.default, TRAIN_DEFAULTS.batchSize);
  assert.equal(top.epochs.default, TRAIN_DEFAULTS.epochs);
  assert.equal(top.seed.default, TRAIN_DEFAULTS.seed);
  assert.equal(top.augmentShift.default, TRAIN_DEFAULTS.augmentShift);
  assert.deepEqual(defs.dataset.properties!.kind.enum, [...DATASET_KINDS]);
  assert.deepEqual(BUILT_IN_MODELS, [...ARCHITECTURES]);
});

test('an experiment file becomes a TrainConfig: defaults filled, paths relative to the file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-experiment-'));
  const file = path.join(dir, 'small.gccs.json');
  fs.writeFileSync(file, JSON.stringify({ dataset: { kind: 'synthetic' }, model: 'mlp', loss: { kind: 'gccs', muT: 50 }, outDir: 'models/small' }));
  const config = loadExperiment(file);
  assert.deepEqual(config.loss, { ...GCCS_DEFAULTS, muT: 50, kind: 'gccs' });
  assert.deepEqual(config.optimizer, TRAIN_DEFAULTS.optimizer);
  assert.deepEqual(config.split, { trainRange: null, testRange: null, validationFraction: 0.1 });
  assert.equal(config.outDir, path.join(dir, 'models/small'));
  assert.equal(config.model, 'mlp');
  assert.equal(config.epochs, 20);
  assert.equal(config.resume, false);
  assert.equal(parseExperiment(file, JSON.stringify({ ...valid })).dataset.path, path.join(dir, 'data/mnist'));
  assert.equal(parseExperiment(file, JSON.stringify({ ...valid, model: 'nets/model.json' })).model, path.join(dir, 'nets/model.json'));
  assert.deepEqual(parseExperiment(file, JSON.stringify({ ...valid, loss: { kind: 'crossentropy' } })).loss, { kind: 'crossentropy' });
});

test('a bad experiment file is one line naming the file and the field', () => {
  const file = '/ws/bad.gccs.json';
  const error = (text: string) => {
    try {
      parseExperiment(file, text);
    } catch (e) {
      assert.ok(e instanceof ExperimentError);
      return e.message;
    }
    assert.fail('no error');
  };
  assert.equal(error(JSON.stringify({ ...valid, optimizer: { kind: 'rmsprop' } })), 'bad.gccs.json: optimizer.kind: unknown optimizer "rmsprop" (adam, sgd)');
  assert.equal(error(JSON.stringify({ ...valid, loss: { kind: 'crossentropy', muT: 3 } })), 'bad.gccs.json: loss.muT: applies to the gccs loss only');
  assert.equal(error(JSON.stringify({ ...valid, split: { trainRange: '10:5' } })), 'bad.gccs.json: split.trainRange: end must be above start (got "10:5")');
  assert.equal(error(JSON.stringify({ ...valid, dataset: { kind: 'folder' } })), 'bad.gccs.json: dataset.path: dataset kind "folder" needs a path (its folder)');
  assert.match(error('{ "dataset": '), /^bad\.gccs\.json: not valid JSON/);
});

test('the validator is strict: a schema keyword or format it does not implement fails to compile instead of being ignored', () => {
  assert.throws(() => validateJson(1, { type: 'number', exclusiveMaximun: 3 } as JsonSchema), /strict mode: unknown keyword: "exclusiveMaximun"/);
  assert.throws(() => validateJson('a', { type: 'string', format: 'email' } as JsonSchema), /unknown format "email"/);
  assert.throws(() => validateJson([1], { items: { type: 'number' } }), /strict mode: missing type "array" for keyword "items"/);
  // The shipped schemas compile under the same rules; a copy of one (same $id) is no clash.
  for (const schema of [EXPERIMENT_SCHEMA, SWEEP_SCHEMA as JsonSchema]) assert.ok(validateJson({}, schema));
  assert.deepEqual(validateJson({}, JSON.parse(JSON.stringify(EXPERIMENT_SCHEMA))), { path: [], message: 'missing "dataset"' });
});

test('experiment files: __proto__/constructor/prototype keys, the caps and oversized files are one line naming the file', () => {
  const file = '/ws/hostile.gccs.json';
  const message = (text: string) => {
    try {
      parseExperiment(file, text);
    } catch (e) {
      assert.ok(e instanceof ExperimentError && e instanceof UserError);
      assert.ok(!e.message.includes('\n'));
      return e.message;
    }
    assert.fail('no error');
  };
  assert.equal(message('{"dataset":{"kind":"synthetic","__proto__":{"path":"/etc"}},"outDir":"m"}'), 'hostile.gccs.json: dataset.__proto__: the key "__proto__" is not allowed');
  assert.equal(message('{"dataset":{"kind":"synthetic"},"outDir":"m","optimizer":{"constructor":1}}'), 'hostile.gccs.json: optimizer.constructor: the key "constructor" is not allowed');
  assert.equal(message(JSON.stringify({ ...valid, epochs: CONFIG_LIMITS.epochs + 1 })), `hostile.gccs.json: epochs: must be ≤ ${CONFIG_LIMITS.epochs} (got ${CONFIG_LIMITS.epochs + 1})`);
  assert.equal(message(JSON.stringify({ ...valid, batchSize: 1 })), 'hostile.gccs.json: batchSize: must be ≥ 2 (got 1)');
  assert.equal(message(JSON.stringify({ ...valid, workers: 1000 })), `hostile.gccs.json: workers: must be ≤ ${CONFIG_LIMITS.workers} (got 1000)`);
  assert.equal(message(JSON.stringify({ ...valid, dataset: { kind: 'synthetic', syntheticTrain: 1e9 } })), `hostile.gccs.json: dataset.syntheticTrain: must be ≤ ${CONFIG_LIMITS.syntheticExamples} (got 1000000000)`);
  assert.equal(message('null'), 'hostile.gccs.json: must be an object (got null)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-experiment-'));
  const big = path.join(dir, 'big.gccs.json');
  fs.writeFileSync(big, `{"outDir":"m","dataset":{"kind":"synthetic"}}${' '.repeat(CONFIG_LIMITS.configFileBytes)}`);
  assert.throws(() => loadExperiment(big), (e: unknown) => e instanceof ExperimentError && /^big\.gccs\.json: is \d+ bytes \(at most 1048576\)$/.test(e.message));
  assert.throws(() => loadExperiment(dir), (e: unknown) => e instanceof ExperimentError && e.message.endsWith(': is a folder, not a file'));
});
