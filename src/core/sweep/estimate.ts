/**
 * A sweep's time estimate before it runs (robustness/estimate.ts counts the passes): the models
 * timed in one worker, as the sweep's workers will run them; a resumed sweep counts only the cells
 * its results file lacks. No TensorFlow.js here.
 */
import { workerThreadsEnv } from '../backend/threadCount';
import { Estimate, sweepEstimate } from '../robustness/estimate';
import { WorkerJobOptions, runWorkerJob } from '../workerClient';
import { planSweep } from './config';
import { defaultWorkerCount } from './pool';
import { resumableResults } from './results';
import type { SweepCell, SweepConfig } from './types';

/** Options of the worker that times the models, and the workers the cells are dealt to (default: the pool's). */
export type SweepEstimateOptions = WorkerJobOptions & { workers?: number };

/** The estimate of sweep cells: each of their models timed in one worker at the cells' batch size (none started for no cells). */
export async function estimateCells(cells: SweepCell[], options: SweepEstimateOptions): Promise<Estimate> {
  const workers = options.workers ?? defaultWorkerCount();
  if (cells.length === 0) return sweepEstimate([], new Map(), workers);
  const models = [...new Set(cells.map((cell) => cell.model))];
  // Timed on the threads each of the sweep's workers will get.
  const timing = { ...options, env: { ...workerThreadsEnv(workers), ...options.env } };
  const { times } = await runWorkerJob({ type: 'calibrate', models, batchSize: cells[0].batchSize }, 'calibrated', 'timing the model', timing);
  return sweepEstimate(cells, new Map(models.map((model, i) => [model, times[i]])), workers);
}

/**
 * A sweep's estimate before it runs: its cells planned (the configuration checked) and estimated,
 * all of them, or with `resumeFrom` (a results file the sweep will resume) those not already in it.
 */
export async function estimateSweep(config: SweepConfig, options: SweepEstimateOptions & { label?: string; resumeFrom?: string }): Promise<Estimate> {
  const { configHash, cells } = planSweep(config, options.label);
  const earlier = options.resumeFrom === undefined ? [] : resumableResults(options.resumeFrom, configHash, new Set(cells.map((cell) => cell.id))).results;
  const finished = new Set(earlier.map((result) => result.cell.id));
  return estimateCells(
    cells.filter((cell) => !finished.has(cell.id)),
    options,
  );
}
