// GCCS: Evaluate Robustness (src/host/commands/evaluateRobustness.ts) on the fake vscode, with a
// results file from an earlier run of the same sweep: Resume or Start Over is asked before the time
// estimate, which then counts only the cells that will run; Start Over keeps the old results until
// the new sweep starts; resuming with other samples is refused before anything runs. Real workers
// time the model and run the sweep (a tiny dense model, FGSM at two ε on 20 synthetic samples).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { FakeUri, fakeVscode, installFakeVscode } from '../helpers/fakeVscode';
import { sampleModelMeta } from '../helpers/modelMeta';
import { initBackend } from '../../src/core/backend';
import { saveLayersModel } from '../../src/core/io/layersModelFiles';
import type { Job, JobContext } from '../../src/host/jobs/jobRunner';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-evaluate-vscode-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));
const resultsFolder = path.join(root, 'results');
const modelFolder = path.join(root, 'tiny');
const resultsFile = path.join(resultsFolder, 'tiny.jsonl');

/** vscode.Uri is a class the command tests with instanceof. */
class Uri extends FakeUri {
  static file = (file: string) => new Uri(file);
  static joinPath = (base: FakeUri, ...parts: string[]) => new Uri(path.posix.join(base.fsPath, ...parts));
}

/** What the user answers: the sample count typed, Resume or Start Over, and the estimate dialog's button. */
const answers = { samples: '20', earlier: undefined as string | undefined, estimate: undefined as string | undefined };
/** Every modal dialog, in order: 'warning: …', 'estimate: …' or 'error: …'. */
const dialogs: string[] = [];
const fake = fakeVscode();
Object.assign(fake, { Uri, QuickPickItemKind: { Separator: -1 } });
Object.assign(fake.window, {
  showOpenDialog: async () => undefined,
  // The presets and attacks picker: FGSM only.
  showQuickPick: async (items: { label: string }[]) => items.filter((item) => item.label === 'fgsm'),
  showInputBox: async (options: { title: string }) => (options.title.includes('ε') ? '0.05,0.1' : answers.samples),
  withProgress: async (_options: unknown, task: () => Promise<unknown>) => task(),
  showWarningMessage: async (message: string) => {
    dialogs.push(`warning: ${message}`);
    return answers.earlier;
  },
  showInformationMessage: async (message: string) => {
    dialogs.push(`estimate: ${message}`);
    return answers.estimate;
  },
  showErrorMessage: async (message: string) => void dialogs.push(`error: ${message}`),
});
const settings: Record<string, unknown> = { resultsFolder, backend: 'cpu', workers: 1 };
Object.assign(fake.workspace, {
  getConfiguration: () => ({ get: <T>(key: string, fallback: T) => (key in settings ? (settings[key] as T) : fallback) }),
  asRelativePath: (file: string) => file,
});
installFakeVscode(fake);

let ran: number[] = [];
const log = { info: () => undefined, warn: () => undefined, error: () => undefined, show: () => undefined };
const deps = {
  extensionUri: new Uri(path.resolve(__dirname, '../..')),
  runner: {
    enqueue: async (job: Job) => {
      const context: JobContext = { signal: new AbortController().signal, log: log as never, report: () => undefined };
      await job.run(context);
    },
  },
  panels: { show: (_sources: string[], received: { results: unknown[] }) => void ran.push(received.results.length) },
  log,
  nativeDir: path.join(root, 'native'),
  consent: { allow: async () => true },
  modelData: { get: () => undefined, remember: async () => undefined },
};

async function evaluate(): Promise<void> {
  const { evaluateRobustnessCommand } = await import('../../src/host/commands/evaluateRobustness');
  await evaluateRobustnessCommand(deps as never, new Uri(path.join(modelFolder, 'model.json')) as never);
}

const resultLines = () => fs.readFileSync(resultsFile, 'utf8').split('\n').filter(Boolean);
/** The number of cells the estimate counted, from its dialog's words. */
const estimatedCells = (dialog: string | undefined) => Number(/\((\d+) cells?/.exec(dialog ?? '')?.[1]);

test('Evaluate Robustness: Resume or Start Over is asked before the estimate, which counts only the cells that will run', async () => {
  await initBackend('cpu');
  const model = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [28, 28, 1] }), tfl.layers.dense({ units: 10 })] });
  await saveLayersModel(model, modelFolder);
  fs.writeFileSync(path.join(modelFolder, 'gccs.json'), JSON.stringify(sampleModelMeta({ architecture: 'mlp' })));

  // A first sweep: nothing asked about earlier results; both cells estimated and run.
  answers.estimate = 'Start';
  await evaluate();
  assert.equal(dialogs.length, 1, dialogs.join('\n'));
  assert.match(dialogs[0], /^estimate: GCCS: about .* for 20 samples × 2 ε \(2 cells;/);
  assert.deepEqual(ran, [2]);
  const [first, second] = resultLines();
  assert.ok(first && second);

  // Cut short after its first cell: Resume is asked first, then the estimate counts the one cell left.
  fs.writeFileSync(resultsFile, `${first}\n`);
  dialogs.length = 0;
  ran = [];
  answers.earlier = 'Resume';
  await evaluate();
  assert.equal(dialogs.length, 2, dialogs.join('\n'));
  assert.match(dialogs[0], /^warning: GCCS: .*tiny\.jsonl already has results\.$/);
  assert.match(dialogs[1], /^estimate: /);
  assert.equal(estimatedCells(dialogs[1]), 1, dialogs[1]);
  assert.match(dialogs[1], /\(1 cell not yet in the results file;/);
  assert.deepEqual(ran, [2]);
  const resumed = resultLines();
  assert.equal(resumed.length, 2);
  assert.equal(resumed[0], first, 'the earlier result stays as it was');

  // Nothing left to run: no estimate dialog; the sweep's results are shown again.
  dialogs.length = 0;
  ran = [];
  await evaluate();
  assert.deepEqual(
    dialogs.map((dialog) => dialog.split(':')[0]),
    ['warning'],
  );
  assert.deepEqual(ran, [2]);
  assert.deepEqual(resultLines(), resumed);
});

test('Start Over: the estimate counts every cell, and the old results stay until the new sweep starts', async () => {
  const before = fs.readFileSync(resultsFile);
  dialogs.length = 0;
  ran = [];
  answers.earlier = 'Start Over';
  answers.estimate = undefined;
  await evaluate();
  assert.equal(estimatedCells(dialogs[1]), 2, dialogs.join('\n'));
  assert.deepEqual(ran, [], 'cancelled at the estimate: nothing ran');
  assert.deepEqual(fs.readFileSync(resultsFile), before, 'cancelled at the estimate: the old results are kept');

  dialogs.length = 0;
  answers.estimate = 'Start';
  await evaluate();
  assert.equal(estimatedCells(dialogs[1]), 2, dialogs.join('\n'));
  assert.deepEqual(ran, [2]);
  assert.equal(resultLines().length, 2);
  assert.notDeepEqual(fs.readFileSync(resultsFile), before, 'a new sweep wrote its own results');
});

test('Resume with other samples than the results file holds: one error before anything runs, the file untouched', async () => {
  const before = fs.readFileSync(resultsFile);
  dialogs.length = 0;
  ran = [];
  answers.earlier = 'Resume';
  answers.estimate = 'Start';
  answers.samples = '10';
  await evaluate();
  assert.equal(dialogs.length, 2, dialogs.join('\n'));
  assert.match(dialogs[1], /^error: GCCS: .*tiny\.jsonl holds results of another sweep configuration/);
  assert.deepEqual(ran, []);
  assert.deepEqual(fs.readFileSync(resultsFile), before);
});
