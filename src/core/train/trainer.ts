import * as path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import { DatasetSpec, Examples, batchOrders, loadDataset, makeBatch, makeSplits, subset } from '../data';
import { UserError } from '../errors';
import { CONFIG_LIMITS } from '../limits';
import { EpochRecord, ModelMeta, loadModelDir, saveModelDir } from '../io/modelDir';
import { LossConfig, gccsWarnings } from '../loss';
import { accuracy, argmaxRows, computeOutputs, outputsCollapsed } from '../metrics';
import { ModelSource, createModel } from '../models';
import { assertInputShape, assertOutputWidth } from '../models/compatibility';
import { Random } from '../random';
import { ENGINE_VERSION } from '../version';
import { checkpointDir, readCheckpoint, writeCheckpoint } from './checkpoint';
import { settleFolder } from '../io/atomic';
import type { BackendName } from '../backend';
import { ReplicaGroup, batchShare } from './dataParallel';
import { Optimizer, OptimizerConfig, learningRateAt, validateOptimizerConfig } from './optimizer';
import { TRAIN_DEFAULTS } from './defaults';
import { StepExtras, batchGradients } from './step';
import { AdversarialConfig, validateAdversarial } from './adversarial';
import { DefenceConfig, validateDefence } from '../loss/defences';
import { secondOrderProblem } from '../loss/secondOrder';
import { dropoutStepSeed, unseedableNoiseLayers } from '../models/dropout';

export interface TrainConfig {
  dataset: DatasetSpec;
  split: { trainRange: string | null; testRange: string | null; validationFraction: number };
  /** A built-in architecture or a workspace model.json; ignored when fine-tuning. */
  model: ModelSource;
  /** Start from this saved model (its architecture and weights) instead of a fresh one. */
  fineTuneFrom: string | null;
  loss: LossConfig;
  optimizer: OptimizerConfig;
  batchSize: number;
  epochs: number;
  seed: number;
  outDir: string;
  /** Continue from the checkpoint in outDir. */
  resume: boolean;
  /** Training augmentation: shift each image by up to this many pixels (0 = none, as the paper; default 1). */
  augmentShift?: number;
  /**
   * Processes that train together, each on its share of every batch (data parallel; default 1).
   * GCCS's class statistics are then estimated per share. Not part of the checkpoint's identity.
   */
  workers?: number;
  /** A penalty added to the loss: JR, IGR or CLR (loss/defences.ts; absent: none). */
  defence?: DefenceConfig;
  /** Adversarial training: each batch's loss averaged with its adversarial copy's (absent: none). */
  adversarial?: AdversarialConfig;
}

export type TrainEvent =
  | { type: 'start'; backend: string; trainCount: number; validationCount: number; testCount: number; stepsPerEpoch: number; epochs: number; startEpoch: number }
  | { type: 'warning'; message: string }
  | { type: 'step'; epoch: number; step: number; steps: number; loss: number }
  | { type: 'epoch'; record: EpochRecord };

export interface TrainResult {
  outDir: string;
  meta: ModelMeta;
  testAccuracy: number;
}

/** Training stopped by the caller (between two steps); the last checkpoint stays usable. */
export class TrainingCancelled extends Error {
  constructor() {
    super('training cancelled');
    this.name = 'TrainingCancelled';
  }
}

/**
 * Trains a model, checkpointing every epoch into `outDir/checkpoint`, and writes the final
 * model with its gccs.json into `outDir`. Progress goes out through `onEvent` only.
 */
export async function train(config: TrainConfig, backend: string, onEvent: (event: TrainEvent) => void, signal?: AbortSignal): Promise<TrainResult> {
  validateTrainConfig(config);
  // An absolute data path keeps the model's gccs.json usable from any working folder.
  if (config.dataset.path) config = { ...config, dataset: { ...config.dataset, path: path.resolve(config.dataset.path) } };
  const ranges = { trainRange: config.split.trainRange ?? undefined, testRange: config.split.testRange ?? undefined };
  const dataset = await loadDataset(config.dataset, ranges);
  const splits = makeSplits(dataset, {
    ...ranges,
    valFraction: config.split.validationFraction,
    seed: config.seed,
  });
  const numClasses = dataset.classNames.length;
  const inputShape = [...splits.train.shape];
  if (config.loss.kind === 'gccs') gccsWarnings(config.loss, numClasses, config.batchSize).forEach((message) => onEvent({ type: 'warning', message }));

  const configKey = JSON.stringify({ ...config, resume: undefined, epochs: undefined, workers: undefined });
  let model: tfl.LayersModel;
  let fineTunedFrom: string | null = null;
  let architecture = config.model;
  let records: EpochRecord[] = [];
  let elapsedSeconds = 0;
  // What a crashed run left (a save cut short after its commit point, temporary files) is settled first.
  settleFolder(config.outDir);
  settleFolder(checkpointDir(config.outDir));
  const checkpoint = config.resume ? await readCheckpoint(config.outDir, configKey) : null;
  if (checkpoint) {
    model = checkpoint.model;
    records = checkpoint.state.records;
    elapsedSeconds = checkpoint.state.elapsedSeconds;
  } else if (config.fineTuneFrom) {
    const start = await loadModelDir(config.fineTuneFrom);
    model = start.model;
    fineTunedFrom = start.modelJson;
    architecture = start.meta?.architecture ?? start.modelJson;
  } else {
    model = await createModel(config.model, inputShape, numClasses, config.seed);
  }
  const modelName = fineTunedFrom ?? (checkpoint ? `${config.outDir}/checkpoint` : String(config.model));
  assertOutputWidth(model, modelName, numClasses, dataset.source);
  assertInputShape(model, modelName, inputShape);
  if (config.defence) {
    const problem = secondOrderProblem(model);
    if (problem) throw new UserError(`--defence ${config.defence.kind} needs the gradient of an input gradient, and ${modelName} cannot give it: ${problem}`);
  }
  const unseedable = unseedableNoiseLayers(model);
  if (unseedable.length) onEvent({ type: 'warning', message: `${unseedable.join(', ')} draw unseeded noise: runs with this model will not repeat exactly (Dropout layers are seeded)` });

  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = new Optimizer(config.optimizer, variables);
  if (checkpoint) optimizer.loadState({ steps: checkpoint.state.optimizerSteps, slots: checkpoint.slots });

  const trainCount = splits.train.labels.length;
  const stepsPerEpoch = Math.ceil(trainCount / config.batchSize);
  const totalSteps = stepsPerEpoch * config.epochs;
  const startEpoch = records.length + 1;
  onEvent({
    type: 'start',
    backend,
    trainCount,
    validationCount: splits.validation?.labels.length ?? 0,
    testCount: splits.test.labels.length,
    stepsPerEpoch,
    epochs: config.epochs,
    startEpoch,
  });

  const workers = config.workers ?? 1;
  const extras = { defence: config.defence ?? null, adversarial: config.adversarial ?? null };
  const maxShift = config.augmentShift ?? TRAIN_DEFAULTS.augmentShift;
  let replicas: ReplicaGroup | null = null;
  try {
    // Data parallel: the replicas start from this process's model and optimizer state.
    if (workers > 1) replicas = await ReplicaGroup.start({ processes: workers, backend: backend as BackendName, model, variables, optimizer, optimizerConfig: config.optimizer, loss: config.loss });
    for (let epoch = startEpoch; epoch <= config.epochs; epoch++) {
      const started = performance.now();
      let lossSum = 0;
      let correct = 0;
      let step = 0;
      let learningRate = 0;
      const shift = { maxShift, random: new Random(config.seed * 104729 + epoch) };
      for (const indices of batchOrders(trainCount, config.batchSize, config.seed * 7919 + epoch)) {
        if (signal?.aborted) throw new TrainingCancelled();
        learningRate = learningRateAt(config.optimizer, optimizer.stepCount, totalSteps, stepsPerEpoch);
        // From the global step index, which a resumed run restores with the optimizer's state.
        const stepSeed = dropoutStepSeed(config.seed, optimizer.stepCount);
        const { loss, hits } = replicas
          ? await replicas.step((rank) => batchShare(splits.train, indices, rank, workers, shift), inputShape, learningRate, stepSeed)
          : trainStep(model, variables, optimizer, config.loss, splits.train, indices, shift, learningRate, stepSeed, extras);
        step++;
        if (!Number.isFinite(loss)) {
          throw new UserError(`training diverged: the loss became ${loss} at epoch ${epoch}, step ${step}; ${lastCheckpoint(records, config.outDir)}. Lower --lr or set --clip-norm`);
        }
        lossSum += loss * indices.length;
        correct += hits;
        onEvent({ type: 'step', epoch, step, steps: stepsPerEpoch, loss });
        // Let the event loop breathe (progress output, cancellation messages).
        await new Promise((resolve) => setImmediate(resolve));
      }
      await replicas?.assertInSync();
      // The epoch's model on the validation examples (or, without them, the first training ones).
      const probe = splits.validation ?? subset(splits.train, Array.from({ length: Math.min(COLLAPSE_PROBE, trainCount) }, (_, i) => i));
      const { z, dims } = computeOutputs(model, probe);
      if (outputsCollapsed(z, dims)) {
        throw new UserError(`training collapsed at epoch ${epoch}: the network's outputs no longer depend on the input (every ReLU died after too large a step); ${lastCheckpoint(records, config.outDir)}. Lower --lr or set --clip-norm`);
      }
      const validationAccuracy = splits.validation ? accuracy(argmaxRows(z, dims), probe.labels) : null;
      const seconds = (performance.now() - started) / 1000;
      elapsedSeconds += seconds;
      const record: EpochRecord = { epoch, loss: lossSum / trainCount, trainAccuracy: correct / trainCount, validationAccuracy, learningRate, seconds };
      records.push(record);
      const { steps, slots } = optimizer.saveState();
      await writeCheckpoint(config.outDir, model, { configKey, epochsDone: epoch, records, elapsedSeconds, optimizerSteps: steps }, slots);
      onEvent({ type: 'epoch', record });
    }

    const meta: ModelMeta = {
      engineVersion: ENGINE_VERSION,
      createdAt: new Date().toISOString(),
      dataset: {
        spec: config.dataset,
        kind: dataset.kind,
        source: dataset.source,
        trainRange: config.split.trainRange,
        testRange: config.split.testRange,
        validationFraction: config.split.validationFraction,
        splitSeed: config.seed,
        trainCount,
        validationCount: splits.validation?.labels.length ?? 0,
        testCount: splits.test.labels.length,
      },
      inputShape,
      numClasses,
      classNames: dataset.classNames,
      architecture,
      loss: config.loss,
      training: { optimizer: config.optimizer, batchSize: config.batchSize, epochs: config.epochs, augmentShift: maxShift, fineTunedFrom, ...(config.defence ? { defence: config.defence } : {}), ...(config.adversarial ? { adversarial: config.adversarial } : {}) },
      backend,
      seed: config.seed,
      epochs: records,
      trainingSeconds: elapsedSeconds,
    };
    await saveModelDir(config.outDir, model, meta);
    return { outDir: config.outDir, meta, testAccuracy: accuracyOf(model, splits.test) };
  } finally {
    await replicas?.close();
    optimizer.dispose();
    model.dispose();
  }
}

/** One optimisation step in this process; returns the batch loss and how many samples the batch got right. */
export function trainStep(
  model: tfl.LayersModel,
  variables: tf.Variable[],
  optimizer: Optimizer,
  loss: LossConfig,
  examples: Examples,
  indices: Int32Array,
  shift: { maxShift: number; random: Random },
  learningRate: number,
  dropoutSeed: number,
  extras: StepExtras = {},
): { loss: number; hits: number } {
  return tf.tidy(() => {
    const { x } = makeBatch(examples, indices, shift);
    const labels = Int32Array.from(indices, (i) => examples.labels[i]);
    const { grads, ...outcome } = batchGradients(model, variables, loss, x, labels, dropoutSeed, extras);
    optimizer.apply(grads, learningRate);
    return outcome;
  });
}

/** Training examples whose outputs are checked for a collapse after each epoch when there is no validation split. */
const COLLAPSE_PROBE = 256;

function lastCheckpoint(records: EpochRecord[], outDir: string): string {
  return records.length ? `the last good checkpoint (epoch ${records[records.length - 1].epoch}) is in ${outDir}/checkpoint` : 'no checkpoint was written yet';
}

function accuracyOf(model: tfl.LayersModel, examples: Parameters<typeof computeOutputs>[1]): number {
  const { z, dims } = computeOutputs(model, examples);
  return accuracy(argmaxRows(z, dims), examples.labels);
}

function validateTrainConfig(config: TrainConfig): void {
  validateOptimizerConfig(config.optimizer);
  if (!Number.isInteger(config.batchSize) || config.batchSize < 2) throw new UserError(`--batch-size must be an integer ≥ 2 (got ${config.batchSize})`);
  if (!Number.isInteger(config.epochs) || config.epochs < 1) throw new UserError(`--epochs must be an integer ≥ 1 (got ${config.epochs})`);
  const workers = config.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) throw new UserError(`--workers must be an integer ≥ 1 (got ${workers})`);
  for (const [flag, value, max] of [['batch-size', config.batchSize, CONFIG_LIMITS.batchSize], ['epochs', config.epochs, CONFIG_LIMITS.epochs], ['workers', workers, CONFIG_LIMITS.workers]] as const) {
    if (value > max) throw new UserError(`--${flag} must be at most ${max} (got ${value}; README › Limits)`);
  }
  if (config.defence) validateDefence(config.defence);
  if (config.adversarial) validateAdversarial(config.adversarial);
  if ((config.defence || config.adversarial) && workers > 1) throw new UserError(`--workers ${workers}: defences and adversarial training run in one process only (use --workers 1)`);
  if (!Number.isInteger(config.seed)) throw new UserError(`--seed must be an integer (got ${config.seed})`);
  const v = config.split.validationFraction;
  if (!(v >= 0 && v < 1)) throw new UserError(`--val-fraction must be in [0, 1) (got ${v})`);
}
