/**
 * .onnx models in the extension (issue 14): the preflight runs the engine's own checks (a hostile
 * file is the engine's one line, before anything is asked), the Explorer menus offer the model
 * commands on .onnx files and never Train on a sidecar, the GCCS view lists an .onnx model with its
 * results, the data a model without gccs.json runs on is asked once and remembered, the latent
 * panel's request carries it, and Compare Models evaluates an .onnx model (a real worker) on the data
 * its results were attacked on. Host code runs on the fake vscode of test/helpers/fakeVscode.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FakeUri, fakeVscode, installFakeVscode } from '../helpers/fakeVscode';
import { sampleModelMeta } from '../helpers/modelMeta';
import { MODEL_PROTO } from '../../src/core/io/onnx/schema';
import { loadModelDir } from '../../src/core/io/modelDir';
import { UserError } from '../../src/core/errors';
import type { Job } from '../../src/host/jobs/jobRunner';
import type { ModelEvaluation } from '../../src/core/inspect/types';

const vscode = fakeVscode();
/** What the fake user answers: quick picks by title (the label to choose), and what was asked. */
const answers = new Map<string, string>();
const asked: string[] = [];
const errors: string[] = [];
Object.assign(vscode.window, {
  showQuickPick: async (items: { label: string }[], options: { title: string }) => {
    asked.push(options.title);
    return items.find((item) => item.label === answers.get(options.title));
  },
  showErrorMessage: async (message: string) => void errors.push(message),
});
const settings: Record<string, unknown> = { backend: 'cpu' };
Object.assign(vscode.workspace, {
  getConfiguration: () => ({ get: (key: string, fallback: unknown) => settings[key] ?? fallback }),
  asRelativePath: (target: string) => target,
});
installFakeVscode(vscode);
/* eslint-disable @typescript-eslint/no-require-imports -- imports would be hoisted above installFakeVscode */
const { modelJsonOf, modelProblem } = require('../../src/host/workspace/preflight') as typeof import('../../src/host/workspace/preflight');
const { modelEntry } = require('../../src/host/sidebar/entries') as typeof import('../../src/host/sidebar/entries');
const { ModelDataMemory, needsData, resultsDataOf, splitOptionsOf } =
  require('../../src/host/workspace/modelData') as typeof import('../../src/host/workspace/modelData');
const { modelData } = require('../../src/host/commands/modelData') as typeof import('../../src/host/commands/modelData');
const { latentOptions, modelFolder } = require('../../src/host/panels/latent/data') as typeof import('../../src/host/panels/latent/data');
const { compareModelsCommand } = require('../../src/host/commands/compare') as typeof import('../../src/host/commands/compare');
/* eslint-enable @typescript-eslint/no-require-imports */

const root = path.resolve(__dirname, '../..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const fixture = path.join(root, 'test/fixtures/onnx/mnist-tiny/model.onnx');
const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-extension-onnx-'));
const outside = path.join(workspace, 'secret.bin');
fs.writeFileSync(outside, Buffer.alloc(64, 7));

/** A copy of the MNIST fixture (a small PyTorch CNN) as <workspace>/<folder>/<name>, with its sidecar. */
function onnxModel(name: string, folder = 'nets'): string {
  const file = path.join(workspace, folder, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.copyFileSync(fixture, file);
  fs.copyFileSync(`${fixture}.gccs.json`, `${file}.gccs.json`);
  return file;
}

const memento = (values: Record<string, unknown> = {}) =>
  ({ get: (key: string) => values[key], update: async (key: string, value: unknown) => void (values[key] = value) }) as never;

test('preflight: an .onnx file (or its sidecar) is the model; a good one has no problem', async () => {
  const file = onnxModel('good.onnx');
  assert.equal(modelJsonOf(file), file);
  assert.equal(modelJsonOf(`${file}.gccs.json`), file);
  assert.equal(await modelProblem(file), undefined);
});

test("preflight: each hostile .onnx is the engine's own one line naming the file, before anything is allocated", async () => {
  const input = {
    name: 'x',
    type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 1 }, { dim_value: 1 }, { dim_value: 2 }, { dim_value: 2 }] } } },
  };
  const output = { name: 'y', type: { tensor_type: { elem_type: 1 } } };
  const write = (name: string, graph: Record<string, unknown>) => {
    const file = path.join(workspace, 'hostile', name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const message = MODEL_PROTO.fromObject({
      ir_version: 7,
      opset_import: [{ domain: '', version: 13 }],
      graph: { input: [input], output: [output], ...graph },
    });
    fs.writeFileSync(file, MODEL_PROTO.encode(message).finish());
    return file;
  };
  const flatten = { op_type: 'Flatten', input: ['x'], output: ['y'], name: 'flat' };
  const truncated = path.join(workspace, 'hostile', 'truncated.onnx');
  const cases: [string, RegExp][] = [
    [
      write('escape.onnx', {
        node: [flatten],
        initializer: [{ name: 'w', dims: [4], data_type: 1, data_location: 1, external_data: [{ key: 'location', value: '../secret.bin' }] }],
      }),
      /leaves the model folder/,
    ],
    [write('huge.onnx', { node: [flatten], initializer: [{ name: 'w', dims: [1000, 1000, 1000], data_type: 1 }] }), /claims 1,000,000,000 elements/],
    [
      write('unknown-op.onnx', { node: [{ op_type: 'NonMaxSuppression', input: ['x'], output: ['y'], name: 'nms' }] }),
      /node "nms" uses op "NonMaxSuppression", which the reader does not support/,
    ],
    [truncated, /not a readable ONNX protobuf/],
  ];
  fs.writeFileSync(truncated, fs.readFileSync(fixture).subarray(0, 1000));
  for (const [file, pattern] of cases) {
    const problem = await modelProblem(file);
    assert.ok(problem, file);
    assert.ok(problem.startsWith(`${file}: `) && !problem.includes('\n'), problem);
    assert.match(problem, pattern);
    // The same line the engine gives when it loads the model (the CLI, the workers).
    await assert.rejects(loadModelDir(file), (error: Error) => error instanceof UserError && error.message === problem);
  }
});

test('preflight: a bad sidecar is one line naming the sidecar', async () => {
  const file = onnxModel('badsidecar.onnx');
  fs.writeFileSync(`${file}.gccs.json`, JSON.stringify({ layout: 'NCHW', mean: [0.5, 0.5, 0.5] }));
  assert.equal(await modelProblem(file), `${file}.gccs.json: mean has 3 values for 1 channels`);
  fs.writeFileSync(`${file}.gccs.json`, JSON.stringify({ scale: 2 }));
  assert.equal(await modelProblem(file), `${file}.gccs.json: unknown key "scale" (known: layout, range, mean, std, classNames)`);
});

/** A when clause of package.json in the Explorer's context: `a == b`, `a =~ /re/flags` and bare keys, joined by && and ||. */
function when(clause: string, context: Record<string, string | boolean>): boolean {
  return clause.split(' || ').some((all) =>
    all.split(' && ').every((term) => {
      const match = /^(\S+) (==|=~) (.+)$/.exec(term.trim());
      if (!match) return Boolean(context[term.trim()]);
      const [, key, op, value] = match;
      if (op === '==') return context[key] === value;
      const [, source, flags] = /^\/(.*)\/([a-z]*)$/.exec(value)!;
      return new RegExp(source, flags).test(String(context[key] ?? ''));
    }),
  );
}

test('Explorer menus: .onnx files get Evaluate Robustness, Show Latent Space and Compare Models; a sidecar is no experiment', () => {
  const menu: { command: string; when: string }[] = manifest.contributes.menus['explorer/context'];
  const offered = (name: string) => {
    const context = { resourceFilename: name, resourceExtname: path.extname(name), explorerResourceIsFolder: false };
    return menu.filter((item) => when(item.when, context)).map((item) => item.command.replace('gccs.', ''));
  };
  assert.deepEqual(offered('digits.onnx'), ['evaluateRobustness', 'showLatentSpace', 'compareModels']);
  assert.deepEqual(offered('Digits.ONNX'), ['evaluateRobustness', 'showLatentSpace', 'compareModels']);
  assert.deepEqual(offered('digits.onnx.gccs.json'), ['evaluateRobustness', 'showLatentSpace']);
  assert.deepEqual(offered('mnist.gccs.json'), ['train', 'showLatentSpace']);
  // A graph model's sidecar is no experiment either.
  assert.deepEqual(offered('model.json.gccs.json'), ['evaluateRobustness', 'showLatentSpace']);
  assert.deepEqual(offered('model.json'), ['evaluateRobustness', 'showLatentSpace', 'showTraining']);
  assert.ok(manifest.activationEvents.includes('workspaceContains:**/*.onnx'));
  // In the GCCS view an ONNX model has no training to show.
  const training = manifest.contributes.menus['view/item/context'].find((item: { command: string }) => item.command === 'gccs.showTraining');
  assert.ok(
    !when(training.when, { view: 'gccs.workspace', viewItem: 'model.onnx' }) && when(training.when, { view: 'gccs.workspace', viewItem: 'model.checkpoint' }),
  );
});

/** One sweep result line of `model` on synthetic data (the fields readResultsFile checks). */
function resultLine(
  model: string,
  accuracy: number,
  data = { spec: { kind: 'synthetic', syntheticTrain: 40, syntheticTest: 30 }, trainRange: null, testRange: null, validationFraction: 0, splitSeed: 0 },
) {
  const cell = {
    id: `id-${accuracy}`,
    entry: 0,
    model,
    attack: 'fgsm',
    params: { eps: 0.1 },
    eps: 0.1,
    iterations: null,
    samples: null,
    data,
    count: 30,
    batchSize: 100,
    seed: 0,
  };
  return (
    JSON.stringify({ configHash: 'h', cell, accuracy, cleanAccuracy: 0.9, count: 30, seconds: 1, backend: 'cpu', finishedAt: '2026-01-01T00:00:00Z' }) + '\n'
  );
}

test('the GCCS view lists an .onnx model: its name, the worst case of its results, its sidecar in the tooltip; no training, no checkpoint', () => {
  const file = onnxModel('view.onnx');
  const resultsFolder = path.join(workspace, 'results-view');
  fs.mkdirSync(resultsFolder);
  const results = path.join(resultsFolder, 'view.onnx.jsonl');
  fs.writeFileSync(results, resultLine(file, 0.4));
  const entry = modelEntry(file, [results], resultsFolder);
  assert.equal(entry.label, 'view.onnx');
  assert.equal(entry.contextValue, 'model.onnx');
  assert.equal(entry.description, 'worst 40.0% (fgsm, ε 0.1)');
  assert.match(entry.tooltip, /ONNX model; preprocessing from view\.onnx\.gccs\.json/);
  fs.rmSync(`${file}.gccs.json`);
  assert.equal(modelEntry(file, [], resultsFolder).description, 'ONNX');
  assert.match(modelEntry(file, [], resultsFolder).tooltip, /without view\.onnx\.gccs\.json: pixels in \[0, 1\], no normalisation/);
});

test('the data of a model without gccs.json: asked with the dataset question, remembered, offered again, never asked of a model with gccs.json', async () => {
  const file = onnxModel('asked.onnx');
  const memory = new ModelDataMemory(memento());
  const title = 'GCCS: data to run asked.onnx on: dataset';
  answers.set(title, 'Synthetic shapes');
  asked.length = 0;
  assert.deepEqual(await modelData(memory, file), { kind: 'synthetic' });
  assert.deepEqual(asked, [title]);
  assert.deepEqual(memory.get(file), { kind: 'synthetic' });
  // The next time: the last answer first; the latent panel uses it without asking.
  asked.length = 0;
  answers.set('GCCS: data to run asked.onnx on', 'Synthetic shapes');
  assert.deepEqual(await modelData(memory, file), { kind: 'synthetic' });
  assert.deepEqual(await modelData(memory, file, { remembered: 'use' }), { kind: 'synthetic' });
  assert.deepEqual(asked, ['GCCS: data to run asked.onnx on']);
  // Cancelled: undefined, nothing remembered.
  const other = onnxModel('cancelled.onnx');
  assert.equal(await modelData(memory, other), undefined);
  assert.equal(memory.get(other), undefined);
  // A model folder with gccs.json names its data; one without it does not.
  const folder = path.join(workspace, 'models', 'own');
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, 'model.json'), '{}');
  assert.equal(needsData(folder), true);
  fs.writeFileSync(path.join(folder, 'gccs.json'), JSON.stringify(sampleModelMeta()));
  asked.length = 0;
  assert.equal(await modelData(memory, folder), null);
  assert.deepEqual(asked, []);
});

test("the latent panel: an .onnx file is its own model, and its request carries the data as the CLI's dataset options", () => {
  const file = onnxModel('latent.onnx');
  assert.equal(modelFolder(file), file);
  assert.equal(modelFolder(`${file}.gccs.json`), file);
  const options = latentOptions(file, { count: 20, attack: 'none', eps: 0.1 } as never, undefined, {
    kind: 'mnist',
    path: '/data/mnist',
    testRange: '8000:10000',
  });
  assert.deepEqual(options, { model: file, count: 20, dataset: 'mnist', data: '/data/mnist', seed: 0, testRange: '8000:10000', valFraction: 0 });
  assert.deepEqual(splitOptionsOf({ kind: 'synthetic', syntheticTrain: 40, syntheticTest: 30, seed: 3 }), {
    dataset: 'synthetic',
    seed: 3,
    syntheticTrain: 40,
    syntheticTest: 30,
    valFraction: 0,
  });
});

test('Compare Models on two .onnx models: each evaluated by a worker on the data its results were attacked on, then the panel opens', async () => {
  const resultsFolder = path.join(workspace, 'results-compare');
  fs.mkdirSync(resultsFolder);
  const models = [onnxModel('a.onnx', 'compare'), onnxModel('b.onnx', 'compare')];
  const files = models.map((model, i) => {
    const file = path.join(resultsFolder, `${path.basename(model)}.jsonl`);
    fs.writeFileSync(file, resultLine(model, 0.5 + i / 10));
    return file;
  });
  assert.deepEqual(resultsDataOf(files[0], models[0]), { kind: 'synthetic', syntheticTrain: 40, syntheticTest: 30 });
  settings.resultsFolder = resultsFolder;
  const jobs: Job[] = [];
  const shown: string[][] = [];
  const log = { info: () => {}, warn: () => {}, error: () => {} };
  const deps = {
    runner: { enqueue: async (job: Job) => void jobs.push(job) },
    panels: { show: (list: string[]) => void shown.push(list) },
    consent: { allow: async () => true },
    log,
    nativeDir: path.join(workspace, 'no-native'),
    modelData: new ModelDataMemory(memento()),
  };
  errors.length = 0;
  await compareModelsCommand(deps as never, undefined, models.map((model) => new FakeUri(model)) as never);
  assert.deepEqual(errors, []);
  assert.equal(jobs.length, 1);
  await jobs[0].run({ signal: new AbortController().signal, report: () => {}, log } as never);
  assert.deepEqual(shown, [files]);
  for (const [i, file] of files.entries()) {
    const evaluation = JSON.parse(fs.readFileSync(file.replace(/\.jsonl$/, '.eval.json'), 'utf8')) as ModelEvaluation;
    assert.equal(evaluation.model, models[i]);
    // The 30 synthetic test samples the results were attacked on.
    assert.equal(evaluation.count, 30);
    assert.equal(evaluation.classNames.length, 10);
  }
});
