/**
 * The latent panel's computation: a `latent` request to a fresh worker (src/worker/, the same core
 * function as `gccs latent`), the model and its data named in the message. No vscode import: tested directly.
 */
import type { SweepDataConfig } from '../../../core/sweep/types';
import type { TrainConfig } from '../../../core/train/trainer';
import { WorkerJobOptions, runWorkerJob } from '../../../core/workerClient';
import { latentData, latentOptions } from './data';
import type { LatentData, LatentRequest } from './messages';

/** What to compute: a model folder or .onnx file, or a training's checkpoint (with the run's configuration for its data). */
export interface LatentTarget {
  modelDir: string;
  training?: { config: TrainConfig; epoch: number };
  /** The data of a model without gccs.json (an .onnx file). */
  data?: SweepDataConfig;
}

/** z of the target's first samples (and after the requested attack), checked and labelled for the panel. */
export async function computeLatentData(target: LatentTarget, request: LatentRequest, options: WorkerJobOptions): Promise<LatentData> {
  const { training } = target;
  const { data } = await runWorkerJob({ type: 'latent', options: latentOptions(target.modelDir, request, training?.config, target.data) }, 'latentDone', 'computing the latent space', options);
  return latentData(target.modelDir, data, training ? `checkpoint after epoch ${training.epoch}` : undefined);
}
