import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DATASET_KINDS } from '../../src/core/data';
import { validateJson } from '../../src/core/sweep/jsonSchema';
import { FINE_TUNE_DEFAULTS } from '../../src/core/train/defaults';
import { BUILT_IN_MODELS, EXPERIMENT_SCHEMA, loadExperiment } from '../../src/host/workspace/experiment';
import {
  WIZARD_DATASETS,
  WIZARD_LOSSES,
  WizardAnswers,
  epochsProblem,
  experimentFileName,
  experimentFromAnswers,
  nameProblem,
  suggestedName,
} from '../../src/host/workspace/wizard';

test('the wizard offers every dataset kind, and only built-in models that fit it', () => {
  assert.deepEqual(
    WIZARD_DATASETS.map((d) => d.kind),
    [...DATASET_KINDS],
  );
  for (const choice of WIZARD_DATASETS) {
    assert.ok(choice.models.length > 0);
    for (const model of choice.models) assert.ok(BUILT_IN_MODELS.includes(model), `${model} is built in`);
  }
  // resnet18 is the 32×32 CIFAR variant: not offered for 28×28 grayscale data, mlp not for colour images
  for (const kind of ['synthetic', 'mnist', 'fmnist']) assert.ok(!WIZARD_DATASETS.find((d) => d.kind === kind)!.models.includes('resnet18'), kind);
  for (const kind of ['cifar10', 'cifar100', 'svhn']) assert.ok(!WIZARD_DATASETS.find((d) => d.kind === kind)!.models.includes('mlp'), kind);
});

test('every combination of answers gives an experiment that validates against the schema and loads', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-wizard-'));
  const data = path.join(root, 'data', 'set');
  const base = path.join(root, 'models', 'base');
  let count = 0;
  try {
    for (const choice of WIZARD_DATASETS) {
      for (const { kind: loss } of WIZARD_LOSSES) {
        for (const model of loss === 'finetune' ? [''] : choice.models) {
          const answers: WizardAnswers = {
            dataset: choice.kind,
            dataPath: choice.folder === 'none' ? undefined : data,
            model,
            loss,
            fineTuneFrom: loss === 'finetune' ? base : undefined,
            epochs: 3,
            name: suggestedName(choice.kind, model, loss),
          };
          const experiment = experimentFromAnswers(answers, root);
          const where = `${choice.kind}/${model}/${loss}`;
          assert.equal(validateJson(experiment, EXPERIMENT_SCHEMA), undefined, `${where} validates`);
          const file = path.join(root, experimentFileName(answers.name));
          fs.writeFileSync(file, JSON.stringify(experiment));
          const config = loadExperiment(file);
          assert.equal(config.epochs, 3, where);
          assert.equal(config.outDir, path.join(root, 'models', answers.name), where);
          assert.equal(config.dataset.kind, choice.kind, where);
          assert.equal(config.dataset.path, answers.dataPath, `${where}: the relative data path resolves back`);
          if (loss === 'finetune') {
            assert.equal(config.fineTuneFrom, base, where);
            assert.equal(config.loss.kind, 'gccs', where);
            assert.equal(config.optimizer.learningRate, FINE_TUNE_DEFAULTS.optimizer.learningRate, where);
            assert.equal(config.optimizer.schedule, 'constant', where);
            assert.equal(config.optimizer.warmupEpochs, 0, where);
          } else {
            assert.equal(config.model, model, where);
            assert.equal(config.loss.kind, loss, where);
            assert.equal(config.fineTuneFrom, null, where);
          }
          count++;
        }
      }
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  assert.ok(count >= 20, `${count} combinations checked`);
});

test('paths in the written experiment are relative, with forward slashes', () => {
  const root = path.join(os.tmpdir(), 'ws');
  const experiment = experimentFromAnswers(
    { dataset: 'mnist', dataPath: path.join(root, 'data', 'mnist'), model: 'cnn', loss: 'gccs', epochs: 20, name: 'mnist-cnn-gccs' },
    root,
  );
  assert.deepEqual(experiment, {
    dataset: { kind: 'mnist', path: 'data/mnist' },
    model: 'cnn',
    loss: { kind: 'gccs' },
    epochs: 20,
    outDir: 'models/mnist-cnn-gccs',
  });
  const cached = experimentFromAnswers({ dataset: 'cifar10', model: 'resnet18', loss: 'crossentropy', epochs: 1, name: 'c' }, root);
  assert.deepEqual(cached.dataset, { kind: 'cifar10' }, 'no path: the download cache');
});

test('inconsistent answers are refused', () => {
  assert.throws(() => experimentFromAnswers({ dataset: 'svhn', model: 'cnn', loss: 'gccs', epochs: 1, name: 'x' }, '/w'), /svhn needs a data folder/);
  assert.throws(() => experimentFromAnswers({ dataset: 'mnist', model: 'resnet18', loss: 'gccs', epochs: 1, name: 'x' }, '/w'), /does not suit/);
  assert.throws(() => experimentFromAnswers({ dataset: 'mnist', model: '', loss: 'finetune', epochs: 1, name: 'x' }, '/w'), /fine-tuning needs/);
});

test('names and epochs are checked as typed', () => {
  assert.equal(nameProblem('mnist-cnn-gccs'), undefined);
  assert.equal(nameProblem(' run_2.b '), undefined);
  assert.match(nameProblem('')!, /needed/);
  assert.match(nameProblem('../escape')!, /letters, digits/);
  assert.match(nameProblem('a/b')!, /letters, digits/);
  assert.equal(epochsProblem('20'), undefined);
  for (const bad of ['0', '-1', '2.5', 'ten', '']) assert.ok(epochsProblem(bad), bad);
  assert.equal(experimentFileName(' x '), 'x.gccs.json');
  assert.equal(suggestedName('mnist', 'cnn', 'crossentropy'), 'mnist-cnn-ce');
});
