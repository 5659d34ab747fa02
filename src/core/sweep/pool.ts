/**
 * runSweep: plans a sweep and runs its cells on a pool of worker processes (src/worker/), appending
 * each finished cell to the results file as it arrives, then summarises the results and writes the
 * HTML report. Host and workers speak src/core/protocol.ts through src/core/workerClient.ts; the
 * caller receives typed events. No TensorFlow.js here: the CLI and the extension host both run it.
 */
import * as os from 'node:os';
import type { BackendName } from '../backend';
import { workerThreadsEnv } from '../backend/threadCount';
import { UserError } from '../errors';
import { CONFIG_LIMITS } from '../limits';
import type { WorkerMessage } from '../protocol';
import { WorkerClient, WorkerEnd, WorkerProcessOptions, hungText } from '../workerClient';
import { NormalizedSweep, describeCell, planSweep } from './config';
import { writeReport } from './report';
import { appendResult, openResults } from './results';
import { SweepSummary, summarizeSweep } from './summary';
import type { CellEvaluation, CellResult, SweepCell, SweepConfig, SweepEvent } from './types';
import { counted } from '../text';

export type { SweepEvent } from './types';

/** An event as a log line, the same in the CLI and the extension's log; undefined for the events each shows its own way (progress, workerReady). */
export function sweepEventLine(event: SweepEvent, resultsFile?: string): string | undefined {
  switch (event.type) {
    case 'start':
      if (event.finished === event.total) return `all ${event.total} cells are already in ${resultsFile}`;
      return `${counted(event.total, 'cell')}${event.finished ? ` (${event.finished} already in ${resultsFile})` : ''} on ${counted(event.workers, 'worker')}`;
    case 'cellDone': {
      const { cell, accuracy, seconds } = event.result;
      return `[${event.finished}/${event.total}] ${describeCell(cell)}: accuracy ${(100 * accuracy).toFixed(2)}% (${seconds.toFixed(1)} s)`;
    }
    case 'log':
      return `worker ${event.pid}: ${event.message}`;
    default:
      return undefined;
  }
}

export interface SweepOptions {
  /** Worker processes; default: the number of cores. */
  workers?: number;
  /** Each worker initializes this backend; default auto. */
  backend?: BackendName;
  /** JSON Lines file to append each finished cell to; without it results are only returned. */
  resultsFile?: string;
  /** Write the HTML report of the finished sweep here. */
  reportFile?: string;
  /** Continue the sweep whose results are in resultsFile, skipping its finished cells. */
  resume?: boolean;
  /** Aborting cancels the running cells; the finished ones stay in resultsFile. */
  signal?: AbortSignal;
  onEvent?: (event: SweepEvent) => void;
  /** Names the configuration in errors, e.g. its file; default "sweep config". */
  label?: string;
  /** How to run the workers (Node, environment, heartbeat timeout); a worker silent too long is killed and its cell failed. */
  process?: WorkerProcessOptions;
  /** Awaited once the cells still to run are known (the results file read), before the workers start: the CLI's time estimate. */
  beforeStart?: (pending: SweepCell[], workers: number) => Promise<void>;
}

export interface SweepResult {
  configHash: string;
  sweep: NormalizedSweep;
  cells: SweepCell[];
  /** One per cell, in the order of `cells`. */
  results: CellResult[];
  /** Cells evaluated by this run (the others were in the results file). */
  ran: number;
  /** Tables, charts and warnings of the results. */
  summary: SweepSummary;
}

/** The sweep was cancelled; a UserError so that the CLI says so in one line. */
export class SweepCancelled extends UserError {
  constructor(
    readonly finished: number,
    readonly total: number,
    resumable: boolean,
  ) {
    super(`cancelled: ${finished} of ${total} cells finished; ${resumable ? 'run again with --resume' : 'pass --out to keep finished cells'}`);
    this.name = 'SweepCancelled';
  }
}

/** Worker processes when none are asked for: one per core, up to the cap. */
export const defaultWorkerCount = () => Math.min(os.availableParallelism(), CONFIG_LIMITS.workers);

export async function runSweep(config: SweepConfig, options: SweepOptions = {}): Promise<SweepResult> {
  const { sweep, configHash, cells } = planSweep(config, options.label);
  const workers = options.workers ?? defaultWorkerCount();
  if (!Number.isInteger(workers) || workers < 1) throw new UserError(`workers must be a whole number ≥ 1 (got ${workers})`);
  if (workers > CONFIG_LIMITS.workers) throw new UserError(`workers must be at most ${CONFIG_LIMITS.workers} (got ${workers}; README › Limits)`);
  const file = options.resultsFile;
  const finished = new Map<string, CellResult>();
  const known = new Set(cells.map((cell) => cell.id));
  for (const result of file ? openResults(file, configHash, Boolean(options.resume), known) : []) {
    if (known.has(result.cell.id)) finished.set(result.cell.id, result);
  }
  const cancelled = () => new SweepCancelled(finished.size, cells.length, file !== undefined);
  if (options.signal?.aborted) throw cancelled();
  const pending = cells.filter((cell) => !finished.has(cell.id));
  const emit = options.onEvent ?? (() => undefined);
  const size = Math.min(workers, pending.length);
  if (pending.length) await options.beforeStart?.(pending, size);
  emit({ type: 'start', configHash, total: cells.length, finished: finished.size, workers: size });

  const outcome = await runPool(pending, size, options, emit, (cell, { cellId: _, ...measured }) => {
    const result: CellResult = { configHash, cell, ...measured, finishedAt: new Date().toISOString() };
    if (file) appendResult(file, result);
    finished.set(cell.id, result);
    emit({ type: 'cellDone', result, finished: finished.size, total: cells.length });
  });
  if (outcome === 'cancelled' && finished.size < cells.length) throw cancelled();
  const results = cells.map((cell) => finished.get(cell.id)!);
  const summary = summarizeSweep(cells, results);
  if (options.reportFile) writeReport(options.reportFile, summary, { configHash, sweep, resultsFile: file });
  return { configHash, sweep, cells, results, ran: pending.length, summary };
}

interface Worker {
  client: WorkerClient;
  ready: boolean;
  cell?: SweepCell;
}

/**
 * Runs `cells` on `size` workers, each taking the next cell when it finishes one. Resolves
 * 'cancelled' after an abort once every worker has stopped; rejects with the first failure (a
 * cell's error, a crash, a worker silent for its heartbeat timeout, which is killed), after
 * stopping the others.
 */
function runPool(
  cells: SweepCell[],
  size: number,
  options: SweepOptions,
  emit: (event: SweepEvent) => void,
  onDone: (cell: SweepCell, evaluation: CellEvaluation) => void,
): Promise<'done' | 'cancelled'> {
  if (size === 0) return Promise.resolve('done');
  return new Promise((resolve, reject) => {
    const settle = (failure: Error | undefined, aborted: boolean) => (failure ? reject(failure) : resolve(aborted ? 'cancelled' : 'done'));
    new Pool(cells, size, options, emit, onDone, settle);
  });
}

class Pool {
  private readonly queue: SweepCell[];
  private readonly workers: Worker[] = [];
  private running: number;
  private stopping = false;
  private aborted = false;
  private failure: Error | undefined;
  private readonly onAbort = () => {
    this.aborted = true;
    this.stop();
  };

  constructor(
    cells: SweepCell[],
    size: number,
    private readonly options: SweepOptions,
    private readonly emit: (event: SweepEvent) => void,
    private readonly onDone: (cell: SweepCell, evaluation: CellEvaluation) => void,
    private readonly settle: (failure: Error | undefined, aborted: boolean) => void,
  ) {
    this.queue = [...cells];
    this.running = size;
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    for (let i = 0; i < size; i++) {
      const worker = { ready: false } as Worker;
      // Each worker its share of the cores, unless the user chose the threads.
      worker.client = new WorkerClient({ ...options.process, env: { ...workerThreadsEnv(size), ...options.process?.env } }, {
        onMessage: (message) => {
          try {
            this.onMessage(worker, message);
          } catch (error) {
            // e.g. the results file could not be written.
            this.stop(error as Error);
          }
        },
        onExit: (end) => this.onExit(worker, end),
      });
      this.workers.push(worker);
      void worker.client.send({ type: 'init', backend: options.backend ?? 'auto' });
    }
  }

  /** Stops every worker (a running cell is cancelled first); the first failure is the one reported. */
  private stop(error?: Error): void {
    this.failure ??= error;
    if (this.stopping) return;
    this.stopping = true;
    for (const worker of this.workers) {
      if (worker.cell) void worker.client.send({ type: 'cancel' });
      else worker.client.close();
    }
  }

  private next(worker: Worker): void {
    const cell = this.stopping ? undefined : this.queue.shift();
    if (!cell) return worker.client.close();
    worker.cell = cell;
    void worker.client.send({ type: 'runCell', cell });
    this.emit({ type: 'cellStart', cell, pid: worker.client.pid });
  }

  private onMessage(worker: Worker, message: WorkerMessage): void {
    const { cell, client } = worker;
    switch (message.type) {
      case 'ready':
        worker.ready = true;
        this.emit({ type: 'workerReady', pid: client.pid, backend: message.backend, detail: message.detail });
        return this.next(worker);
      case 'progress':
        if (cell) this.emit({ type: 'progress', cell, pid: client.pid, done: message.done, total: message.total });
        return;
      case 'cellDone':
        worker.cell = undefined;
        if (cell) this.onDone(cell, message.result);
        return this.next(worker);
      case 'cancelled':
        worker.cell = undefined;
        return client.close();
      case 'error':
        worker.cell = undefined;
        this.stop(message.isUserError ? new UserError(message.message) : cell ? cellFailed(cell, message.message) : new Error(`worker ${client.pid}: ${message.message}`));
        return client.close();
      case 'log':
        return this.emit({ type: 'log', pid: client.pid, message: message.message });
      default:
        return;
    }
  }

  private onExit(worker: Worker, { how, hung, said }: WorkerEnd): void {
    const { cell, client } = worker;
    const tail = said ? `: ${said}` : '';
    if (hung) this.stop(cell ? cellFailed(cell, hungText(client)) : new Error(hungText(client)));
    else if (cell) this.stop(new Error(`worker ${client.pid} crashed (${how}) while running cell ${cell.id} (${describeCell(cell)})${tail}`));
    // Otherwise the host closed it, unless cells were left for it.
    else if (!this.stopping && (!worker.ready || this.queue.length > 0)) this.stop(new Error(`worker ${client.pid} exited (${how})${worker.ready ? '' : ' before it was ready'}${tail}`));
    worker.cell = undefined;
    if (--this.running > 0) return;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    this.settle(this.failure, this.aborted);
  }
}

const cellFailed = (cell: SweepCell, problem: string) => new Error(`cell ${cell.id} (${describeCell(cell)}) failed: ${problem}`);
