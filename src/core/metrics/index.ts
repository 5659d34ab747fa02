import type * as tfl from '@tensorflow/tfjs-layers';
import type { Examples } from '../data/types';
import { accuracy, argmaxRows, confusionMatrix, macroF1 } from './classification';
import { ClassLatentStats, latentStats } from './latent';
import { computeOutputs } from './outputs';
import { MeanDistanceRatio, SeparationRatio, meanDistanceRatio, separationRatio } from './separation';

export { accuracy, argmaxRows, confusionMatrix, macroF1 } from './classification';
export { latentStats } from './latent';
export type { ClassLatentStats } from './latent';
export { computeOutputs, outputsCollapsed } from './outputs';
export { meanDistanceRatio, separationRatio } from './separation';
export type { MeanDistanceRatio, SeparationRatio } from './separation';
export { studentTQuantile } from './studentT';

export interface Evaluation {
  count: number;
  accuracy: number;
  macroF1: number;
  /** confusion[true][predicted]. */
  confusion: number[][];
  /** r_AB of the latent space: the paper's inter/intra-class distance ratio (equations 4–6), mean over ordered class pairs. */
  separation: SeparationRatio;
  /** The earlier mean-distance ratio (not the paper's r_AB), for comparison with earlier results. */
  meanDistanceRatio: MeanDistanceRatio;
  latent: ClassLatentStats[];
}

/** Everything `gccs eval` reports about a model on a set of examples. */
export function evaluateModel(model: tfl.LayersModel, examples: Examples, muT: number, seed = 0): Evaluation {
  const { z, dims } = computeOutputs(model, examples);
  const predictions = argmaxRows(z, dims);
  const confusion = confusionMatrix(predictions, examples.labels, dims);
  return {
    count: examples.labels.length,
    accuracy: accuracy(predictions, examples.labels),
    macroF1: macroF1(confusion),
    confusion,
    separation: separationRatio(z, examples.labels, dims),
    meanDistanceRatio: meanDistanceRatio(z, examples.labels, dims, seed),
    latent: latentStats(z, examples.labels, dims, muT),
  };
}
