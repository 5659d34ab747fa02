import * as os from 'node:os';
import { UserError } from '../errors';
import { WASM_LIMITS } from '../limits';

// How many threads the wasm backend runs (threaded.ts loads it), without TensorFlow.js: the
// extension host's sweep pool reads it too.

/**
 * Threads of the wasm backend when neither --threads nor GCCS_WASM_THREADS says: this process's
 * share of the cores among `processes` computing side by side (README › Performance: on a quiet
 * 2-core machine, 2 threads trained 1.41× and ran PGD-5 1.45× faster than 1).
 */
export function wasmThreadsShare(processes = 1): number {
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  return Math.max(1, Math.min(WASM_LIMITS.maxThreads, Math.floor(cores / processes)));
}

let requestedThreads: number | undefined;

/** One line naming the source of a bad thread count. */
function checkThreads(value: number, source: string): number {
  if (!Number.isInteger(value) || value < 1 || value > WASM_LIMITS.maxThreads) {
    throw new UserError(`${source}: the wasm backend's threads must be a whole number from 1 to ${WASM_LIMITS.maxThreads}`);
  }
  return value;
}

/** The wasm backend's thread count for the next initBackend (the CLI's --threads); undefined: back to the default. */
export function setWasmThreads(threads: number | undefined): void {
  requestedThreads = threads === undefined ? undefined : checkThreads(threads, `--threads ${threads}`);
}

/** setWasmThreads's count, else GCCS_WASM_THREADS (inherited by worker processes), else this process's share of the cores. */
export function wasmThreads(): number {
  if (requestedThreads !== undefined) return requestedThreads;
  const fromEnvironment = process.env.GCCS_WASM_THREADS;
  if (fromEnvironment === undefined || fromEnvironment === '') return wasmThreadsShare();
  return checkThreads(Number(fromEnvironment), `GCCS_WASM_THREADS=${fromEnvironment}`);
}

/**
 * What `processes` worker processes computing side by side (sweep workers, data-parallel replicas)
 * add to their environment: the thread count chosen here, else (none chosen) each one's share of
 * the cores, so that they do not oversubscribe them.
 */
export function workerThreadsEnv(processes: number): NodeJS.ProcessEnv {
  if (requestedThreads !== undefined) return { GCCS_WASM_THREADS: String(requestedThreads) };
  if (process.env.GCCS_WASM_THREADS) return {};
  return { GCCS_WASM_THREADS: String(wasmThreadsShare(processes)) };
}

