/**
 * The worker process (bundled to dist/worker.js): evaluates sweep cells, trains a model, reproduces
 * the paper's comparison, computes a model's latent space or clean metrics, or serves as a data-parallel training replica, one
 * request at a time, speaking only the protocol of src/core/protocol.ts over the IPC channel.
 */
import * as fs from 'node:fs';
import { format } from 'node:util';
import { AttackCancelled } from '../core/attacks';
import { initBackend } from '../core/backend';
import { UserError } from '../core/errors';
import { evaluateModelSplit } from '../core/inspect/evaluate';
import { computeExamples } from '../core/inspect/examples';
import { computeLatent } from '../core/inspect/latent';
import { calibrateModels } from '../core/robustness/calibrate';
import { ReproduceEvent, isReproductionCancelled, planReproduction, reproduce } from '../core/reproduce';
import { CellEvaluator } from '../core/sweep/evaluateCell';
import { WORKER_LIMITS } from '../core/limits';
import { TrainingCancelled, train } from '../core/train/trainer';
import type { HostRequest, WorkerMessage } from '../core/protocol';
import { Replica } from './replica';

const send = (message: WorkerMessage) => process.send?.(message);

// The host ignores the worker's stdout: what libraries print (e.g. TensorFlow.js warnings) goes to it as log messages.
console.log = console.info = console.warn = (...args: unknown[]) => send({ type: 'log', message: format(...args) });

let evaluator: CellEvaluator | undefined;
let backendName: string | undefined;
let replica: Replica | undefined;
let running: AbortController | undefined;

function fail(error: unknown, cellId?: string): void {
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  send({ type: 'error', ...(cellId && { cellId }), message, isUserError: error instanceof UserError });
}

/**
 * Test hooks (GCCS_TEST_HANG_CELL=<cell id>, GCCS_TEST_HANG_REQUEST=<request type>): block this
 * worker's event loop for good, without using the CPU, as a hung worker.
 */
function hangForever(): never {
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

/** Runs a cancellable request; a cancelled one answers `cancelled` with `cellId`. */
async function cancellable(cellId: string, isCancel: (error: unknown) => boolean, work: (signal: AbortSignal) => Promise<WorkerMessage>): Promise<void> {
  running = new AbortController();
  try {
    send(await work(running.signal));
  } catch (error) {
    if (isCancel(error)) send({ type: 'cancelled', cellId });
    else fail(error, cellId || undefined);
  } finally {
    running = undefined;
  }
}

async function handle(request: Exclude<HostRequest, { type: 'cancel' }>): Promise<void> {
  if (request.type === 'init') {
    const info = await initBackend(request.backend);
    evaluator = new CellEvaluator(info.name);
    backendName = info.name;
    return void send({ type: 'ready', backend: info.name, detail: info.detail });
  }
  if (!evaluator || !backendName) throw new Error(`${request.type} before init`);
  if (request.type === process.env.GCCS_TEST_HANG_REQUEST) hangForever();
  switch (request.type) {
    case 'runCell': {
      const { cell } = request;
      if (cell.id === process.env.GCCS_TEST_HANG_CELL) hangForever();
      const cellEvaluator = evaluator;
      return cancellable(cell.id, (e) => e instanceof AttackCancelled, async (signal) => ({
        type: 'cellDone',
        result: await cellEvaluator.evaluate(cell, signal, (done, total) => send({ type: 'progress', cellId: cell.id, done, total })),
      }));
    }
    case 'train': {
      const backend = backendName;
      return cancellable('', (e) => e instanceof TrainingCancelled, async (signal) => {
        const result = await train(request.config, backend, (event) => send({ type: 'trainEvent', event }), signal);
        return { type: 'trainDone', outDir: result.outDir, testAccuracy: result.testAccuracy };
      });
    }
    case 'reproduce': {
      const backend = backendName;
      return cancellable('', isReproductionCancelled, async (signal) => {
        const plan = planReproduction(request.request);
        const options = { backend, workers: request.workers, signal, onEvent: (event: ReproduceEvent) => send({ type: 'reproduceEvent', event }) };
        const { files } = await reproduce(plan, options, 'GCCS: Reproduce the Paper');
        return { type: 'reproduceDone', outDir: plan.outDir, files, html: fs.readFileSync(files.html, 'utf8') };
      });
    }
    case 'latent':
      return void send({ type: 'latentDone', data: await computeLatent(request.options) });
    case 'evaluate':
      return void send({ type: 'evaluated', evaluation: await evaluateModelSplit(request.options) });
    case 'calibrate':
      return void send({ type: 'calibrated', times: await calibrateModels(request.models, request.batchSize) });
    case 'examples':
      return void send({ type: 'examplesDone', data: await computeExamples(request.options) });
    case 'replicaInit':
      replica = await Replica.load(request);
      return void send({ type: 'replicaReady' });
    default: {
      if (!replica) throw new Error(`${request.type} before replicaInit`);
      const answer = replica.handle(request);
      if (answer) send(answer);
    }
  }
}

// One request at a time, in arrival order (a replica's leader sends the next ones without waiting);
// `cancel` acts at once on the running one.
let queue = Promise.resolve();
process.on('message', (request: HostRequest) => {
  if (request.type === 'cancel') return running?.abort();
  queue = queue.then(() => handle(request)).catch((error: unknown) => fail(error, request.type === 'runCell' ? request.cell.id : undefined));
});
// The host kills a worker that stops sending these (src/core/workerClient.ts).
setInterval(() => send({ type: 'heartbeat' }), WORKER_LIMITS.heartbeatIntervalMs).unref();
// The host ends a worker by closing the channel (and a dead host closes it too).
process.on('disconnect', () => process.exit(0));
// Ctrl-C reaches the whole process group; the host decides, and cancels through the channel.
process.on('SIGINT', () => undefined);
