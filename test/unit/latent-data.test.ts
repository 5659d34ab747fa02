/**
 * The latent, training and compare panels' data: the latent panel's worker request (with an attack,
 * and from a checkpoint with the training's configuration in the message), equal to `gccs latent
 * --json`, the model-folder checks, the training
 * history of gccs.json and checkpoint/state.json, and the models table of the robustness panel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../src/core/errors';
import { GCCS_DEFAULTS } from '../../src/core/catalog';
import { convergedLossNote } from '../../src/core/loss/converged';
import type { LatentOutput } from '../../src/core/inspect/types';
import type { TrainConfig } from '../../src/core/train/trainer';
import { JobCancelled } from '../../src/core/workerClient';
import { computeLatentData } from '../../src/host/panels/latent/compute';
import { comparisonFiles, evaluationFile, modelsSection, resultsModels } from '../../src/host/panels/robustness/compareData';
import { DrawnSignal } from '../../src/host/panels/drawnSignal';
import { LATENT_DEFAULTS, LatentInputError, latentData, latentOptions, modelFolder } from '../../src/host/panels/latent/data';
import { robustnessData } from '../../src/host/panels/robustness/data';
import { TrainingInputError, trainingData, withEpoch } from '../../src/host/panels/training/data';
import { project, vertex, vertexPlane } from '../../src/core/metrics/projection';

const CLI = path.resolve(__dirname, '../../dist/cli.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-latent-'));
const modelDir = path.join(dir, 'tiny');
const trainFlags = [
  ...['--dataset', 'synthetic', '--synthetic-train', '300', '--synthetic-test', '120'],
  ...['--model', 'mlp', '--epochs', '2', '--batch-size', '100', '--backend', 'cpu'],
];

test('a tiny model trained through the CLI', () => {
  // The tests below read its checkpoint (as the panel does during a training): keep it.
  const run = spawnSync(process.execPath, [CLI, 'train', ...trainFlags, '--out', modelDir, '--keep-checkpoint', '--json'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.ok(fs.existsSync(path.join(modelDir, 'checkpoint', 'model.json')));
});

test('the latent panel asks a worker: clean and attacked z, class names and μ_T, as gccs latent --json gives them', async () => {
  const data = await computeLatentData({ modelDir }, { count: 40, attack: 'fgsm', eps: 0.2 }, { backend: 'cpu' });
  // One implementation: the CLI prints the same numbers.
  const latentFlags = ['--model', modelDir, '--count', '40', '--attack', 'fgsm', '--eps', '0.2', '--backend', 'cpu', '--json'];
  const cli = spawnSync(process.execPath, [CLI, 'latent', ...latentFlags], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  const { backend: _, ...printed } = JSON.parse(cli.stdout) as LatentOutput & { backend: string };
  assert.deepEqual(data.samples, printed.samples);
  assert.deepEqual([data.dims, data.classNames, data.muT], [printed.dims, printed.classNames, printed.muT]);
  assert.equal(data.dims, 10);
  assert.equal(data.samples.length, 40);
  assert.equal(data.muT, 70);
  assert.equal(data.classNames.length, 10);
  assert.deepEqual(data.attack, { name: 'fgsm', eps: 0.2 });
  assert.match(data.detail, /^test split, 40 samples, FGSM ε = 0.2$/);
  const moved = data.samples.filter((s) => s.zAttacked && s.zAttacked.some((v, j) => Math.abs(v - s.z[j]) > 1e-6));
  assert.ok(moved.length > 20, `the attack moves z (${moved.length} of 40 moved)`);
  // The points the webview draws: the vertex plane of classes 0, 1, 9 maps every z to finite numbers.
  const plane = vertexPlane(data.dims, [0, 1, 9], data.muT ?? 1);
  for (const s of data.samples) assert.ok(project(plane, s.z).every(Number.isFinite));
  assert.equal(Math.round(project(plane, vertex(10, 9, 70))[1] * 1000) / 1000, Math.round((70 * Math.SQRT2 * Math.sqrt(3)) / 3 * 1000) / 1000);
});

test('a checkpoint has no gccs.json: the training configuration in the request names its data; without one it is a user error', async () => {
  const config = { dataset: { kind: 'synthetic', syntheticTrain: 300, syntheticTest: 120 }, split: { trainRange: null, testRange: null, validationFraction: 0.1 }, loss: { kind: 'gccs', muT: 70 }, seed: 0 } as TrainConfig;
  const checkpoint = path.join(modelDir, 'checkpoint');
  const data = await computeLatentData({ modelDir: checkpoint, training: { config, epoch: 2 } }, { ...LATENT_DEFAULTS, count: 10 }, { backend: 'cpu' });
  assert.equal(data.title, 'Latent space: tiny');
  assert.match(data.detail, /10 samples, checkpoint after epoch 2$/);
  await assert.rejects(computeLatentData({ modelDir: checkpoint }, LATENT_DEFAULTS, { backend: 'cpu' }), (error: Error) => error instanceof UserError && /no gccs\.json beside it/.test(error.message));
  const broken = { dataset: {}, seed: 0 } as TrainConfig;
  await assert.rejects(computeLatentData({ modelDir: checkpoint, training: { config: broken, epoch: 1 } }, LATENT_DEFAULTS, { backend: 'cpu' }), (error: Error) => error instanceof UserError && /not a training configuration/.test(error.message));
});

test('an aborted latent request is JobCancelled', async () => {
  const controller = new AbortController();
  const running = computeLatentData({ modelDir }, { count: 100, attack: 'pgd', eps: 0.1 }, { backend: 'cpu', signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(running, JobCancelled);
});

test('model folders: a folder, its model.json or gccs.json; anything else is named with its problem', () => {
  assert.equal(modelFolder(modelDir), modelDir);
  assert.equal(modelFolder(path.join(modelDir, 'gccs.json')), modelDir);
  assert.throws(() => modelFolder(path.join(dir, 'nope')), (e: Error) => e instanceof LatentInputError && e.message === `${path.join(dir, 'nope')}: does not exist`);
  assert.throws(() => modelFolder(dir), /no model\.json here/);
  assert.deepEqual(latentOptions('m', { count: 5, attack: 'none', eps: 0.3 }), { model: 'm', count: 5 });
  assert.deepEqual(latentOptions('m', { count: 5, attack: 'pgd', eps: 0.3 }), { model: 'm', count: 5, attack: { name: 'pgd', eps: 0.3 } });
  const output = (o: Partial<LatentOutput>) => ({ model: 'm', muT: null, split: 'test', ...o }) as LatentOutput;
  assert.throws(() => latentData('m', output({ dims: 3, classNames: ['a', 'b'], samples: [{ label: 0, z: [1, 2, 3] }] })), /2 class names for 3 outputs/);
  assert.throws(() => latentData('m', output({ dims: 2, classNames: ['a', 'b'], samples: [{ label: 0, z: [1] }] })), /wrong number of outputs/);
  assert.throws(() => latentData('m', output({ dims: 2, classNames: ['a', 'b'], samples: [] })), /no samples/);
});

test('training data: gccs.json of a finished model, checkpoint records of an unfinished run, live epochs', () => {
  const finished = trainingData(path.join(modelDir, 'model.json'));
  assert.equal(finished.epochs.length, 2);
  assert.equal(finished.totalEpochs, 2);
  assert.match(finished.status, /^finished: 2 epochs in [\d.]+ s on cpu$/);
  // A GCCS model (the default loss), batch 100, 10 classes: what its converged loss looks like.
  assert.equal(finished.converged, convergedLossNote(GCCS_DEFAULTS, 10, 100));
  assert.ok(finished.epochs.every((r) => r.loss > 0 && r.trainAccuracy >= 0 && r.validationAccuracy !== null));

  const unfinished = path.join(dir, 'unfinished');
  fs.mkdirSync(path.join(unfinished, 'checkpoint'), { recursive: true });
  fs.writeFileSync(path.join(unfinished, 'checkpoint', 'state.json'), JSON.stringify({ epochsDone: 1, records: [finished.epochs[0]] }));
  const partial = trainingData(unfinished);
  assert.equal(partial.status, 'checkpoint after epoch 1 (not finished)');
  const live = withEpoch({ ...partial, totalEpochs: 5 }, { ...finished.epochs[1], epoch: 2 });
  assert.deepEqual(live.epochs.map((r) => r.epoch), [1, 2]);
  assert.equal(live.status, 'training: epoch 2/5');
  assert.ok(live.live);
  assert.throws(() => trainingData(path.join(dir, 'empty-' + Date.now())), /nothing was trained here yet/);
  fs.writeFileSync(path.join(unfinished, 'gccs.json'), '{');
  fs.utimesSync(path.join(unfinished, 'checkpoint', 'state.json'), new Date(0), new Date(0));
  assert.throws(() => trainingData(unfinished), (e: Error) => e instanceof TrainingInputError && /gccs\.json: not valid JSON/.test(e.message));
  // gccs.json is checked against its schema: null or a missing field is the panel's one line, not an internal error.
  fs.writeFileSync(path.join(unfinished, 'gccs.json'), 'null');
  assert.throws(() => trainingData(unfinished), (e: Error) => e instanceof TrainingInputError && /gccs\.json: /.test(e.message));
  fs.writeFileSync(path.join(unfinished, 'gccs.json'), JSON.stringify({ epochs: [] }));
  assert.throws(() => trainingData(unfinished), (e: Error) => e instanceof TrainingInputError && /gccs\.json: missing "engineVersion"/.test(e.message));
});

test('compare: model folders map to their results files; the robustness panel gets the models table', () => {
  const results = path.join(dir, 'results');
  fs.mkdirSync(results);
  const line = (model: string, eps: number, accuracy: number) => JSON.stringify({ configHash: 'h', cell: { id: `${model}-${eps}`, entry: 0, model, attack: 'fgsm', params: {}, eps, iterations: null, samples: null, data: { spec: { kind: 'synthetic' }, trainRange: null, testRange: null, validationFraction: 0, splitSeed: 0 }, count: 10, seed: 0, batchSize: 10 }, accuracy, cleanAccuracy: 0.9, count: 10, seconds: 1, backend: 'cpu', finishedAt: '2026-01-01T00:00:00Z' }) + '\n';
  const tinyResults = path.join(results, 'tiny.jsonl');
  fs.writeFileSync(tinyResults, line(modelDir, 0, 0.9) + line(modelDir, 0.1, 0.4) + '{"partial');
  const other = path.join(results, 'other.jsonl');
  fs.writeFileSync(other, line('/m/other', 0, 0.8));
  const picked = comparisonFiles([modelDir, other, path.join(dir, 'untested')], results);
  assert.deepEqual(picked.files, [tinyResults, other]);
  assert.deepEqual(picked.problems, [`untested has no robustness results (${path.join(results, 'untested.jsonl')}): run GCCS: Evaluate Robustness on it first`]);
  assert.deepEqual(resultsModels(tinyResults), [modelDir]);
  assert.equal(modelsSection(picked.files), undefined);

  const separation = { mean: 2.5, ci95: [2.25, 2.75], pairs: 45, samplesPerClassCap: 500 };
  const latent = [{ kurtosis: 3 }, { kurtosis: 5 }];
  const saved = { model: path.join(modelDir, 'model.json'), split: 'test', accuracy: 0.5, macroF1: 0.45, count: 120, separation, latent };
  fs.writeFileSync(evaluationFile(tinyResults), JSON.stringify(saved));
  const data = robustnessData(picked.files);
  const models = data.summary.sections[0];
  assert.equal(models.title, 'Models');
  assert.deepEqual(models.tables[0].rows, [['tiny', 'GCCS (μ_T 70, σ_T 1, λ 0.2)', '50.00%', '0.4500', '2.50 (2.25–2.75)', '4.00', '120 (test)']]);
  const fgsm = data.summary.sections.find((s) => s.title === 'FGSM');
  assert.deepEqual(fgsm?.chart?.series.map((s) => s.label).sort(), ['other', 'tiny']);
});

test('DrawnSignal: a waiting command gets the next drawing, or undefined when cancelled or too late', async () => {
  const signal = new DrawnSignal<number>();
  const first = signal.next(1000);
  signal.drawn(42);
  assert.equal(await first, 42);
  const cancelled = signal.next(1000);
  signal.cancel();
  assert.equal(await cancelled, undefined);
  assert.equal(await signal.next(10), undefined);
});
