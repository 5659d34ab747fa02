import * as fs from 'node:fs';
import * as path from 'node:path';
import { DATASET_KINDS, DOWNLOADABLE_KINDS, DatasetKind, DownloadableKind, downloadDataset } from '../core/data';
import { UserError } from '../core/errors';
import { formatPath, readJsonFile } from '../core/sweep/jsonSchema';
import { writeFileAtomic } from '../core/io/atomic';
import { BACKEND_NAMES } from '../core/backend';
import { GCCS_DEFAULTS, convergedLossNote } from '../core/loss';
import { KURTOSIS_PENALTIES, LOSS_KINDS, lossLabel } from '../core/catalog';
import { evaluateModelSplit } from '../core/inspect/evaluate';
import { computeLatent } from '../core/inspect/latent';
import { loadModelSplit } from '../core/inspect/modelSplit';
import { LATENT_ATTACKS, LatentAttack, ModelSplitOptions } from '../core/inspect/types';
import { ARCHITECTURES } from '../core/models';
import { TRAIN_DEFAULTS, DEFENCE_DEFAULTS, ADVERSARIAL_DEFAULTS } from '../core/train/defaults';
import { DEFENCE_KINDS } from '../core/loss/defences';
import { ADVERSARIAL_METHODS } from '../core/train/options';
import { ConfigError, TrainConfig, TrainingDescription, trainConfigFrom } from '../core/train/config';
import { TrainEvent, train } from '../core/train/trainer';
import { checkpointDir } from '../core/train/checkpoint';
import { FlagSpecs, ParsedFlags } from './args';
import { checkOutputs, modelInputs } from './outputPaths';
import { ProgressBar } from './progress';

/** Flags every command has. */
export const COMMON_FLAGS: FlagSpecs = {
  backend: { type: 'string', choices: [...BACKEND_NAMES], description: 'compute backend', default: 'auto' },
  threads: { type: 'integer', description: 'wasm backend: threads in one process, inherited by worker processes (README › Performance)', default: 'GCCS_WASM_THREADS, or the cores, shared among worker processes' },
  json: { type: 'boolean', description: 'print one JSON object on stdout (for machines); no progress bar' },
  verbose: { type: 'boolean', description: 'print stack traces with errors' },
  help: { type: 'boolean', description: 'show this help' },
};

const DATA_FLAGS: FlagSpecs = {
  dataset: { type: 'string', choices: DATASET_KINDS, description: 'dataset kind', default: 'synthetic (eval/latent: the one in the model\'s gccs.json)' },
  data: { type: 'string', description: 'file or folder of the dataset (mnist/fmnist: the IDX folder; folder: one sub-folder per class)' },
  'train-range': { type: 'string', description: 'training examples as start:end indices into the pool (train files first, then test files)' },
  'test-range': { type: 'string', description: 'test examples as start:end indices into the pool' },
  'val-fraction': { type: 'number', description: 'fraction of the training examples held out for validation', default: String(TRAIN_DEFAULTS.validationFraction) },
  seed: { type: 'integer', description: 'seed for splits, shuffling, shifts, the synthetic data, initialisation and dropout: the same seed gives the same weights on one backend', default: String(TRAIN_DEFAULTS.seed) },
  'synthetic-train': { type: 'integer', description: 'synthetic dataset: training examples', default: '5000' },
  'synthetic-test': { type: 'integer', description: 'synthetic dataset: test examples', default: '1000' },
};

export const TRAIN_FLAGS: FlagSpecs = {
  ...DATA_FLAGS,
  model: { type: 'string', description: `architecture (${ARCHITECTURES.join(', ')}) or a workspace model.json to give a linear head`, default: TRAIN_DEFAULTS.model },
  'fine-tune': { type: 'string', description: 'start from this saved model (paper: a cross-entropy model trained further with GCCS; lr 1e-3, no decay)' },
  loss: { type: 'string', choices: LOSS_KINDS, description: 'training loss', default: 'gccs' },
  'mu-t': { type: 'number', description: 'GCCS target mean μ_T', default: String(GCCS_DEFAULTS.muT) },
  'sigma-t': { type: 'number', description: 'GCCS target standard deviation σ_T', default: String(GCCS_DEFAULTS.sigmaT) },
  lambda: { type: 'number', description: 'GCCS kurtosis weight λ', default: String(GCCS_DEFAULTS.lambda) },
  kurtosis: { type: 'string', choices: KURTOSIS_PENALTIES, description: 'GCCS kurtosis penalty form', default: GCCS_DEFAULTS.kurtosis },
  ridge: { type: 'number', description: 'GCCS covariance ridge, × σ_T²', default: String(GCCS_DEFAULTS.ridge) },
  optimizer: { type: 'string', choices: ['adam', 'sgd'], description: 'optimizer', default: TRAIN_DEFAULTS.optimizer.kind },
  lr: { type: 'number', description: 'initial learning rate', default: String(TRAIN_DEFAULTS.optimizer.learningRate) },
  momentum: { type: 'number', description: 'SGD momentum', default: String(TRAIN_DEFAULTS.optimizer.momentum) },
  beta2: { type: 'number', description: 'Adam second-moment decay', default: String(TRAIN_DEFAULTS.optimizer.beta2) },
  'weight-decay': { type: 'number', description: 'weight decay (SGD: L2 in the gradient; Adam: decoupled)', default: String(TRAIN_DEFAULTS.optimizer.weightDecay) },
  'clip-norm': { type: 'number', description: 'clip gradients to this global L2 norm', default: 'off' },
  schedule: { type: 'string', choices: ['cosine', 'constant'], description: 'learning-rate schedule', default: TRAIN_DEFAULTS.optimizer.schedule },
  'warmup-epochs': { type: 'number', description: 'ramp the learning rate up linearly over the first N epochs (0: none)', default: String(TRAIN_DEFAULTS.optimizer.warmupEpochs) },
  'batch-size': { type: 'integer', description: 'batch size', default: String(TRAIN_DEFAULTS.batchSize) },
  epochs: { type: 'integer', description: 'epochs', default: String(TRAIN_DEFAULTS.epochs) },
  out: { type: 'string', description: 'output folder for the model (model.json, weights, gccs.json, checkpoint/)', default: 'models/<dataset>-<loss>' },
  resume: { type: 'boolean', description: 'continue the run whose checkpoint is in --out' },
  'keep-checkpoint': { type: 'boolean', description: 'keep --out/checkpoint/ after a successful training, to --resume it with more epochs later (by default it is removed: the model does not need it, and it takes about twice the model\'s size)' },
  'augment-shift': { type: 'integer', description: 'shift each training image by up to this many pixels (augmentation; the paper has none)', default: String(TRAIN_DEFAULTS.augmentShift) },
  workers: { type: 'integer', description: 'processes training together, each on its share of every batch (data parallel; GCCS class statistics per share)', default: String(TRAIN_DEFAULTS.workers) },
  defence: { type: 'string', choices: DEFENCE_KINDS, description: 'add a defence penalty to the loss: jr (Jacobian), igr (input gradient), clr (cross-Lipschitz); exact second-order gradients', default: 'none' },
  'defence-weight': { type: 'number', description: 'the defence penalty\'s weight λ', default: `jr ${DEFENCE_DEFAULTS.jr.weight}, igr ${DEFENCE_DEFAULTS.igr.weight}, clr ${DEFENCE_DEFAULTS.clr.weight}` },
  'jr-projections': { type: 'integer', description: 'JR: random projections per sample', default: String(DEFENCE_DEFAULTS.jr.projections) },
  adversarial: { type: 'string', choices: ADVERSARIAL_METHODS, description: 'adversarial training: each batch\'s loss averaged with its FGSM (or PGD) copy\'s', default: 'none' },
  'adv-eps': { type: 'number', description: 'ε of adversarial training, relative: ‖x_adv − x‖∞ ≤ ε·‖x‖∞', default: String(ADVERSARIAL_DEFAULTS.eps) },
  'adv-steps': { type: 'integer', description: 'PGD adversarial training: attack steps', default: String(ADVERSARIAL_DEFAULTS.pgdSteps) },
};

export const EVAL_FLAGS: FlagSpecs = {
  ...DATA_FLAGS,
  model: { type: 'string', description: 'model folder, model.json or gccs.json (required)' },
  split: { type: 'string', choices: ['test', 'validation', 'train'], description: 'which split to evaluate', default: 'test' },
};

export const LATENT_FLAGS: FlagSpecs = {
  ...EVAL_FLAGS,
  count: { type: 'integer', description: 'number of samples', default: '1000' },
  format: { type: 'string', choices: ['json', 'csv'], description: 'output format', default: 'json' },
  output: { type: 'string', description: 'write to this file (atomically) instead of stdout' },
  attack: { type: 'string', choices: LATENT_ATTACKS, description: 'also give each sample\'s z after this attack (JSON: zAttacked), to see how far it moves' },
  eps: { type: 'number', description: 'ε of --attack (relative to each image)', default: '0.1' },
  'train-config': { type: 'string', description: 'training configuration (JSON, as a *.gccs.json resolves to) naming the data of a model without gccs.json, e.g. a checkpoint/ during training' },
};

export interface CommandContext {
  flags: ParsedFlags;
  backend: string;
  /** Human-readable lines (stderr); JSON results go to stdout. */
  log: (line: string) => void;
}

function str(flags: ParsedFlags, name: string): string | undefined {
  return flags[name] as string | undefined;
}
function num(flags: ParsedFlags, name: string): number | undefined {
  return flags[name] as number | undefined;
}

/**
 * The field of a training description (core/train/config.ts) that each training flag sets: the flags
 * become a description through this table, and a problem with a field names its flag through it.
 */
export const TRAIN_FLAG_FIELDS: Record<string, string[]> = {
  dataset: ['dataset.kind'], data: ['dataset.path'], 'synthetic-train': ['dataset.syntheticTrain'], 'synthetic-test': ['dataset.syntheticTest'],
  seed: ['seed', 'dataset.seed'],
  'train-range': ['split.trainRange'], 'test-range': ['split.testRange'], 'val-fraction': ['split.validationFraction'],
  model: ['model'], 'fine-tune': ['fineTuneFrom'],
  loss: ['loss.kind'], 'mu-t': ['loss.muT'], 'sigma-t': ['loss.sigmaT'], lambda: ['loss.lambda'], kurtosis: ['loss.kurtosis'], ridge: ['loss.ridge'],
  optimizer: ['optimizer.kind'], lr: ['optimizer.learningRate'], momentum: ['optimizer.momentum'], beta2: ['optimizer.beta2'],
  'weight-decay': ['optimizer.weightDecay'], 'clip-norm': ['optimizer.clipNorm'], schedule: ['optimizer.schedule'], 'warmup-epochs': ['optimizer.warmupEpochs'],
  'batch-size': ['batchSize'], epochs: ['epochs'], out: ['outDir'], resume: ['resume'], 'augment-shift': ['augmentShift'], workers: ['workers'],
  defence: ['defence.kind'], 'defence-weight': ['defence.weight'], 'jr-projections': ['defence.projections'],
  adversarial: ['adversarial.method'], 'adv-eps': ['adversarial.eps'], 'adv-steps': ['adversarial.steps'],
};

/** The flag that sets a description field, as --name (a field no flag sets keeps its name). */
export function trainFlagOf(field: string): string {
  const flag = Object.keys(TRAIN_FLAG_FIELDS).find((name) => TRAIN_FLAG_FIELDS[name].includes(field));
  return flag ? `--${flag}` : field;
}

/** The training the flags describe, in the experiment file's shape; --out defaults to models/<dataset>-<loss>. */
export function trainDescription(flags: ParsedFlags): TrainingDescription {
  // The synthetic set's seed is always recorded: runs trained before keep resuming.
  const description: Record<string, unknown> = { dataset: { kind: 'synthetic', seed: TRAIN_DEFAULTS.seed } };
  for (const [flag, fields] of Object.entries(TRAIN_FLAG_FIELDS)) {
    if (flags[flag] === undefined) continue;
    for (const field of fields) {
      const [section, key] = field.split('.');
      if (key === undefined) description[section] = flags[flag];
      else description[section] = { ...(description[section] as object | undefined), [key]: flags[flag] };
    }
  }
  description.outDir ??= path.join('models', `${str(flags, 'dataset') ?? 'synthetic'}-${str(flags, 'loss') ?? 'gccs'}`);
  return description as unknown as TrainingDescription;
}

export async function trainCommand({ flags, backend, log }: CommandContext) {
  const config = trainConfigFrom(trainDescription(flags));
  checkOutputs([{ flag: 'out', path: config.outDir, kind: 'folder' }]);
  const result = await train(config, backend, trainingLog(config, flags, log)).catch((error: unknown) => {
    // The engine names the configuration's fields; here they are flags.
    throw error instanceof ConfigError ? new UserError(error.named(trainFlagOf)) : error;
  });
  log(`test accuracy ${(100 * result.testAccuracy).toFixed(2)}% — model written to ${result.outDir} (${result.meta.trainingSeconds.toFixed(1)} s of training)`);
  // The final model is committed (model.json, weights, gccs.json): the checkpoint only serves a later --resume.
  const checkpoint = checkpointDir(result.outDir);
  if (flags['keep-checkpoint']) log(`kept ${checkpoint} (--keep-checkpoint): train again with --resume and more --epochs to continue`);
  else fs.rmSync(checkpoint, { recursive: true, force: true });
  return { outDir: result.outDir, testAccuracy: result.testAccuracy, meta: result.meta };
}

/** Training events as log lines, and a progress bar without --json. */
function trainingLog(config: TrainConfig, flags: ParsedFlags, log: (line: string) => void): (event: TrainEvent) => void {
  const bar = flags.json ? null : new ProgressBar();
  return (event) => {
    switch (event.type) {
      case 'start': {
        const { defence, adversarial, workers } = config;
        const what = `${config.fineTuneFrom ? `(fine-tuning ${config.fineTuneFrom})` : config.model} with ${lossLabel(config.loss, defence)}`;
        const extras = adversarial ? `, ${adversarial.method} adversarial training at ε ${adversarial.eps}` : '';
        const counts = `${event.trainCount} train / ${event.validationCount} validation / ${event.testCount} test, ${event.epochs} epochs × ${event.stepsPerEpoch} steps`;
        log(`training ${what}${extras} on ${config.dataset.kind}: ${counts}${workers! > 1 ? ` on ${workers} processes` : ''}${event.startEpoch > 1 ? `, resuming at epoch ${event.startEpoch}` : ''}`);
        if (config.loss.kind === 'gccs') log(convergedLossNote(config.loss, event.numClasses, config.batchSize, workers ?? 1));
        break;
      }
      case 'warning':
        log(`warning: ${event.message}`);
        break;
      case 'step':
        bar?.update(`epoch ${event.epoch}/${config.epochs}`, event.step, event.steps, `loss ${event.loss.toFixed(4)}`);
        break;
      case 'epoch': {
        bar?.clear();
        const r = event.record;
        const validation = r.validationAccuracy === null ? '' : ` val acc ${(100 * r.validationAccuracy).toFixed(2)}%`;
        log(`epoch ${r.epoch}/${config.epochs}: loss ${r.loss.toFixed(4)} train acc ${(100 * r.trainAccuracy).toFixed(2)}%${validation} lr ${r.learningRate.toExponential(2)} (${r.seconds.toFixed(1)} s)`);
        break;
      }
    }
  };
}

/** A --train-config file: the training configuration naming the data of a model without gccs.json (a checkpoint). */
function readTrainConfig(file: string): ModelSplitOptions['trainConfig'] {
  const read = readJsonFile(file);
  if ('problem' in read) throw new UserError(`${file}: ${read.problem.path.length ? `${formatPath(read.problem.path)}: ` : ''}${read.problem.message}`);
  return read.value as ModelSplitOptions['trainConfig'];
}

/** The model and data flags as core/inspect's options (the worker's latent and evaluate requests take the same). */
export function modelSplitOptions(flags: ParsedFlags): ModelSplitOptions {
  const model = str(flags, 'model');
  if (!model) throw new UserError('flag --model is required (a model folder, model.json or gccs.json)');
  const trainConfig = str(flags, 'train-config');
  const given: ModelSplitOptions = {
    model,
    dataset: str(flags, 'dataset') as DatasetKind | undefined,
    data: str(flags, 'data'),
    seed: num(flags, 'seed'),
    syntheticTrain: num(flags, 'synthetic-train'),
    syntheticTest: num(flags, 'synthetic-test'),
    trainRange: str(flags, 'train-range'),
    testRange: str(flags, 'test-range'),
    valFraction: num(flags, 'val-fraction'),
    split: str(flags, 'split') as ModelSplitOptions['split'],
    ...(trainConfig && { trainConfig: readTrainConfig(trainConfig), trainConfigLabel: trainConfig }),
  };
  return Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as ModelSplitOptions;
}

export const modelAndSplit = (flags: ParsedFlags) => loadModelSplit(modelSplitOptions(flags));

export async function evalCommand({ flags, log }: CommandContext) {
  const evaluation = await evaluateModelSplit(modelSplitOptions(flags));
  const { classNames } = evaluation;
  log(`${evaluation.model} on the ${evaluation.split} split of ${evaluation.dataset} (${evaluation.count} images)`);
  log(`accuracy ${(100 * evaluation.accuracy).toFixed(2)}%  macro F-score ${evaluation.macroF1.toFixed(4)}`);
  const s = evaluation.separation;
  log(s.pairs
    ? `r_AB ${s.mean.toFixed(3)} (paper's equations 4–6, mean over ${s.pairs} ordered class pairs; 95% CI ${s.ci95[0].toFixed(3)}–${s.ci95[1].toFixed(3)})`
    : 'r_AB: not defined (needs at least 2 classes with 2 or more different latent vectors)');
  const m = evaluation.meanDistanceRatio;
  if (m.pairs) log(`mean-distance ratio ${m.mean.toFixed(3)} (this project's earlier r_AB; 95% CI ${m.ci95[0].toFixed(3)}–${m.ci95[1].toFixed(3)})`);
  // Full class names, padded to the longest.
  const width = Math.max(...classNames.map((name) => name.length));
  log('confusion (rows: true class, columns: predicted):');
  evaluation.confusion.forEach((row, i) => log(`  ${classNames[i].padEnd(width)} ${row.map((v) => String(v).padStart(5)).join('')}`));
  log('latent statistics per class: count, kurtosis, distance of the mean to its vertex');
  evaluation.latent.forEach((c) => log(`  ${classNames[c.classIndex].padEnd(width)} ${String(c.count).padStart(6)} ${c.kurtosis.toFixed(3).padStart(8)} ${c.distanceToVertex.toFixed(3).padStart(10)}`));
  return evaluation;
}

export async function latentCommand({ flags, log }: CommandContext) {
  const output = str(flags, 'output');
  const trainConfig = str(flags, 'train-config');
  const location = str(flags, 'model');
  if (output && location) checkOutputs([{ flag: 'output', path: output, kind: 'file' }], [...modelInputs(location), ...(trainConfig ? [{ flag: 'train-config', path: trainConfig }] : [])]);
  const count = num(flags, 'count') ?? 1000;
  if (count < 1) throw new UserError('flag --count must be ≥ 1');
  const attack = str(flags, 'attack') as LatentAttack | undefined;
  const latent = await computeLatent({ ...modelSplitOptions(flags), count, ...(attack && { attack: { name: attack, eps: num(flags, 'eps') ?? 0.1 } }) });
  const { dims, samples } = latent;
  const format = str(flags, 'format') ?? 'json';
  const header = ['label', ...Array.from({ length: dims }, (_, i) => `z${i}`), ...(attack ? Array.from({ length: dims }, (_, i) => `z${i}_attacked`) : [])];
  const text =
    format === 'csv'
      ? [header.join(','), ...samples.map((r) => [r.label, ...r.z, ...(r.zAttacked ?? [])].join(','))].join('\n') + '\n'
      : JSON.stringify(latent) + '\n';
  if (output) {
    writeFileAtomic(output, text);
    log(`wrote z of ${samples.length} samples (${dims} dimensions) to ${output}`);
    return { output, count: samples.length, dims };
  }
  if (!flags.json) process.stdout.write(text);
  return format === 'json' ? latent : { csv: text };
}

export const DOWNLOAD_FLAGS: FlagSpecs = {
  dataset: { type: 'string', choices: DOWNLOADABLE_KINDS, description: 'dataset to download (required)' },
  folder: { type: 'string', description: 'where to put the files', default: '~/.cache/gccs-lab/<dataset>' },
};

export async function downloadCommand({ flags, log }: CommandContext) {
  const kind = str(flags, 'dataset') as DownloadableKind | undefined;
  if (!kind) throw new UserError(`flag --dataset is required (${DOWNLOADABLE_KINDS.join(', ')})`);
  const target = str(flags, 'folder');
  if (target) checkOutputs([{ flag: 'folder', path: target, kind: 'folder' }]);
  const folder = await downloadDataset(kind, { folder: target, log });
  log(`${kind} is ready in ${folder}`);
  return { dataset: kind, folder };
}
