/**
 * The extension host's side of the one worker protocol (src/core/protocol.ts), through real forked
 * workers: a training, a latent request, an evaluate request and a sweep run as the host runs it,
 * each with its events, its answer, bad input and cancelling told apart by message type, never by text.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../../src/core/backend';
import { UserError } from '../../src/core/errors';
import { evaluateModelSplit } from '../../src/core/inspect/evaluate';
import { computeLatent } from '../../src/core/inspect/latent';
import type { WorkerMessage } from '../../src/core/protocol';
import type { SweepEvent } from '../../src/core/sweep/pool';
import { readResultsFile } from '../../src/core/sweep/results';
import type { TrainConfig, TrainEvent } from '../../src/core/train/trainer';
import { JobCancelled, WorkerClient, runWorkerJob } from '../../src/core/workerClient';
import { runHostSweep } from '../../src/host/jobs/sweepJob';
import { runTrainWorker } from '../../src/host/jobs/trainWorker';

// From source the workers run src/worker/index.ts through tsx (processEntry); the bundle forks dist/worker.js.
const worker = { backend: 'wasm' as const };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-ext-worker-'));

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

/** A GCCS model trained by a worker (its checkpoint/ kept, as during a training), shared by the tests below. */
const gccsModel = path.join(dir, 'gccs');
let trainMessages: WorkerMessage[] = [];
let trainEvents: TrainEvent[] = [];

before(async () => {
  await initBackend('wasm');
  await runTrainWorker(config(gccsModel), { ...worker, onMessage: (m) => trainMessages.push(m), onEvent: (e) => trainEvents.push(e) });
});

test('the worker trains a tiny model end to end on a train request, streaming trainEvent messages', () => {
  assert.equal(trainMessages[0].type, 'ready');
  assert.equal(trainMessages.at(-1)?.type, 'trainDone');
  assert.equal(trainEvents[0].type, 'start');
  assert.equal(trainEvents.filter((e) => e.type === 'step').length, 6, '300 examples in batches of 50');
  assert.equal(trainEvents.filter((e) => e.type === 'epoch').length, 1);
  assert.ok(trainMessages.every((m) => m.type !== 'trainEvent' || trainEvents.includes(m.event)));
  assert.ok(fs.existsSync(path.join(gccsModel, 'model.json')) && fs.existsSync(path.join(gccsModel, 'gccs.json')));
  trainMessages = [];
  trainEvents = [];
});

test('cancel stops a training between two steps', async () => {
  const outDir = path.join(dir, 'cancelled');
  const controller = new AbortController();
  const messages: WorkerMessage[] = [];
  let steps = 0;
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
});

test('a worker that dies becomes an error naming the crash', async () => {
  const crashing = path.join(dir, 'crash.js');
  fs.writeFileSync(crashing, "process.stderr.write('out of memory\\n'); process.exit(7);\n");
  await assert.rejects(runTrainWorker(config(path.join(dir, 'crashed')), { ...worker, entry: { file: crashing, execArgv: [] } }), /the GCCS worker crashed \(exit code 7\) while training: out of memory/);
});

test('a worker that stops sending heartbeats is killed, and the error says so', async () => {
  // Answers nothing and blocks its event loop: no heartbeat.
  const hanging = path.join(dir, 'hang.js');
  fs.writeFileSync(hanging, 'process.on("message", () => { for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); });\n');
  const ended = await new Promise<{ hung: boolean; how: string }>((resolve) => {
    const client = new WorkerClient({ entry: { file: hanging, execArgv: [] }, heartbeatTimeoutMs: 1500 }, { onMessage: () => undefined, onExit: resolve });
    void client.send({ type: 'init', backend: 'wasm' });
  });
  assert.deepEqual(ended, { hung: true, how: 'signal SIGKILL', said: undefined });
});

const noProc = fs.existsSync('/proc/self/stat') ? false : 'no /proc: silence alone decides';
test('a worker that computes without a heartbeat for longer than the timeout is busy, not hung: it is left to answer', { skip: noProc }, async () => {
  // Blocks its event loop in a busy loop for 4 s (one long synchronous step), then answers.
  const busy = path.join(dir, 'busy.js');
  const loop = 'const end = Date.now() + 4000; let x = 0; while (Date.now() < end) x += Math.sqrt(x + 1);';
  fs.writeFileSync(busy, `process.on("message", () => { ${loop} process.send({ type: "ready", x }); });\n`);
  const answered: unknown[] = [];
  const ended = await new Promise<{ hung: boolean; how: string }>((resolve) => {
    const onMessage = (m: WorkerMessage) => (answered.push(m.type), client.close());
    const client = new WorkerClient({ entry: { file: busy, execArgv: [] }, heartbeatTimeoutMs: 1500 }, { onMessage, onExit: resolve });
    void client.send({ type: 'init', backend: 'wasm' });
  });
  assert.deepEqual(answered, ['ready']);
  assert.equal(ended.hung, false);
});

test('a latent request: the model and its data in the message; the answer is what the core function computes in-process', async () => {
  const options = { model: gccsModel, count: 30, attack: { name: 'fgsm' as const, eps: 0.2 } };
  const messages: WorkerMessage[] = [];
  const onMessage = (m: WorkerMessage) => messages.push(m);
  const { data } = await runWorkerJob({ type: 'latent', options }, 'latentDone', 'computing the latent space', { ...worker, onMessage });
  assert.deepEqual(messages.map((m) => m.type).filter((t) => t !== 'heartbeat' && t !== 'log'), ['ready', 'latentDone']);
  assert.equal(data.samples.length, 30);
  assert.equal(data.muT, 70);
  assert.ok(data.samples.every((s) => s.zAttacked?.length === data.dims));
  // Same backend, same code: the same numbers.
  assert.deepEqual(data, await computeLatent(options));

  // A checkpoint has no gccs.json: the training's configuration, sent along, names its data (no temporary file).
  const checkpoint = path.join(gccsModel, 'checkpoint');
  assert.ok(!fs.existsSync(path.join(checkpoint, 'gccs.json')));
  const fromCheckpoint = await runWorkerJob({ type: 'latent', options: { model: checkpoint, count: 10, trainConfig: config(gccsModel) } }, 'latentDone', 'computing the latent space', worker);
  assert.equal(fromCheckpoint.data.samples.length, 10);
  // Without it, bad input: a UserError, told apart from a failure by the message's isUserError.
  await assert.rejects(runWorkerJob({ type: 'latent', options: { model: checkpoint, count: 10 } }, 'latentDone', 'computing the latent space', worker), (error: Error) => error instanceof UserError && /no gccs\.json beside it/.test(error.message));
});

test('an evaluate request gives the clean metrics gccs eval computes; a missing model is a user error; aborting ends the worker', async () => {
  const { evaluation } = await runWorkerJob({ type: 'evaluate', options: { model: gccsModel } }, 'evaluated', 'evaluating the model', worker);
  assert.deepEqual(evaluation, await evaluateModelSplit({ model: gccsModel }));
  assert.equal(evaluation.count, 100);
  assert.ok(evaluation.accuracy > 0.1);
  const missing = { model: path.join(dir, 'nothing') };
  await assert.rejects(runWorkerJob({ type: 'evaluate', options: missing }, 'evaluated', 'evaluating the model', worker), UserError);

  const controller = new AbortController();
  const running = runWorkerJob({ type: 'latent', options: { model: gccsModel, count: 100, attack: { name: 'pgd', eps: 0.1 } } }, 'latentDone', 'computing the latent space', {
    ...worker,
    signal: controller.signal,
    onMessage: (m) => m.type === 'ready' && setTimeout(() => controller.abort(), 20),
  });
  await assert.rejects(running, (error: Error) => error instanceof JobCancelled && error.message === 'computing the latent space cancelled');
});

test('a sweep as the extension host runs it: typed progress and cell results, report, a user error and a cancel told apart', async () => {
  const configFile = path.join(dir, 'tiny.sweep.json');
  const resultsFile = path.join(dir, 'tiny.jsonl');
  const reportFile = path.join(dir, 'tiny.html');
  const run = (events: SweepEvent[], overrides: Partial<Parameters<typeof runHostSweep>[0]> = {}) =>
    runHostSweep({ configFile, resultsFile, reportFile, workers: 1, backend: 'wasm', onEvent: (e) => events.push(e), ...overrides });

  fs.writeFileSync(configFile, JSON.stringify({ models: ['gccs'], attacks: [{ name: 'fgsm', eps: '0:0.1:0.05' }, { name: 'deepfool' }], count: 50 }));
  const events: SweepEvent[] = [];
  const sweep = await run(events);
  const done = events.flatMap((e) => (e.type === 'cellDone' ? [e] : []));
  assert.deepEqual(done.map((e) => `${e.finished}/${e.total}`), ['1/4', '2/4', '3/4', '4/4']);
  assert.ok(events.some((e) => e.type === 'progress' && e.done <= e.total), 'per-cell progress');
  // What the host received is what was appended, and what the summary (and so the panel) is made of.
  assert.deepEqual(readResultsFile(resultsFile).results.map((r) => r.cell.id).sort(), done.map((e) => e.result.cell.id).sort());
  assert.deepEqual(sweep.results.map((r) => r.cell.id).sort(), done.map((e) => e.result.cell.id).sort());
  assert.equal(sweep.summary.finished, 4);
  assert.ok(fs.readFileSync(reportFile, 'utf8').includes('<canvas'));

  fs.writeFileSync(configFile, JSON.stringify({ models: ['gccs'], attacks: [{ name: 'pgdd' }] }));
  await assert.rejects(run([], { resultsFile: path.join(dir, 'bad.jsonl') }), (error: Error) => error instanceof UserError && /attacks\[0\]\.name/.test(error.message));

  fs.writeFileSync(configFile, JSON.stringify({ models: ['gccs'], attacks: [{ name: 'pgd', eps: '0.01:0.5:0.01', params: { steps: 20 } }], count: 100 }));
  const controller = new AbortController();
  const long = path.join(dir, 'long.jsonl');
  await assert.rejects(
    run([], { resultsFile: long, signal: controller.signal, onEvent: (e) => e.type === 'cellDone' && controller.abort() }),
    (error: Error) => error instanceof JobCancelled && error.message === `sweep (finished cells stay in ${long}) cancelled`,
  );
  const kept = readResultsFile(long).results.length;
  assert.ok(kept >= 1 && kept < 50, `${kept} finished cells stay`);
});
