/**
 * The robustness panel's adversarial-example gallery, host side: an `examples` request to a fresh
 * worker (src/core/inspect/examples.ts, never in the extension host), for a cell of the results
 * shown. No vscode import: tested directly.
 */
import { displayName } from '../../../core/catalog';
import type { SweepCell } from '../../../core/sweep/types';
import { WorkerJobOptions, runWorkerJob } from '../../../core/workerClient';
import { modelName } from './compareData';
import type { ExamplesData } from './messages';

/** A cell's grid point in words: ["ε 0.1"], ["ε 0.1", "IT 10", "BS 8"] (SPSA), [] (no grid). */
export function gridWords(cell: SweepCell): string[] {
  const words = [cell.eps !== null && `ε ${cell.eps}`, cell.iterations !== null && `IT ${cell.iterations}`, cell.samples !== null && `BS ${cell.samples}`];
  return words.filter((word): word is string => typeof word === 'string');
}

/** "PGD ε 0.1 on tiny: the first 12 of 1000 samples". */
export function examplesTitle(cell: SweepCell, shown: number): string {
  const point = gridWords(cell).join(', ');
  return `${displayName(cell.attack)}${point ? ` ${point}` : ''} on ${modelName(cell.model)}: the first ${shown} of ${cell.count} samples`;
}

/** The cell's first `count` samples, clean and attacked as the sweep attacked them; aborting kills the worker (JobCancelled). */
export async function computeExamplesData(cell: SweepCell, count: number, options: WorkerJobOptions): Promise<ExamplesData> {
  const { data } = await runWorkerJob({ type: 'examples', options: { cell, count } }, 'examplesDone', 'computing adversarial examples', options);
  return { ...data, title: examplesTitle(cell, data.samples.length) };
}
