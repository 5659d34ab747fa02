/**
 * A sweep's time estimate before it runs (robustness/estimate.ts counts the passes): the models
 * timed in one worker, as the sweep's workers will run them. No TensorFlow.js here.
 */
import { Estimate, sweepEstimate } from '../robustness/estimate';
import { WorkerJobOptions, runWorkerJob } from '../workerClient';
import { planSweep } from './config';
import { defaultWorkerCount } from './pool';
import type { SweepCell, SweepConfig } from './types';

/** Options of the worker that times the models, and the workers the cells are dealt to (default: the pool's). */
export type SweepEstimateOptions = WorkerJobOptions & { workers?: number };

/** The estimate of sweep cells: each of their models timed in one worker at the cells' batch size. */
export async function estimateCells(cells: SweepCell[], options: SweepEstimateOptions): Promise<Estimate> {
  const models = [...new Set(cells.map((cell) => cell.model))];
  const batchSize = cells[0]?.batchSize ?? 1;
  const { times } = await runWorkerJob({ type: 'calibrate', models, batchSize }, 'calibrated', 'timing the model', options);
  return sweepEstimate(cells, new Map(models.map((model, i) => [model, times[i]])), options.workers ?? defaultWorkerCount());
}

/** A sweep's estimate before it runs: its cells planned (the configuration checked) and estimated, all of them. */
export async function estimateSweep(config: SweepConfig, options: SweepEstimateOptions & { label?: string }): Promise<Estimate> {
  return estimateCells(planSweep(config, options.label).cells, options);
}
