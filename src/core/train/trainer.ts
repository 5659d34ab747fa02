import * as path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import { Examples, LoadedDataset, Splits, batchOrders, loadDataset, makeBatch, makeSplits, subset } from '../data';
import { EpochRecord, ModelMeta, loadModelDir, readModelMeta, resolveModelJson, saveModelDir } from '../io/modelDir';
import { LossConfig, gccsWarnings } from '../loss';
import { accuracy, argmaxRows, computeOutputs, outputsCollapsed } from '../metrics';
import { createModel } from '../models';
import { assertInputShape, assertOutputWidth } from '../models/compatibility';
import { Random } from '../random';
import { ENGINE_VERSION } from '../version';
import { checkpointDir, readCheckpoint, writeCheckpoint } from './checkpoint';
import { settleFolder } from '../io/atomic';
import type { BackendName } from '../backend';
import { ReplicaGroup, batchShare } from './dataParallel';
import { Optimizer, learningRateAt } from './optimizer';
import { TRAIN_DEFAULTS } from './defaults';
import { ConfigError, TrainConfig, validateTrainConfig } from './config';
import { StepExtras, batchGradients } from './step';
import type { TrainEvent } from './events';
import { secondOrderProblem } from '../loss/secondOrder';
import { dropoutStepSeed, unseedableNoiseLayers } from '../models/dropout';

export type { TrainConfig } from './config';
export type { TrainEvent } from './events';

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

type OnEvent = (event: TrainEvent) => void;
/** Each epoch's shift augmentation: up to maxShift pixels, drawn by `random`. */
type Shift = { maxShift: number; random: Random };

/** The examples of a run and the shape of what it trains. */
interface TrainingData {
  dataset: LoadedDataset;
  splits: Splits;
  numClasses: number;
  inputShape: number[];
}

/** Where a run starts: its checkpoint, a saved model to fine-tune, or a fresh model. */
interface StartingPoint {
  model: tfl.LayersModel;
  /** How errors name the model. */
  modelName: string;
  fineTunedFrom: string | null;
  architecture: string;
  records: EpochRecord[];
  elapsedSeconds: number;
  optimizerState: { steps: number; slots: Float32Array[] } | null;
}

/** What the epochs of a run share; records and elapsedSeconds grow with each epoch. */
interface Run {
  config: TrainConfig;
  configKey: string;
  backend: string;
  onEvent: OnEvent;
  signal?: AbortSignal;
  data: TrainingData;
  model: tfl.LayersModel;
  variables: tf.Variable[];
  optimizer: Optimizer;
  replicas: ReplicaGroup | null;
  records: EpochRecord[];
  elapsedSeconds: number;
  trainCount: number;
  stepsPerEpoch: number;
  totalSteps: number;
  workers: number;
  maxShift: number;
  extras: StepExtras;
}

/**
 * Trains a model, checkpointing every epoch into `outDir/checkpoint`, and writes the final
 * model with its gccs.json into `outDir`. The configuration is checked first (validateTrainConfig:
 * a ConfigError names the field). Progress goes out through `onEvent` only.
 */
export async function train(config: TrainConfig, backend: string, onEvent: OnEvent, signal?: AbortSignal): Promise<TrainResult> {
  validateTrainConfig(config);
  // An absolute data path keeps the model's gccs.json usable from any working folder.
  if (config.dataset.path) config = { ...config, dataset: { ...config.dataset, path: path.resolve(config.dataset.path) } };
  const data = await loadTrainingData(config, onEvent);
  const configKey = JSON.stringify({ ...config, resume: undefined, epochs: undefined, workers: undefined });
  // What a crashed run left (a save cut short after its commit point, temporary files) is settled first.
  settleFolder(config.outDir);
  settleFolder(checkpointDir(config.outDir));
  const start = await startingPoint(config, configKey, data, onEvent);
  const run = openRun({ config, configKey, backend, onEvent, signal, data }, start);
  try {
    if (run.workers > 1) run.replicas = await startReplicas(run);
    for (let epoch = run.records.length + 1; epoch <= config.epochs; epoch++) await trainEpoch(run, epoch);
    const meta = modelMeta(run, start);
    await saveModelDir(config.outDir, run.model, meta);
    return { outDir: config.outDir, meta, testAccuracy: accuracyOf(run.model, data.splits.test) };
  } finally {
    await run.replicas?.close();
    run.optimizer.dispose();
    run.model.dispose();
  }
}

/** Data parallel: the replicas start from this process's model and optimizer state. */
function startReplicas(run: Run): Promise<ReplicaGroup> {
  const { config, model, variables, optimizer } = run;
  const options = { processes: run.workers, backend: run.backend as BackendName, model, variables, optimizer };
  return ReplicaGroup.start({ ...options, optimizerConfig: config.optimizer, loss: config.loss });
}

/** The dataset and its splits; warns about GCCS settings that suit them poorly. */
async function loadTrainingData(config: TrainConfig, onEvent: OnEvent): Promise<TrainingData> {
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
  return { dataset, splits, numClasses, inputShape };
}

/** The checkpoint (--resume), the model to fine-tune or a fresh one, checked against the data. */
async function startingPoint(config: TrainConfig, configKey: string, data: TrainingData, onEvent: OnEvent): Promise<StartingPoint> {
  const fresh = { fineTunedFrom: null, architecture: config.model, records: [], elapsedSeconds: 0, optimizerState: null };
  let start: StartingPoint;
  const checkpoint = config.resume ? await readCheckpoint(config.outDir, configKey) : null;
  if (checkpoint) {
    const { records, elapsedSeconds, optimizerSteps } = checkpoint.state;
    const optimizerState = { steps: optimizerSteps, slots: checkpoint.slots };
    // A resumed fine-tuning still records the model it started from (its checkpoint holds only weights).
    const origin = config.fineTuneFrom ? fineTuneOrigin(config.fineTuneFrom) : {};
    start = { ...fresh, ...origin, model: checkpoint.model, modelName: `${config.outDir}/checkpoint`, records, elapsedSeconds, optimizerState };
  } else if (config.fineTuneFrom) {
    const { model, modelJson, meta } = await loadModelDir(config.fineTuneFrom);
    start = { ...fresh, model, modelName: modelJson, ...originOf(modelJson, meta) };
  } else {
    start = { ...fresh, model: await createModel(config.model, data.inputShape, data.numClasses, config.seed), modelName: String(config.model) };
  }
  const { model, modelName } = start;
  assertOutputWidth(model, modelName, data.numClasses, data.dataset.source);
  assertInputShape(model, modelName, data.inputShape);
  const defence = config.defence?.kind;
  const problem = defence && secondOrderProblem(model);
  if (problem) throw new ConfigError('defence.kind', (name) => `${name('defence.kind')} ${defence} needs the gradient of an input gradient, and ${modelName} cannot give it: ${problem}`);
  const unseedable = unseedableNoiseLayers(model);
  if (unseedable.length) onEvent({ type: 'warning', message: `${unseedable.join(', ')} draw unseeded noise: runs with this model will not repeat exactly (Dropout layers are seeded)` });
  return start;
}

/** What gccs.json records of the model a fine-tuning started from. */
function originOf(modelJson: string, meta: ModelMeta | null): Pick<StartingPoint, 'fineTunedFrom' | 'architecture'> {
  return { fineTunedFrom: modelJson, architecture: meta?.architecture ?? modelJson };
}

/** originOf the model at `location` without loading its weights (an ONNX file has no gccs.json). */
function fineTuneOrigin(location: string): Pick<StartingPoint, 'fineTunedFrom' | 'architecture'> {
  if (location.toLowerCase().endsWith('.onnx')) return originOf(location, null);
  const modelJson = resolveModelJson(location);
  return originOf(modelJson, readModelMeta(modelJson));
}

/** The run's shared state, its optimizer restored from the checkpoint; announces the start. */
function openRun(context: Pick<Run, 'config' | 'configKey' | 'backend' | 'onEvent' | 'signal' | 'data'>, start: StartingPoint): Run {
  const { config, backend, onEvent, data } = context;
  const { model, records, elapsedSeconds } = start;
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = new Optimizer(config.optimizer, variables);
  if (start.optimizerState) optimizer.loadState(start.optimizerState);
  const { splits } = data;
  const trainCount = splits.train.labels.length;
  const stepsPerEpoch = Math.ceil(trainCount / config.batchSize);
  onEvent({
    type: 'start',
    backend,
    trainCount,
    validationCount: splits.validation?.labels.length ?? 0,
    testCount: splits.test.labels.length,
    numClasses: data.numClasses,
    stepsPerEpoch,
    epochs: config.epochs,
    startEpoch: records.length + 1,
  });
  return {
    ...{ ...context, model, variables, optimizer, replicas: null, records, elapsedSeconds },
    ...{ trainCount, stepsPerEpoch, totalSteps: stepsPerEpoch * config.epochs, workers: config.workers ?? 1 },
    maxShift: config.augmentShift ?? TRAIN_DEFAULTS.augmentShift,
    extras: { defence: config.defence ?? null, adversarial: config.adversarial ?? null },
  };
}

/** One epoch: its steps, the collapse check, the record and the checkpoint. */
async function trainEpoch(run: Run, epoch: number): Promise<void> {
  const { config, optimizer } = run;
  const started = performance.now();
  let lossSum = 0;
  let correct = 0;
  let step = 0;
  let learningRate = 0;
  const shift = { maxShift: run.maxShift, random: new Random(config.seed * 104729 + epoch) };
  for (const indices of batchOrders(run.trainCount, config.batchSize, config.seed * 7919 + epoch)) {
    if (run.signal?.aborted) throw new TrainingCancelled();
    learningRate = learningRateAt(config.optimizer, optimizer.stepCount, run.totalSteps, run.stepsPerEpoch);
    const { loss, hits } = await runStep(run, indices, shift, learningRate);
    step++;
    if (!Number.isFinite(loss)) throw trainingFailed(run, `training diverged: the loss became ${loss} at epoch ${epoch}, step ${step}`);
    lossSum += loss * indices.length;
    correct += hits;
    run.onEvent({ type: 'step', epoch, step, steps: run.stepsPerEpoch, loss });
    // Let the event loop breathe (progress output, cancellation messages).
    await new Promise((resolve) => setImmediate(resolve));
  }
  await run.replicas?.assertInSync();
  const validationAccuracy = checkedValidationAccuracy(run, epoch);
  const seconds = (performance.now() - started) / 1000;
  run.elapsedSeconds += seconds;
  const record: EpochRecord = { epoch, loss: lossSum / run.trainCount, trainAccuracy: correct / run.trainCount, validationAccuracy, learningRate, seconds };
  run.records.push(record);
  const { steps, slots } = optimizer.saveState();
  const state = { configKey: run.configKey, epochsDone: epoch, records: run.records, elapsedSeconds: run.elapsedSeconds, optimizerSteps: steps };
  await writeCheckpoint(config.outDir, run.model, state, slots);
  run.onEvent({ type: 'epoch', record });
}

/** One step on the replicas or in this process. */
async function runStep(run: Run, indices: Int32Array, shift: Shift, learningRate: number): Promise<{ loss: number; hits: number }> {
  const { config, data } = run;
  // From the global step index, which a resumed run restores with the optimizer's state.
  const stepSeed = dropoutStepSeed(config.seed, run.optimizer.stepCount);
  const share = (rank: number) => batchShare(data.splits.train, indices, rank, run.workers, shift);
  if (run.replicas) return run.replicas.step(share, data.inputShape, learningRate, stepSeed);
  return trainStep(run.model, run.variables, run.optimizer, config.loss, data.splits.train, indices, shift, learningRate, stepSeed, run.extras);
}

/**
 * The epoch's model on the validation examples (or, without them, the first training ones): its
 * validation accuracy (null without validation examples), once it is sure the training has not collapsed.
 */
function checkedValidationAccuracy(run: Run, epoch: number): number | null {
  const { splits } = run.data;
  const probe = splits.validation ?? subset(splits.train, Array.from({ length: Math.min(COLLAPSE_PROBE, run.trainCount) }, (_, i) => i));
  const { z, dims } = computeOutputs(run.model, probe);
  if (outputsCollapsed(z, dims)) {
    throw trainingFailed(run, `training collapsed at epoch ${epoch}: the network's outputs no longer depend on the input (every ReLU died after too large a step)`);
  }
  return splits.validation ? accuracy(argmaxRows(z, dims), probe.labels) : null;
}

/** The gccs.json of the finished run. */
function modelMeta(run: Run, start: StartingPoint): ModelMeta {
  const { config, data } = run;
  const { splits } = data;
  return {
    engineVersion: ENGINE_VERSION,
    createdAt: new Date().toISOString(),
    dataset: {
      spec: config.dataset,
      kind: data.dataset.kind,
      source: data.dataset.source,
      trainRange: config.split.trainRange,
      testRange: config.split.testRange,
      validationFraction: config.split.validationFraction,
      splitSeed: config.seed,
      trainCount: run.trainCount,
      validationCount: splits.validation?.labels.length ?? 0,
      testCount: splits.test.labels.length,
    },
    inputShape: data.inputShape,
    numClasses: data.numClasses,
    classNames: data.dataset.classNames,
    architecture: start.architecture,
    loss: config.loss,
    training: {
      ...{ optimizer: config.optimizer, batchSize: config.batchSize, epochs: config.epochs, augmentShift: run.maxShift, fineTunedFrom: start.fineTunedFrom },
      ...(config.defence ? { defence: config.defence } : {}),
      ...(config.adversarial ? { adversarial: config.adversarial } : {}),
    },
    backend: run.backend,
    seed: config.seed,
    epochs: run.records,
    trainingSeconds: run.elapsedSeconds,
  };
}

/** One optimisation step in this process; returns the batch loss and how many samples the batch got right. */
export function trainStep(
  model: tfl.LayersModel,
  variables: tf.Variable[],
  optimizer: Optimizer,
  loss: LossConfig,
  examples: Examples,
  indices: Int32Array,
  shift: Shift,
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

/** A diverged or collapsed training: where its last checkpoint is, and what to change. */
function trainingFailed(run: Run, what: string): ConfigError {
  const { records, config } = run;
  const last = records.length ? `the last good checkpoint (epoch ${records[records.length - 1].epoch}) is in ${config.outDir}/checkpoint` : 'no checkpoint was written yet';
  return new ConfigError('optimizer.learningRate', (name) => `${what}; ${last}. Lower ${name('optimizer.learningRate')} or set ${name('optimizer.clipNorm')}`);
}

function accuracyOf(model: tfl.LayersModel, examples: Parameters<typeof computeOutputs>[1]): number {
  const { z, dims } = computeOutputs(model, examples);
  return accuracy(argmaxRows(z, dims), examples.labels);
}
