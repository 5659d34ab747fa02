import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readResultsFile } from '../../src/core/sweep/results';
import type { TrainConfig, TrainEvent } from '../../src/core/train/trainer';
import { runCliSweep } from '../../src/host/jobs/sweepProcess';
import { runTrainWorker } from '../../src/host/jobs/trainWorker';
import { JobCancelled, JobUserError } from '../../src/host/jobs/errors';
import type { WorkerMessage } from '../../src/core/protocol';

// The worker's source through tsx, as runSweep does from source (the bundle is dist/worker.js).
const worker = { workerFile: path.resolve(__dirname, '../../src/worker/index.ts'), execArgv: ['--import', 'tsx'], backend: 'wasm' as const };

const config = (outDir: string, overrides: Partial<TrainConfig> = {}): TrainConfig => ({
  dataset: { kind: 'synthetic', syntheticTrain: 300, syntheticTest: 100, seed: 1 },
  split: { trainRange: null, testRange: null, validationFraction: 0 },
  model: 'mlp',
  fineTuneFrom: null,
  loss: { kind: 'gccs', muT: 70, sigmaT: 1, lambda: 0.2, kurtosis: 'linear', ridge: 1e-4 },
  optimizer: { kind: 'adam', learningRate: 3e-3, momentum: 0.9, beta2: 0.99, weightDecay: 1e-3, clipNorm: null, schedule: 'cosine', warmupEpochs: 0 },
  batchSize: 50,
  epochs: 1,
  seed: 1,
  outDir,
  resume: false,
  ...overrides,
});

test('the worker trains a tiny model end to end on a train request, streaming trainEvent messages', async () => {
  const outDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-ext-train-')), 'model');
  const messages: WorkerMessage[] = [];
  const events: TrainEvent[] = [];
  const result = await runTrainWorker(config(outDir), { ...worker, onMessage: (m) => messages.push(m), onEvent: (e) => events.push(e) });
  assert.equal(result.outDir, outDir);
  assert.ok(result.testAccuracy >= 0 && result.testAccuracy <= 1);
  assert.equal(messages[0].type, 'ready');
  assert.equal(messages.at(-1)?.type, 'trainDone');
  assert.equal(events[0].type, 'start');
  assert.equal(events.filter((e) => e.type === 'step').length, 6, '300 examples in batches of 50');
  assert.equal(events.filter((e) => e.type === 'epoch').length, 1);
  assert.ok(messages.every((m) => m.type !== 'trainEvent' || events.includes(m.event)));
  assert.ok(fs.existsSync(path.join(outDir, 'model.json')) && fs.existsSync(path.join(outDir, 'gccs.json')));
});

test('cancel stops a training between two steps', async () => {
  const outDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-ext-cancel-')), 'model');
  const controller = new AbortController();
  const messages: WorkerMessage[] = [];
  let steps = 0;
  const started = Date.now();
  await assert.rejects(
    runTrainWorker(config(outDir, { epochs: 200 }), {
      ...worker,
      signal: controller.signal,
      onMessage: (m) => messages.push(m),
      onEvent: (e) => {
        if (e.type === 'step' && ++steps === 2) controller.abort();
      },
    }),
    JobCancelled,
  );
  assert.equal(messages.at(-1)?.type, 'cancelled');
  assert.ok(steps < 20, `stopped after ${steps} steps`);
  assert.ok(!fs.existsSync(path.join(outDir, 'model.json')), 'no final model');
  assert.ok(Date.now() - started < 60_000);
});

test('a worker that dies becomes an error naming the crash', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-ext-crash-'));
  const crashing = path.join(dir, 'crash.js');
  fs.writeFileSync(crashing, "process.stderr.write('out of memory\\n'); process.exit(7);\n");
  await assert.rejects(runTrainWorker(config(path.join(dir, 'model')), { ...worker, workerFile: crashing, execArgv: [] }), /the GCCS worker crashed \(exit code 7\) while training: out of memory/);
});

test('a sweep job forks the CLI: progress per cell, results and report; bad input and cancelling are told apart', async () => {
  const cliFile = path.resolve(__dirname, '../../dist/cli.js');
  assert.ok(fs.existsSync(cliFile), 'run npm run build first');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-ext-sweep-'));
  const model = path.join(dir, 'tiny');
  await runTrainWorker(config(model, { loss: { kind: 'crossentropy' } }), worker);
  const configFile = path.join(dir, 'tiny.sweep.json');
  const run = (overrides: Partial<Parameters<typeof runCliSweep>[0]> = {}) =>
    runCliSweep({ cliFile, configFile, resultsFile: path.join(dir, 'tiny.jsonl'), reportFile: path.join(dir, 'tiny.html'), resume: false, workers: 1, backend: 'wasm', ...overrides });

  fs.writeFileSync(configFile, JSON.stringify({ models: [model], attacks: [{ name: 'fgsm', eps: '0:0.1:0.05' }, { name: 'deepfool' }], count: 50 }));
  const progress: string[] = [];
  await run({ onProgress: (finished, total) => progress.push(`${finished}/${total}`) });
  assert.deepEqual(progress, ['1/4', '2/4', '3/4', '4/4']);
  assert.equal(readResultsFile(path.join(dir, 'tiny.jsonl')).results.length, 4);
  assert.ok(fs.readFileSync(path.join(dir, 'tiny.html'), 'utf8').includes('<canvas'));

  fs.writeFileSync(configFile, JSON.stringify({ models: [model], attacks: [{ name: 'pgdd' }] }));
  await assert.rejects(run({ resultsFile: path.join(dir, 'bad.jsonl') }), (error: Error) => error instanceof JobUserError && /attacks\[0\]\.name: unknown attack "pgdd"/.test(error.message));

  fs.writeFileSync(configFile, JSON.stringify({ models: [model], attacks: [{ name: 'pgd', eps: '0.01:0.5:0.01', params: { steps: 20 } }], count: 100 }));
  const controller = new AbortController();
  await assert.rejects(run({ resultsFile: path.join(dir, 'long.jsonl'), signal: controller.signal, onProgress: () => controller.abort() }), JobCancelled);
  const kept = readResultsFile(path.join(dir, 'long.jsonl')).results.length;
  assert.ok(kept >= 1 && kept < 50, `${kept} finished cells stay`);
});
