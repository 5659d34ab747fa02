/**
 * The "New experiment…" wizard of GCCS: Train, its pure part: the choices it offers and the
 * experiment file its answers become. No vscode here (src/host/commands/newExperiment.ts asks the questions);
 * tested directly, including that every result validates against schema/experiment.schema.json.
 */
import * as path from 'node:path';
import { FINE_TUNE_DEFAULTS, TRAIN_DEFAULTS } from '../../core/train/defaults';

export type WizardDataset = 'synthetic' | 'mnist' | 'fmnist' | 'cifar10' | 'cifar100' | 'svhn' | 'folder';
export type WizardLoss = 'gccs' | 'crossentropy' | 'finetune';

interface DatasetChoice {
  kind: WizardDataset;
  label: string;
  description: string;
  /** Architectures that fit its images (resnet18 is the 32×32 CIFAR variant; an MLP on colour images is a poor baseline). */
  models: string[];
  /** Whether the wizard must ask for a data folder (mnist…cifar100 can use the download cache). */
  folder: 'required' | 'optional' | 'none';
}

export const WIZARD_DATASETS: readonly DatasetChoice[] = [
  { kind: 'synthetic', label: 'Synthetic shapes', description: 'built in, 10 classes, 28×28 grayscale', models: ['cnn', 'mlp'], folder: 'none' },
  { kind: 'mnist', label: 'MNIST', description: 'IDX folder, 28×28 grayscale digits', models: ['cnn', 'mlp'], folder: 'optional' },
  { kind: 'fmnist', label: 'Fashion-MNIST', description: 'IDX folder, 28×28 grayscale', models: ['cnn', 'mlp'], folder: 'optional' },
  { kind: 'cifar10', label: 'CIFAR-10', description: 'binary version, 32×32 colour', models: ['cnn', 'resnet18'], folder: 'optional' },
  { kind: 'cifar100', label: 'CIFAR-100', description: 'binary version, 32×32 colour, 100 classes', models: ['cnn', 'resnet18'], folder: 'optional' },
  { kind: 'svhn', label: 'SVHN', description: 'train_32x32.mat / test_32x32.mat, 32×32 colour', models: ['cnn', 'resnet18'], folder: 'required' },
  { kind: 'folder', label: 'Image folder', description: 'one sub-folder of PNG/JPEG images per class', models: ['cnn', 'mlp', 'resnet18'], folder: 'required' },
];

export const WIZARD_MODELS: Record<string, string> = {
  cnn: "the paper's reference CNN",
  mlp: '256–128 ReLU multilayer perceptron',
  resnet18: 'ResNet-18, CIFAR variant (32×32 inputs)',
};

export const WIZARD_LOSSES: readonly { kind: WizardLoss; label: string; description: string }[] = [
  { kind: 'gccs', label: 'GCCS', description: 'Gaussian Class-Conditional Simplex loss' },
  { kind: 'crossentropy', label: 'Cross-entropy', description: 'the usual softmax baseline' },
  {
    kind: 'finetune',
    label: 'Fine-tune a model with GCCS',
    description: `start from a trained model, lr ${FINE_TUNE_DEFAULTS.optimizer.learningRate} constant (the paper's)`,
  },
];

export interface WizardAnswers {
  dataset: WizardDataset;
  /** Absolute data folder; undefined for synthetic, or to use the download cache. */
  dataPath?: string;
  model: string;
  loss: WizardLoss;
  /** Absolute model folder to fine-tune (loss "finetune" only). */
  fineTuneFrom?: string;
  epochs: number;
  /** Names the output folder models/<name> and the file <name>.gccs.json. */
  name: string;
}

export function datasetChoice(kind: WizardDataset): DatasetChoice {
  const choice = WIZARD_DATASETS.find((d) => d.kind === kind);
  if (!choice) throw new Error(`unknown dataset "${kind}"`);
  return choice;
}

/** The default number of epochs offered for a loss. */
export function defaultEpochs(loss: WizardLoss): number {
  return loss === 'finetune' ? FINE_TUNE_DEFAULTS.epochs : TRAIN_DEFAULTS.epochs;
}

/** A name suggested from the answers so far, e.g. "mnist-cnn-gccs". */
export function suggestedName(dataset: WizardDataset, model: string, loss: WizardLoss): string {
  return loss === 'finetune' ? `${dataset}-finetuned` : `${dataset}-${model}-${loss === 'crossentropy' ? 'ce' : 'gccs'}`;
}

/** Why an output name is unusable (it becomes a folder and a file name), or undefined. */
export function nameProblem(text: string): string | undefined {
  const name = text.trim();
  if (!name) return 'a name is needed';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) return 'letters, digits, ".", "_" and "-" only, starting with a letter or digit';
  if (name.length > 100) return 'at most 100 characters';
  return undefined;
}

export function epochsProblem(text: string): string | undefined {
  return /^\s*[1-9]\d{0,4}\s*$/.test(text) ? undefined : 'a whole number from 1 to 99999';
}

export const experimentFileName = (name: string) => `${name.trim()}.gccs.json`;

/** Forward slashes, relative to the experiment's folder: the file stays valid when the workspace moves. */
function relative(fromDir: string, to: string): string {
  const rel = path.relative(fromDir, to).split(path.sep).join('/');
  return rel === '' ? '.' : rel;
}

/**
 * The experiment object for the answers, to be written into `experimentDir`; its paths are
 * relative to that folder and its model goes to models/<name>. No $schema: the extension's
 * jsonValidation applies schema/experiment.schema.json to every *.gccs.json.
 */
export function experimentFromAnswers(answers: WizardAnswers, experimentDir: string): Record<string, unknown> {
  const choice = datasetChoice(answers.dataset);
  if (choice.folder === 'required' && !answers.dataPath) throw new Error(`dataset ${answers.dataset} needs a data folder`);
  if (answers.loss === 'finetune' && !answers.fineTuneFrom) throw new Error('fine-tuning needs the model to start from');
  if (answers.loss !== 'finetune' && !choice.models.includes(answers.model)) throw new Error(`model ${answers.model} does not suit dataset ${answers.dataset}`);
  const dataset: Record<string, unknown> = { kind: answers.dataset };
  if (answers.dataPath && choice.folder !== 'none') dataset.path = relative(experimentDir, answers.dataPath);
  const name = answers.name.trim();
  const tail = { epochs: answers.epochs, outDir: `models/${name}` };
  if (answers.loss === 'finetune') {
    const { learningRate, schedule, warmupEpochs } = FINE_TUNE_DEFAULTS.optimizer;
    return {
      dataset,
      fineTuneFrom: relative(experimentDir, answers.fineTuneFrom!),
      loss: { kind: 'gccs' },
      optimizer: { learningRate, schedule, warmupEpochs },
      ...tail,
    };
  }
  return { dataset, model: answers.model, loss: { kind: answers.loss }, ...tail };
}
