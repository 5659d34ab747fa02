/** Clean metrics of a saved model on a split: `gccs eval` and the worker's `evaluate` request. */
import { GCCS_DEFAULTS } from '../loss';
import { evaluateModel } from '../metrics';
import { loadModelSplit } from './modelSplit';
import type { ModelEvaluation, ModelSplitOptions } from './types';

export async function evaluateModelSplit(options: ModelSplitOptions): Promise<ModelEvaluation> {
  const { model, meta, modelJson, dataset, examples, splitName } = await loadModelSplit(options);
  try {
    const muT = meta?.loss.kind === 'gccs' ? meta.loss.muT : GCCS_DEFAULTS.muT;
    const evaluation = evaluateModel(model, examples, muT, options.seed ?? 0);
    return { model: modelJson, split: splitName, dataset: dataset.source, classNames: dataset.classNames, ...evaluation };
  } finally {
    model.dispose();
  }
}
