/**
 * Runs one training in a fresh worker (dist/worker.js) through runWorkerJob: init → ready → train →
 * trainEvent… → trainDone. Aborting the signal sends `cancel` (training stops between two steps; the
 * last epoch checkpoint stays). Panels that follow trainings (latent, training) are told each event.
 * No vscode import: the extension host and the tests both use it.
 */
import { workerThreadsEnv } from '../../core/backend/threadCount';
import type { TrainConfig, TrainEvent } from '../../core/train/trainer';
import { JobCancelled, WorkerJobOptions, runWorkerJob } from '../../core/workerClient';

export interface TrainWorkerOptions extends WorkerJobOptions {
  onEvent?: (event: TrainEvent) => void;
}

/** What panels that follow trainings see: the engine's events, then how the training ended. */
export type TrainingNotice = TrainEvent | { type: 'finished'; outcome: 'done' | 'cancelled' | 'failed'; message: string };
type TrainingListener = (config: TrainConfig, notice: TrainingNotice) => void;
const trainingListeners = new Set<TrainingListener>();

/** Follow every training run through runTrainWorker (the latent and training panels); dispose to stop. */
export function onTraining(listener: TrainingListener): { dispose(): void } {
  trainingListeners.add(listener);
  return { dispose: () => trainingListeners.delete(listener) };
}

const notify = (config: TrainConfig, notice: TrainingNotice) => trainingListeners.forEach((listener) => listener(config, notice));

export async function runTrainWorker(config: TrainConfig, options: TrainWorkerOptions): Promise<{ outDir: string; testAccuracy: number }> {
  try {
    const done = await runWorkerJob({ type: 'train', config }, 'trainDone', 'training', {
      ...options,
      // A data-parallel training's process computes beside its replicas: its share of the cores too.
      env: { ...((config.workers ?? 1) > 1 && workerThreadsEnv(config.workers!)), ...options.env },
      onMessage: (message) => {
        options.onMessage?.(message);
        if (message.type !== 'trainEvent') return;
        notify(config, message.event);
        options.onEvent?.(message.event);
      },
    });
    notify(config, { type: 'finished', outcome: 'done', message: '' });
    return { outDir: done.outDir, testAccuracy: done.testAccuracy };
  } catch (error) {
    notify(config, { type: 'finished', outcome: error instanceof JobCancelled ? 'cancelled' : 'failed', message: (error as Error).message });
    throw error;
  }
}
