/**
 * What a training tells as it runs (train()'s onEvent, the worker's `trainEvent` messages). Types
 * only, apart from the trainer, so that the worker protocol (src/core/protocol.ts) can name them
 * without an import cycle through the trainer and its data-parallel replicas.
 */
import type { EpochRecord } from '../io/modelLocation';

export type TrainEvent =
  | {
      type: 'start';
      backend: string;
      trainCount: number;
      validationCount: number;
      testCount: number;
      /** Classes: the width D of the outputs z. */
      numClasses: number;
      stepsPerEpoch: number;
      epochs: number;
      startEpoch: number;
    }
  | { type: 'warning'; message: string }
  | { type: 'step'; epoch: number; step: number; steps: number; loss: number }
  | { type: 'epoch'; record: EpochRecord };
