/**
 * runSweep: runs a sweep's cells on a pool of worker processes (src/worker/), appending each
 * finished cell to the results file as it arrives. Host and workers speak src/core/protocol.ts.
 */
import { ChildProcess, fork } from 'node:child_process';
import * as os from 'node:os';
import type { BackendName } from '../backend';
import { UserError } from '../errors';
import { CONFIG_LIMITS, WORKER_LIMITS } from '../limits';
import type { HostRequest, WorkerMessage } from '../protocol';
import { NormalizedSweep, describeCell, planSweep } from './config';
import { appendResult, openResults } from './results';
import type { CellEvaluation, CellResult, SweepCell, SweepConfig } from './types';
import { processEntry } from '../processEntry';

export type SweepEvent =
  | { type: 'start'; configHash: string; total: number; finished: number; workers: number }
  | { type: 'workerReady'; pid: number; backend: string; detail: string }
  | { type: 'cellStart'; cell: SweepCell; pid: number }
  | { type: 'progress'; cell: SweepCell; pid: number; done: number; total: number }
  | { type: 'cellDone'; result: CellResult; finished: number; total: number }
  | { type: 'log'; pid: number; message: string };

export interface SweepOptions {
  /** Worker processes; default: the number of cores. */
  workers?: number;
  /** Each worker initializes this backend; default auto. */
  backend?: BackendName;
  /** JSON Lines file to append each finished cell to; without it results are only returned. */
  resultsFile?: string;
  /** Continue the sweep whose results are in resultsFile, skipping its finished cells. */
  resume?: boolean;
  /** Aborting cancels the running cells; the finished ones stay in resultsFile. */
  signal?: AbortSignal;
  onEvent?: (event: SweepEvent) => void;
  /** Names the configuration in errors, e.g. its file; default "sweep config". */
  label?: string;
  /** A worker silent this long is hung (killed, its cell failed); default WORKER_LIMITS.heartbeatTimeoutMs. */
  heartbeatTimeoutMs?: number;
}

export interface SweepResult {
  configHash: string;
  sweep: NormalizedSweep;
  cells: SweepCell[];
  /** One per cell, in the order of `cells`. */
  results: CellResult[];
  /** Cells evaluated by this run (the others were in the results file). */
  ran: number;
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

export async function runSweep(config: SweepConfig, options: SweepOptions = {}): Promise<SweepResult> {
  const { sweep, configHash, cells } = planSweep(config, options.label);
  const workers = options.workers ?? Math.min(os.availableParallelism(), CONFIG_LIMITS.workers);
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
  emit({ type: 'start', configHash, total: cells.length, finished: finished.size, workers: size });

  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? WORKER_LIMITS.heartbeatTimeoutMs;
  const outcome = await runPool(pending, size, options.backend ?? 'auto', heartbeatTimeoutMs, options.signal, emit, (cell, { cellId: _, ...measured }) => {
    const result: CellResult = { configHash, cell, ...measured, finishedAt: new Date().toISOString() };
    if (file) appendResult(file, result);
    finished.set(cell.id, result);
    emit({ type: 'cellDone', result, finished: finished.size, total: cells.length });
  });
  if (outcome === 'cancelled' && finished.size < cells.length) throw cancelled();
  return { configHash, sweep, cells, results: cells.map((cell) => finished.get(cell.id)!), ran: pending.length };
}

interface Worker {
  child: ChildProcess;
  pid: number;
  ready: boolean;
  cell?: SweepCell;
  /** The end of its stderr, for crash reports. */
  stderr: string;
  /** When it last sent anything (a heartbeat at least every WORKER_LIMITS.heartbeatIntervalMs). */
  heardAt: number;
  /** Killed because it stopped answering. */
  hung: boolean;
}

/**
 * Runs `cells` on `size` workers, each taking the next cell when it finishes one. Resolves
 * 'cancelled' after an abort once every worker has stopped; rejects with the first failure (a
 * cell's error, a crash, a worker silent for `heartbeatTimeoutMs`, which is killed), after
 * stopping the others.
 */
function runPool(
  cells: SweepCell[],
  size: number,
  backend: BackendName,
  heartbeatTimeoutMs: number,
  signal: AbortSignal | undefined,
  emit: (event: SweepEvent) => void,
  onDone: (cell: SweepCell, evaluation: CellEvaluation) => void,
): Promise<'done' | 'cancelled'> {
  if (size === 0) return Promise.resolve('done');
  return new Promise((resolve, reject) => {
    const queue = [...cells];
    const entry = processEntry('index');
    const workers: Worker[] = [];
    let running = size;
    let stopping = false;
    let aborted = false;
    let failure: Error | undefined;

    const send = (worker: Worker, request: HostRequest) => worker.child.connected && worker.child.send(request);
    // A worker exits when its channel closes.
    const close = (worker: Worker) => worker.child.connected && worker.child.disconnect();

    const stop = (error?: Error) => {
      failure ??= error;
      if (stopping) return;
      stopping = true;
      for (const worker of workers) {
        if (worker.cell) send(worker, { type: 'cancel' });
        else close(worker);
      }
    };
    const onAbort = () => {
      aborted = true;
      stop();
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    const next = (worker: Worker) => {
      const cell = stopping ? undefined : queue.shift();
      if (!cell) return close(worker);
      worker.cell = cell;
      send(worker, { type: 'runCell', cell });
      emit({ type: 'cellStart', cell, pid: worker.pid });
    };

    const onMessage = (worker: Worker, message: WorkerMessage) => {
      const cell = worker.cell;
      switch (message.type) {
        case 'ready':
          worker.ready = true;
          emit({ type: 'workerReady', pid: worker.pid, backend: message.backend, detail: message.detail });
          return next(worker);
        case 'progress':
          if (cell) emit({ type: 'progress', cell, pid: worker.pid, done: message.done, total: message.total });
          return;
        case 'cellDone':
          worker.cell = undefined;
          if (cell) onDone(cell, message.result);
          return next(worker);
        case 'cancelled':
          worker.cell = undefined;
          return close(worker);
        case 'error':
          worker.cell = undefined;
          stop(message.isUserError ? new UserError(message.message) : new Error(cell ? `cell ${cell.id} (${describeCell(cell)}) failed: ${message.message}` : `worker ${worker.pid}: ${message.message}`));
          return close(worker);
        case 'log':
          return emit({ type: 'log', pid: worker.pid, message: message.message });
        case 'heartbeat':
          return;
      }
    };

    // A hung worker (its event loop blocked, or stuck in native code) sends nothing: it is killed.
    const watchdog = setInterval(() => {
      for (const worker of workers) {
        if (worker.hung || worker.child.exitCode !== null || worker.child.signalCode !== null) continue;
        if (Date.now() - worker.heardAt > heartbeatTimeoutMs) {
          worker.hung = true;
          worker.child.kill('SIGKILL');
        }
      }
    }, Math.min(1000, heartbeatTimeoutMs / 4));

    const onExit = (worker: Worker, code: number | null, signalName: string | null) => {
      const how = code !== null ? `exit code ${code}` : `signal ${signalName}`;
      const said = worker.stderr.trim().split('\n').pop();
      const tail = said ? `: ${said}` : '';
      const silent = `worker ${worker.pid} stopped answering (no heartbeat for ${heartbeatTimeoutMs / 1000} s) and was killed`;
      if (worker.hung) stop(new Error(worker.cell ? `cell ${worker.cell.id} (${describeCell(worker.cell)}) failed: ${silent}` : silent));
      else if (worker.cell) stop(new Error(`worker ${worker.pid} crashed (${how}) while running cell ${worker.cell.id} (${describeCell(worker.cell)})${tail}`));
      // Otherwise the host closed it, unless cells were left for it.
      else if (!stopping && (!worker.ready || queue.length > 0)) stop(new Error(`worker ${worker.pid} exited (${how})${worker.ready ? '' : ' before it was ready'}${tail}`));
      worker.cell = undefined;
      if (--running > 0) return;
      clearInterval(watchdog);
      signal?.removeEventListener('abort', onAbort);
      if (failure) reject(failure);
      else resolve(aborted ? 'cancelled' : 'done');
    };

    for (let i = 0; i < size; i++) {
      // stdout is unused (the channel carries everything); stderr is kept for crash reports.
      const child = fork(entry.file, [], { execArgv: entry.execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      const worker: Worker = { child, pid: child.pid ?? -1, ready: false, stderr: '', heardAt: Date.now(), hung: false };
      workers.push(worker);
      child.stderr?.on('data', (chunk: Buffer) => (worker.stderr = (worker.stderr + chunk.toString()).slice(-2000)));
      child.on('message', (message: WorkerMessage) => {
        worker.heardAt = Date.now();
        try {
          onMessage(worker, message);
        } catch (error) {
          // e.g. the results file could not be written.
          stop(error as Error);
        }
      });
      child.on('error', (error) => stop(new Error(`worker ${worker.pid}: ${error.message}`)));
      child.on('exit', (code, signalName) => onExit(worker, code, signalName));
      send(worker, { type: 'init', backend });
    }
  });
}
