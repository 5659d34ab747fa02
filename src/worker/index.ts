/**
 * A background worker process: evaluates the sweep cells its host sends, or trains a model, one request at a time, speaking
 * only the protocol of src/core/protocol.ts over the IPC channel (bundled to dist/worker.js).
 */
import { format } from 'node:util';
import { AttackCancelled } from '../core/attacks';
import { initBackend } from '../core/backend';
import { UserError } from '../core/errors';
import { CellEvaluator } from '../core/sweep/evaluateCell';
import { WORKER_LIMITS } from '../core/limits';
import { TrainingCancelled, train } from '../core/train/trainer';
import type { HostRequest, WorkerMessage } from '../core/protocol';

const send = (message: WorkerMessage) => process.send?.(message);

// The host ignores the worker's stdout: what libraries print (e.g. TensorFlow.js warnings) goes to it as log messages.
console.log = console.info = console.warn = (...args: unknown[]) => send({ type: 'log', message: format(...args) });

let evaluator: CellEvaluator | undefined;
let backendName: string | undefined;
let running: AbortController | undefined;

function fail(error: unknown, cellId?: string): void {
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  send({ type: 'error', ...(cellId && { cellId }), message, isUserError: error instanceof UserError });
}

/** Test hook (GCCS_TEST_HANG_CELL=<cell id>): blocks this worker's event loop for good, without using the CPU, as a hung worker. */
function hangForever(): never {
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

async function handle(request: HostRequest): Promise<void> {
  switch (request.type) {
    case 'init':
      try {
        const info = await initBackend(request.backend);
        evaluator = new CellEvaluator(info.name);
        backendName = info.name;
        send({ type: 'ready', backend: info.name, detail: info.detail });
      } catch (error) {
        fail(error);
      }
      return;
    case 'runCell': {
      const { cell } = request;
      if (!evaluator) return fail(new Error('runCell before init'), cell.id);
      if (cell.id === process.env.GCCS_TEST_HANG_CELL) hangForever();
      running = new AbortController();
      try {
        const result = await evaluator.evaluate(cell, running.signal, (done, total) => send({ type: 'progress', cellId: cell.id, done, total }));
        send({ type: 'cellDone', result });
      } catch (error) {
        if (error instanceof AttackCancelled) send({ type: 'cancelled', cellId: cell.id });
        else fail(error, cell.id);
      } finally {
        running = undefined;
      }
      return;
    }
    case 'train': {
      if (!backendName) return fail(new Error('train before init'));
      running = new AbortController();
      try {
        const result = await train(request.config, backendName, (event) => send({ type: 'trainEvent', event }), running.signal);
        send({ type: 'trainDone', outDir: result.outDir, testAccuracy: result.testAccuracy });
      } catch (error) {
        if (error instanceof TrainingCancelled) send({ type: 'cancelled', cellId: '' });
        else fail(error);
      } finally {
        running = undefined;
      }
      return;
    }
    case 'cancel':
      running?.abort();
      return;
  }
}

process.on('message', (request: HostRequest) => void handle(request));
// The host kills a worker that stops sending these (src/core/sweep/pool.ts).
setInterval(() => send({ type: 'heartbeat' }), WORKER_LIMITS.heartbeatIntervalMs).unref();
// The host ends a worker by closing the channel (and a dead host closes it too).
process.on('disconnect', () => process.exit(0));
// Ctrl-C reaches the whole process group; the host decides, and cancels through the channel.
process.on('SIGINT', () => undefined);
