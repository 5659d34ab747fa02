/**
 * The paper's comparison as the extension host runs it: one fresh worker (dist/worker.js) runs the
 * whole reproduction (its attack sweeps on workers of its own) and reports each event; aborting
 * sends `cancel` (the worker stops at a safe point: what finished stays in the run's folder, and the
 * same request continues it). No vscode import: the extension host and the tests both use it.
 */
import type { ReproduceEvent, ReproduceRequest } from '../../core/reproduce';
import { WorkerJobOptions, runWorkerJob } from '../../core/workerClient';

export interface ReproduceWorkerOptions extends WorkerJobOptions {
  /** Processes for the attack sweeps (default 1). */
  workers?: number;
  onEvent?: (event: ReproduceEvent) => void;
}

export async function runReproduceWorker(request: ReproduceRequest, { workers = 1, onEvent, ...options }: ReproduceWorkerOptions) {
  const done = await runWorkerJob({ type: 'reproduce', request, workers }, 'reproduceDone', 'reproducing the paper', {
    ...options,
    onMessage: (message) => {
      options.onMessage?.(message);
      if (message.type === 'reproduceEvent') onEvent?.(message.event);
    },
  });
  return { outDir: done.outDir, files: done.files, html: done.html };
}
