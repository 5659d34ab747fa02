import * as fs from 'node:fs';
import * as path from 'node:path';
import { DATASET_KINDS, DOWNLOADABLE_KINDS, DatasetKind, DatasetSpec, DownloadableKind, downloadDataset } from '../core/data';
import { UserError } from '../core/errors';
import { formatPath, readJsonFile } from '../core/sweep/jsonSchema';
import { writeFileAtomic } from '../core/io/atomic';
import type { ModelMeta } from '../core/io/modelDir';
import { GCCS_DEFAULTS, lossConfig } from '../core/loss';
import { KURTOSIS_PENALTIES, LOSS_KINDS } from '../core/catalog';
import { evaluateModelSplit } from '../core/inspect/evaluate';
import { computeLatent } from '../core/inspect/latent';
import { loadModelSplit } from '../core/inspect/modelSplit';
import { LATENT_ATTACKS, LatentAttack, ModelSplitOptions } from '../core/inspect/types';
import { ARCHITECTURES } from '../core/models';
import { TRAIN_DEFAULTS, FINE_TUNE_DEFAULTS, DEFENCE_DEFAULTS, ADVERSARIAL_DEFAULTS, adversarialWithDefaults, defenceWithDefaults } from '../core/train/defaults';
import { DEFENCE_KINDS, DefenceKind } from '../core/loss/defences';
import { ADVERSARIAL_METHODS, AdversarialMethod } from '../core/train/adversarial';
import { TrainConfig, train } from '../core/train/trainer';
import { checkpointDir } from '../core/train/checkpoint';
import { FlagSpecs, ParsedFlags } from './args';
import { checkOutputs, modelInputs } from './outputPaths';
import { ProgressBar } from './progress';

/** Flags every command has. */
export const COMMON_FLAGS: FlagSpecs = {
  backend: { type: 'string', choices: ['auto', 'tensorflow', 'wasm', 'cpu'], description: 'compute backend', default: 'auto' },
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
  workers: { type: 'integer', description: 'processes training together, each on its share of every batch (data parallel; GCCS class statistics per share)', default: '1' },
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

/** The dataset named by the flags; eval and latent default to the one the model was trained on. */
function datasetSpec(flags: ParsedFlags, meta: ModelMeta | null): DatasetSpec {
  const base: Partial<DatasetSpec> = meta && !flags.dataset ? meta.dataset.spec : {};
  const given = {
    kind: str(flags, 'dataset'),
    path: str(flags, 'data'),
    seed: num(flags, 'seed'),
    syntheticTrain: num(flags, 'synthetic-train'),
    syntheticTest: num(flags, 'synthetic-test'),
  };
  const spec = { kind: 'synthetic', seed: TRAIN_DEFAULTS.seed, ...base, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
  return spec as DatasetSpec;
}

/** --defence and --adversarial as TrainConfig fields (absent when not asked for, so older checkpoints still resume). */
function trainingDefences(flags: ParsedFlags): Pick<TrainConfig, 'defence' | 'adversarial'> {
  const kind = str(flags, 'defence') as DefenceKind | undefined;
  const method = str(flags, 'adversarial') as AdversarialMethod | undefined;
  if (!kind && (flags['defence-weight'] !== undefined || flags['jr-projections'] !== undefined)) throw new UserError('--defence-weight and --jr-projections need --defence');
  if (!method && (flags['adv-eps'] !== undefined || flags['adv-steps'] !== undefined)) throw new UserError('--adv-eps and --adv-steps need --adversarial');
  return {
    ...(kind ? { defence: defenceWithDefaults(kind, num(flags, 'defence-weight'), num(flags, 'jr-projections')) } : {}),
    ...(method ? { adversarial: adversarialWithDefaults(method, num(flags, 'adv-eps'), num(flags, 'adv-steps')) } : {}),
  };
}

export async function trainCommand({ flags, backend, log }: CommandContext) {
  const fineTune = str(flags, 'fine-tune');
  const defaults = fineTune ? FINE_TUNE_DEFAULTS : TRAIN_DEFAULTS;
  const lossKind = (str(flags, 'loss') ?? 'gccs') as 'gccs' | 'crossentropy';
  const dataset = datasetSpec(flags, null);
  const config: TrainConfig = {
    dataset,
    split: {
      trainRange: str(flags, 'train-range') ?? null,
      testRange: str(flags, 'test-range') ?? null,
      validationFraction: num(flags, 'val-fraction') ?? defaults.validationFraction,
    },
    model: str(flags, 'model') ?? defaults.model,
    fineTuneFrom: fineTune ?? null,
    loss: lossConfig(lossKind, {
      muT: num(flags, 'mu-t'),
      sigmaT: num(flags, 'sigma-t'),
      lambda: num(flags, 'lambda'),
      kurtosis: str(flags, 'kurtosis') as 'linear' | undefined,
      ridge: num(flags, 'ridge'),
    }),
    optimizer: {
      kind: (str(flags, 'optimizer') ?? defaults.optimizer.kind) as 'adam' | 'sgd',
      learningRate: num(flags, 'lr') ?? defaults.optimizer.learningRate,
      momentum: num(flags, 'momentum') ?? defaults.optimizer.momentum,
      beta2: num(flags, 'beta2') ?? defaults.optimizer.beta2,
      weightDecay: num(flags, 'weight-decay') ?? defaults.optimizer.weightDecay,
      clipNorm: num(flags, 'clip-norm') ?? defaults.optimizer.clipNorm,
      schedule: (str(flags, 'schedule') ?? defaults.optimizer.schedule) as 'cosine' | 'constant',
      warmupEpochs: num(flags, 'warmup-epochs') ?? defaults.optimizer.warmupEpochs,
    },
    batchSize: num(flags, 'batch-size') ?? defaults.batchSize,
    epochs: num(flags, 'epochs') ?? defaults.epochs,
    seed: num(flags, 'seed') ?? defaults.seed,
    outDir: str(flags, 'out') ?? path.join('models', `${dataset.kind}-${lossKind}`),
    resume: Boolean(flags.resume),
    augmentShift: num(flags, 'augment-shift') ?? defaults.augmentShift,
    workers: num(flags, 'workers') ?? 1,
    ...trainingDefences(flags),
  };
  checkOutputs([{ flag: 'out', path: config.outDir, kind: 'folder' }]);
  const bar = flags.json ? null : new ProgressBar();
  const result = await train(config, backend, (event) => {
    switch (event.type) {
      case 'start':
        log(`training ${config.fineTuneFrom ? `(fine-tuning ${config.fineTuneFrom})` : config.model} with ${lossKind}${config.defence ? ` + ${config.defence.kind} (λ ${config.defence.weight})` : ''}${config.adversarial ? `, ${config.adversarial.method} adversarial training at ε ${config.adversarial.eps}` : ''} on ${dataset.kind}: ${event.trainCount} train / ${event.validationCount} validation / ${event.testCount} test, ${event.epochs} epochs × ${event.stepsPerEpoch} steps${config.workers! > 1 ? ` on ${config.workers} processes` : ''}${event.startEpoch > 1 ? `, resuming at epoch ${event.startEpoch}` : ''}`);
        break;
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
  });
  log(`test accuracy ${(100 * result.testAccuracy).toFixed(2)}% — model written to ${result.outDir} (${result.meta.trainingSeconds.toFixed(1)} s of training)`);
  // The final model is committed (model.json, weights, gccs.json): the checkpoint only serves a later --resume.
  const checkpoint = checkpointDir(result.outDir);
  if (flags['keep-checkpoint']) log(`kept ${checkpoint} (--keep-checkpoint): train again with --resume and more --epochs to continue`);
  else fs.rmSync(checkpoint, { recursive: true, force: true });
  return { outDir: result.outDir, testAccuracy: result.testAccuracy, meta: result.meta };
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
