import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { parseFlags } from '../../src/cli/args';
import { TRAIN_FLAGS, TRAIN_FLAG_FIELDS, trainCommand, trainDescription, trainFlagOf } from '../../src/cli/commands';
import { UserError } from '../../src/core/errors';
import { GCCS_DEFAULTS } from '../../src/core/catalog/losses';
import { ConfigError, EXPERIMENT_SCHEMA, TrainConfig, TrainingDescription, trainConfigFrom, validateTrainConfig } from '../../src/core/train/config';
import { FINE_TUNE_DEFAULTS, TRAIN_DEFAULTS } from '../../src/core/train/defaults';
import { train } from '../../src/core/train/trainer';
import { ExperimentError, parseExperiment } from '../../src/host/workspace/experiment';

const FILE = '/ws/run.gccs.json';

/** The TrainConfig of `gccs train <argv>`, as trainCommand builds it. */
const fromFlags = (argv: string[]) => trainConfigFrom(trainDescription(parseFlags('train', argv, TRAIN_FLAGS)));
/** The TrainConfig of an experiment file holding `experiment`. */
const fromFile = (experiment: object) => parseExperiment(FILE, JSON.stringify(experiment));

/** The value at a dotted field path, or undefined. */
function at(object: unknown, field: string): unknown {
  return field.split('.').reduce<unknown>((node, key) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined), object);
}

/** The flags that say what `description` says (every field it sets has a flag). */
function argvOf(description: TrainingDescription): string[] {
  return Object.entries(TRAIN_FLAG_FIELDS).flatMap(([flag, [field]]) => {
    const value = at(description, field);
    if (value === undefined) return [];
    return TRAIN_FLAGS[flag].type === 'boolean' ? (value ? [`--${flag}`] : []) : [`--${flag}=${value}`];
  });
}

test('the CLI and an experiment file give the same TrainConfig, key order included (the checkpoint key), for the same settings', () => {
  const cases: [string[], object][] = [
    [['--out', '/m/a'], { dataset: { kind: 'synthetic', seed: 0 }, outDir: '/m/a' }],
    [
      [
        ...['--dataset', 'mnist', '--data', '/d/mnist', '--seed', '4', '--train-range', '0:8000', '--test-range', '8000:10000', '--val-fraction', '0.2'],
        ...['--model', 'mlp', '--mu-t', '50', '--kurtosis', 'abs', '--lr', '0.003', '--schedule', 'constant', '--clip-norm', '5'],
        ...['--batch-size', '200', '--epochs', '3', '--augment-shift', '0', '--out', '/m/b'],
      ],
      {
        ...{ dataset: { kind: 'mnist', seed: 4, path: '/d/mnist' }, split: { trainRange: '0:8000', testRange: '8000:10000', validationFraction: 0.2 } },
        ...{ model: 'mlp', loss: { muT: 50, kurtosis: 'abs' }, optimizer: { learningRate: 0.003, schedule: 'constant', clipNorm: 5 } },
        ...{ batchSize: 200, epochs: 3, seed: 4, augmentShift: 0, outDir: '/m/b' },
      },
    ],
    [
      ['--loss', 'crossentropy', '--defence', 'jr', '--jr-projections', '2', '--out', '/m/c'],
      { dataset: { kind: 'synthetic', seed: 0 }, loss: { kind: 'crossentropy' }, defence: { kind: 'jr', projections: 2 }, outDir: '/m/c' },
    ],
    [
      ['--adversarial', 'pgd', '--adv-eps', '0.1', '--fine-tune', '/m/base', '--out', '/m/d'],
      { dataset: { kind: 'synthetic', seed: 0 }, adversarial: { method: 'pgd', eps: 0.1 }, fineTuneFrom: '/m/base', outDir: '/m/d' },
    ],
  ];
  for (const [argv, experiment] of cases) {
    const cli = fromFlags(argv);
    assert.deepEqual(cli, fromFile(experiment), argv.join(' '));
    assert.equal(JSON.stringify(cli), JSON.stringify(fromFile(experiment)), argv.join(' '));
  }
  // Defaults come from one home: a fine-tuning starts from the paper's fine-tuning defaults on both paths.
  const tuned = fromFile({ dataset: { kind: 'synthetic' }, fineTuneFrom: '/m/base', outDir: '/m/e' });
  assert.deepEqual([tuned.epochs, tuned.optimizer], [FINE_TUNE_DEFAULTS.epochs, FINE_TUNE_DEFAULTS.optimizer]);
  assert.deepEqual(fromFlags(['--out', '/m/f']).loss, { kind: 'gccs', ...GCCS_DEFAULTS });
  assert.deepEqual(fromFlags(['--out', '/m/f']).optimizer, TRAIN_DEFAULTS.optimizer);
  assert.equal(fromFlags([]).outDir, path.join('models', 'synthetic-gccs'));
});

test('every training flag sets a field of the experiment schema, and names it back in errors', () => {
  const schemaField = (field: string) => {
    const [section, key] = field.split('.');
    const top = EXPERIMENT_SCHEMA.properties![section];
    if (!key) return top;
    const def = top.$ref ? EXPERIMENT_SCHEMA.$defs![top.$ref.split('/').pop()!] : top;
    return def.properties![key];
  };
  for (const [flag, fields] of Object.entries(TRAIN_FLAG_FIELDS)) {
    assert.ok(TRAIN_FLAGS[flag], `--${flag} is a train flag`);
    for (const field of fields) {
      assert.ok(schemaField(field), `${field} is in the experiment schema`);
      assert.equal(trainFlagOf(field), `--${flag}`);
    }
  }
  assert.equal(trainFlagOf('dataset.cacheRoot'), 'dataset.cacheRoot');
});

test('a bad loss option is refused once, by train(), naming the field (extension: with the file; CLI: the flag), before anything is read or written', async () => {
  // The builder only fills defaults: it refuses nothing, so nothing is checked twice.
  const bad = trainConfigFrom({ dataset: { kind: 'synthetic' }, loss: { sigmaT: 0 }, outDir: '/nonexistent/out' });
  assert.equal(bad.loss.kind === 'gccs' && bad.loss.sigmaT, 0);
  await assert.rejects(train(bad, 'wasm', () => assert.fail('no event')), (e: unknown) => e instanceof ConfigError && e.field === 'loss.sigmaT' && e.message === 'loss.sigmaT: must be ≥ 1e-12 (got 0)');
  assert.throws(() => fromFile({ dataset: { kind: 'synthetic' }, loss: { sigmaT: 0 }, outDir: 'm' }), (e: unknown) => e instanceof ExperimentError && e.message === 'run.gccs.json: loss.sigmaT: must be ≥ 1e-12 (got 0)');

  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-train-config-')), 'model');
  const cli = (...argv: string[]) =>
    trainCommand({ flags: parseFlags('train', [...argv, '--out', out], TRAIN_FLAGS), backend: 'wasm', log: () => assert.fail('nothing logged') });
  const refusals: [string[], string][] = [
    [['--sigma-t', '0'], '--sigma-t: must be ≥ 1e-12 (got 0)'],
    [['--lambda', '-1'], '--lambda: must be ≥ 0 (got -1)'],
    [['--ridge', '-0.5'], '--ridge: must be ≥ 0 (got -0.5)'],
    [['--loss', 'crossentropy', '--mu-t', '3'], '--mu-t: applies to the gccs loss only'],
    [['--batch-size', '1'], '--batch-size: must be ≥ 2 (got 1)'],
    [['--lr', '0'], '--lr: must be ≥ 1e-12 (got 0)'],
    [['--defence-weight', '1'], '--defence: is required'],
    [['--dataset', 'folder'], '--data: dataset kind "folder" needs a path (its folder)'],
    [['--train-range', '5:5'], '--train-range: end must be above start (got "5:5")'],
  ];
  for (const [argv, message] of refusals) {
    await assert.rejects(cli(...argv), (e: unknown) => e instanceof UserError && !(e instanceof ConfigError) && e.message === message, argv.join(' '));
  }
  assert.ok(!fs.existsSync(out), 'nothing written');
});

/** Numbers as JSON and flags give them (no -0). */
const num = (min: number, max: number) => fc.double({ min, max, noNaN: true }).map((x) => x + 0);

/** A valid training description that the CLI's flags can say too (dataset.seed is the seed, as --seed sets both). */
const description: fc.Arbitrary<TrainingDescription> = fc
  .record(
    {
      kind: fc.constantFrom('synthetic', 'mnist', 'fmnist', 'cifar10', 'cifar100', 'svhn', 'folder'),
      path: fc.constantFrom('/data/a', '/data/b c'),
      syntheticTrain: fc.integer({ min: 1, max: 100_000 }),
      syntheticTest: fc.integer({ min: 1, max: 100_000 }),
      trainRange: fc.tuple(fc.nat(5000), fc.integer({ min: 1, max: 5000 })).map(([a, n]) => `${a}:${a + n}`),
      testRange: fc.tuple(fc.nat(5000), fc.integer({ min: 1, max: 5000 })).map(([a, n]) => `${a}:${a + n}`),
      validationFraction: num(0, 0.9),
      model: fc.constantFrom('mlp', 'cnn', 'resnet18', '/nets/model.json'),
      fineTuneFrom: fc.constant('/models/base'),
      loss: fc.oneof(
        fc.constant({ kind: 'crossentropy' as const }),
        fc.record({ kind: fc.constant('gccs' as const), muT: num(-1e6, 1e6), sigmaT: num(1e-6, 1e3), lambda: num(0, 10), kurtosis: fc.constantFrom('linear' as const, 'abs' as const, 'squared' as const), ridge: num(0, 1) }, { requiredKeys: [] }),
      ),
      optimizer: fc.record(
        { kind: fc.constantFrom('adam' as const, 'sgd' as const), learningRate: num(1e-9, 10), momentum: num(0, 0.99), beta2: num(0.001, 0.999), weightDecay: num(0, 1), clipNorm: num(1e-3, 100), schedule: fc.constantFrom('cosine' as const, 'constant' as const), warmupEpochs: num(0, 10) },
        { requiredKeys: [] },
      ),
      batchSize: fc.integer({ min: 2, max: 4096 }),
      epochs: fc.integer({ min: 1, max: 10_000 }),
      seed: fc.integer({ min: 0, max: 2 ** 31 }),
      resume: fc.boolean(),
      augmentShift: fc.integer({ min: 0, max: 4 }),
      workers: fc.integer({ min: 1, max: 64 }),
      defence: fc.record({ kind: fc.constantFrom('jr' as const, 'igr' as const, 'clr' as const), weight: num(0, 10), projections: fc.integer({ min: 1, max: 64 }) }, { requiredKeys: ['kind'] }),
      adversarial: fc.oneof(fc.record({ method: fc.constant('fgsm' as const), eps: num(1e-6, 1) }, { requiredKeys: ['method'] }), fc.record({ method: fc.constant('pgd' as const), eps: num(1e-6, 1), steps: fc.integer({ min: 1, max: 100 }) }, { requiredKeys: ['method'] })),
    },
    { requiredKeys: ['kind', 'path'] },
  )
  .map(({ kind, path: dataPath, syntheticTrain, syntheticTest, trainRange, testRange, validationFraction, seed, ...rest }) => {
    const dataset = { kind, seed: seed ?? 0, path: dataPath, ...(syntheticTrain && { syntheticTrain }), ...(syntheticTest && { syntheticTest }) };
    const split = Object.fromEntries(Object.entries({ trainRange, testRange, validationFraction }).filter(([, v]) => v !== undefined));
    // Defences and adversarial training run in one process.
    const workers = rest.defence || rest.adversarial ? undefined : rest.workers;
    return { ...rest, workers, dataset, split, ...(seed !== undefined && { seed }), outDir: '/out/run' } as TrainingDescription;
  });

test('fresh random valid descriptions (fast-check, seed 11): they build and pass the check, the CLI says the same, and a TrainConfig builds back to itself', () => {
  fc.assert(
    fc.property(description, (given) => {
      const config = trainConfigFrom(given);
      validateTrainConfig(config);
      for (const [, [field]] of Object.entries(TRAIN_FLAG_FIELDS)) {
        const value = at(given, field);
        if (value !== undefined) assert.deepEqual(at(config, field), value, field);
      }
      assert.deepEqual(fromFlags(argvOf(given)), config);
      assert.deepEqual(fromFile(given), config);
      assert.deepEqual(trainConfigFrom(config), config);
      assert.deepEqual(trainConfigFrom(JSON.parse(JSON.stringify(config))), config);
    }),
    { seed: 11, numRuns: 300 },
  );
});

test('anything that is not a valid configuration is a ConfigError naming the field, unknown fields included', () => {
  const base: TrainConfig = trainConfigFrom({ dataset: { kind: 'synthetic' }, outDir: 'm' });
  const refused = (config: unknown) => {
    try {
      validateTrainConfig(config as TrainConfig);
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.message;
    }
    assert.fail('accepted');
  };
  assert.equal(refused({ ...base, batchsize: 3 }), 'batchsize: unknown property (expected dataset, split, model, fineTuneFrom, loss, optimizer, batchSize, epochs, seed, outDir, resume, augmentShift, workers, defence, adversarial)');
  assert.equal(refused(trainConfigFrom({ ...base, toString: 1 } as unknown as TrainingDescription)), 'toString: unknown property (expected dataset, split, model, fineTuneFrom, loss, optimizer, batchSize, epochs, seed, outDir, resume, augmentShift, workers, defence, adversarial)');
  assert.equal(refused({ ...base, seed: 1.5 }), 'seed: must be a whole number (got 1.5)');
  assert.equal(refused({ ...base, optimizer: { ...base.optimizer, momentum: 1 } }), 'optimizer.momentum: must be ≤ 0.999999 (got 1)');
  assert.equal(refused({ ...base, workers: 2, adversarial: { method: 'fgsm', eps: 0.1, steps: 1 } }), 'workers: defences and adversarial training run in one process only (use 1; got 2)');
  assert.equal(refused({ ...base, adversarial: { method: 'fgsm', eps: 0.1, steps: 3 } }), 'adversarial.steps: applies to PGD only (FGSM is one step; got 3)');
  assert.equal(refused(trainConfigFrom({ ...base, split: 'all' } as unknown as TrainingDescription)), 'split: must be an object (got "all")');
  const notAnObject = (e: unknown) => e instanceof ConfigError && e.message === 'must be an object (got null)';
  assert.throws(() => trainConfigFrom(null as unknown as TrainingDescription), notAnObject);
});
