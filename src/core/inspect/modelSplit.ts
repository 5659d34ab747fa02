/**
 * A saved model and the split of its data to run it on: what `gccs eval`, `gccs latent`,
 * `gccs evaluate` and the worker's `latent` and `evaluate` requests share.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { DatasetSpec, LoadedDataset, loadDataset, makeSplits } from '../data';
import type { Examples } from '../data/types';
import { UserError } from '../errors';
import { META_FILE, ModelMeta, loadModelDir } from '../io/modelDir';
import { assertInputShape, assertOutputWidth } from '../models/compatibility';
import { TRAIN_DEFAULTS } from '../train/defaults';
import type { ModelSplitOptions } from './types';

export interface ModelSplit {
  model: tfl.LayersModel;
  meta: ModelMeta | null;
  modelJson: string;
  dataset: LoadedDataset;
  examples: Examples;
  splitName: string;
}

/** The dataset the options name; without --dataset, the one the model was trained on. */
function datasetSpec(options: ModelSplitOptions, meta: ModelMeta | null): DatasetSpec {
  const base: Partial<DatasetSpec> = meta && !options.dataset ? meta.dataset.spec : {};
  const given = { kind: options.dataset, path: options.data, seed: options.seed, syntheticTrain: options.syntheticTrain, syntheticTest: options.syntheticTest };
  const spec = { kind: 'synthetic', seed: TRAIN_DEFAULTS.seed, ...base, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
  return spec as DatasetSpec;
}

/** The dataset and split of a training configuration, where a model without gccs.json takes them from. */
function metaOfTrainConfig(config: ModelSplitOptions['trainConfig'] | null, label: string): ModelMeta {
  if (!config?.dataset?.kind || !config.split) throw new UserError(`${label}: not a training configuration (dataset.kind and split are required)`);
  const { dataset, split, loss, seed } = config;
  const { trainRange, testRange, validationFraction } = split;
  return { dataset: { spec: dataset, trainRange, testRange, validationFraction, splitSeed: seed ?? TRAIN_DEFAULTS.seed }, loss } as ModelMeta;
}

/** Loads the model and the split it is to run on, checked against each other. The caller disposes the model. */
export async function loadModelSplit(options: ModelSplitOptions): Promise<ModelSplit> {
  const { model, modelJson, ...loaded } = await loadModelDir(options.model);
  try {
    return await splitFor(model, modelJson, loaded.meta, options);
  } catch (error) {
    model.dispose();
    throw error;
  }
}

async function splitFor(model: tfl.LayersModel, modelJson: string, saved: ModelMeta | null, options: ModelSplitOptions): Promise<ModelSplit> {
  const meta = saved ?? (options.trainConfig ? metaOfTrainConfig(options.trainConfig, options.trainConfigLabel ?? 'the training configuration') : null);
  // Without a gccs.json nothing says which data the model is for: never fall back to the synthetic set silently.
  if (!meta && !options.dataset) throw new UserError(`${modelJson}: no ${META_FILE} beside it to take the dataset from: pass --dataset (and --data) or --train-config`);
  const spec = datasetSpec(options, meta);
  const ranges = {
    trainRange: options.trainRange ?? meta?.dataset.trainRange ?? undefined,
    testRange: options.testRange ?? meta?.dataset.testRange ?? undefined,
  };
  const dataset = await loadDataset(spec, ranges);
  assertOutputWidth(model, modelJson, dataset.classNames.length, dataset.source);
  const splits = makeSplits(dataset, {
    ...ranges,
    valFraction: options.valFraction ?? meta?.dataset.validationFraction ?? TRAIN_DEFAULTS.validationFraction,
    seed: options.seed ?? meta?.dataset.splitSeed ?? TRAIN_DEFAULTS.seed,
  });
  const splitName = options.split ?? 'test';
  const examples = { train: splits.train, validation: splits.validation, test: splits.test }[splitName];
  if (!examples) throw new UserError(`there is no ${splitName} split (validation fraction is 0)`);
  assertInputShape(model, modelJson, examples.shape);
  return { model, meta, modelJson, dataset, examples, splitName };
}
