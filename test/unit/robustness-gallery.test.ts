/**
 * The robustness panel's adversarial-example gallery, host side: the cells the panel lists and
 * names on its chart points, the worker's `examples` answer (the same as the in-process
 * computation), the panel on a fake vscode (a gallery for a picked cell; an unknown cell,
 * Restricted Mode, a model outside the workspace and a cancel each said in one status line), and
 * the webview's pure pixel functions.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FakePanel, FakeUri, fakeVscode, installFakeVscode } from '../helpers/fakeVscode';
import { initBackend } from '../../src/core/backend';
import { computeExamples } from '../../src/core/inspect/examples';
import type { AdversarialExample } from '../../src/core/inspect/types';
import { lossConfig } from '../../src/core/loss';
import { runSweep } from '../../src/core/sweep';
import type { CellResult } from '../../src/core/sweep/types';
import { TRAIN_DEFAULTS } from '../../src/core/train/defaults';
import { train } from '../../src/core/train/trainer';
import { JobCancelled } from '../../src/core/workerClient';
import type { FolderConsent } from '../../src/host/workspace/folderConsent';
import { imageRgba, isImage, perturbationScale, perturbationValues } from '../../webview/gallery';

const vscode = Object.assign(fakeVscode(), {});
const workspace = vscode.workspace as { isTrusted?: boolean; getConfiguration?: unknown };
workspace.isTrusted = true;
workspace.getConfiguration = () => ({ get: (key: string, fallback: unknown) => (key === 'backend' ? 'wasm' : fallback) });
installFakeVscode(vscode);
/* eslint-disable @typescript-eslint/no-require-imports -- imports would be hoisted above installFakeVscode */
const { RobustnessPanels } = require('../../src/host/panels/robustness/panel') as typeof import('../../src/host/panels/robustness/panel');
const { findCell, robustnessData } = require('../../src/host/panels/robustness/data') as typeof import('../../src/host/panels/robustness/data');
const { computeExamplesData } = require('../../src/host/panels/robustness/examples') as typeof import('../../src/host/panels/robustness/examples');
/* eslint-enable @typescript-eslint/no-require-imports */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-gallery-'));
const modelDir = path.join(dir, 'tiny');
const resultsFile = path.join(dir, 'tiny.jsonl');
let results: CellResult[];

before(async () => {
  await initBackend('wasm');
  await train(
    {
      dataset: { kind: 'synthetic', syntheticTrain: 600, syntheticTest: 100, seed: 2 },
      split: { trainRange: null, testRange: null, validationFraction: 0 },
      model: 'mlp',
      fineTuneFrom: null,
      loss: lossConfig('gccs'),
      optimizer: { ...TRAIN_DEFAULTS.optimizer, learningRate: 0.003 },
      batchSize: 50,
      epochs: 2,
      seed: 2,
      outDir: modelDir,
      resume: false,
    },
    'wasm',
    () => undefined,
  );
  const sweep = await runSweep(
    {
      models: [modelDir],
      attacks: [{ name: 'fgsm', eps: [0, 0.1] }, { name: 'pgd', eps: [0.1], params: { steps: 5 } }, { name: 'deepfool' }],
      count: 40,
      batchSize: 20,
      seed: 5,
    },
    { workers: 1, backend: 'wasm', resultsFile },
  );
  results = sweep.results;
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

const cellOf = (attack: string, eps: number | null) => results.find((r) => r.cell.attack === attack && r.cell.eps === eps)!.cell;

test('the panel lists every finished cell, and each chart point names its cell', () => {
  const data = robustnessData([resultsFile]);
  assert.deepEqual(
    data.cells.map((c) => c.label),
    ['tiny · DeepFool', 'tiny · FGSM · ε 0', 'tiny · FGSM · ε 0.1', 'tiny · PGD · ε 0.1'],
  );
  assert.ok(data.cells.every((c) => c.count === 40));
  assert.deepEqual(data.cells.map((c) => c.eps), [null, 0, 0.1, 0.1]);
  const pgd = data.summary.sections.find((s) => s.title === 'PGD')?.chart?.series[0].points;
  assert.deepEqual(
    pgd?.map((p) => p.cell),
    [cellOf('pgd', 0.1).id],
  );
  assert.equal(findCell([resultsFile], undefined, cellOf('pgd', 0.1).id)?.attack, 'pgd');
  assert.equal(findCell([resultsFile], undefined, 'deadbeef'), undefined);
});

test("the worker's examples answer is the in-process computation, titled", async () => {
  const cell = cellOf('pgd', 0.1);
  const data = await computeExamplesData(cell, 6, { backend: 'wasm' });
  const { title, ...answer } = data;
  assert.equal(title, 'PGD ε 0.1 on tiny: the first 6 of 40 samples');
  assert.deepEqual(answer, await computeExamples({ cell, count: 6 }));
  // DeepFool has no ε: its gallery still shows its images.
  const deepfool = await computeExamplesData(cellOf('deepfool', null), 3, { backend: 'wasm' });
  assert.equal(deepfool.title, 'DeepFool on tiny: the first 3 of 40 samples');
  assert.deepEqual([deepfool.eps, deepfool.norm, deepfool.samples.length], [null, null, 3]);
});

test('an aborted examples request is JobCancelled', async () => {
  const controller = new AbortController();
  const running = computeExamplesData(cellOf('pgd', 0.1), 48, { backend: 'wasm', signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(running, JobCancelled);
});

/** The panel on these results; `consent` says which paths are inside the workspace. */
async function openPanel(allow: (target: string) => boolean) {
  const consent = { allow: async (target: string) => allow(target) } as unknown as FolderConsent;
  const log = { warn: () => {}, info: () => {}, error: () => {} };
  const panels = new RobustnessPanels(new FakeUri('/ext') as never, log as never, consent);
  panels.show([resultsFile]);
  const panel = vscode.created.at(-1) as FakePanel;
  panel.send({ type: 'ready' });
  await until(panel, (m) => m.type === 'show');
  return { panels, panel };
}

type Posted = { type: string; message?: string; busy?: boolean; isError?: boolean; data?: { title?: string; samples?: unknown[]; cells?: unknown[] } };
async function until(panel: FakePanel, found: (message: Posted) => boolean, ms = 60_000): Promise<Posted> {
  const deadline = Date.now() + ms;
  for (;;) {
    const message = (panel.posted as Posted[]).find(found);
    if (message) return message;
    if (Date.now() > deadline) throw new Error(`nothing posted in ${ms} ms: ${JSON.stringify(panel.posted.map((m) => (m as Posted).type))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('the panel: a picked cell → a busy status, then the gallery of its first samples', async () => {
  const { panels, panel } = await openPanel(() => true);
  const cell = cellOf('fgsm', 0.1);
  panel.send({ type: 'examples', cell: cell.id, count: 12 });
  const busy = await until(panel, (m) => m.type === 'examplesStatus');
  assert.deepEqual([busy.busy, busy.isError], [true, false]);
  assert.match(
    busy.message ?? '',
    /^Attacking FGSM ε 0\.1 on tiny: the first 12 of 40 samples \(in whole batches of 20, seed 5 \+ batch, as the sweep did\)…$/,
  );
  const shown = await until(panel, (m) => m.type === 'examples');
  assert.equal(shown.data?.title, 'FGSM ε 0.1 on tiny: the first 12 of 40 samples');
  assert.equal(shown.data?.samples?.length, 12);
  panels.dispose();
});

test('the panel says in one status line why it shows no gallery: an unknown cell, Restricted Mode, a model outside the workspace, a cancel', async () => {
  const statusAfter = async (message: unknown, allow = (_: string) => true) => {
    const { panels, panel } = await openPanel(allow);
    panel.send(message);
    const status = await until(panel, (m) => m.type === 'examplesStatus');
    panels.dispose();
    return status;
  };
  const pgd = cellOf('pgd', 0.1).id;
  assert.deepEqual(await statusAfter({ type: 'examples', cell: 'deadbeef', count: 12 }), {
    type: 'examplesStatus',
    message: 'That point is no longer in the results shown: open the report again.',
    busy: false,
    isError: true,
  });
  const refused = await statusAfter({ type: 'examples', cell: pgd, count: 12 }, (target) => target !== modelDir);
  assert.equal(refused.message, `${modelDir} is outside the workspace and was not confirmed.`);
  workspace.isTrusted = false;
  const restricted = await statusAfter({ type: 'examples', cell: pgd, count: 12 });
  workspace.isTrusted = true;
  assert.match(restricted.message ?? '', /^Restricted Mode: adversarial examples run the model/);
  // A hostile message never reaches the panel: nothing is posted for it.
  const { panels, panel } = await openPanel(() => true);
  const before = panel.posted.length;
  panel.send({ type: 'examples', cell: '../../etc', count: 12 });
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(panel.posted.length, before);
  // Cancel while the worker attacks: "Cancelled.", and no gallery.
  panel.send({ type: 'examples', cell: pgd, count: 48 });
  await until(panel, (m) => m.type === 'examplesStatus' && m.busy === true);
  panel.send({ type: 'cancelExamples' });
  const cancelled = await until(panel, (m) => m.type === 'examplesStatus' && m.message === 'Cancelled.');
  assert.deepEqual([cancelled.busy, cancelled.isError], [false, false]);
  assert.ok(!(panel.posted as Posted[]).some((m) => m.type === 'examples'));
  panels.dispose();
});

test('the webview draws grey and RGB images, and the perturbation on one scale: mid-grey 0, white +scale, black −scale', () => {
  assert.ok(isImage([28, 28, 1]) && isImage([32, 32, 3]));
  assert.ok(!isImage([1, 40, 1]) && !isImage([8, 8, 2]));
  assert.deepEqual(Array.from(imageRgba([0, 0.5, 1, 0.2], [2, 2, 1])), [0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255, 51, 51, 51, 255]);
  assert.deepEqual(Array.from(imageRgba([1, 0, 0.5], [1, 1, 3])), [255, 0, 128, 255]);
  const sample = (clean: number[], adversarial: number[]) => ({ clean, adversarial }) as AdversarialExample;
  const samples = [sample([0.5, 0.5], [0.6, 0.5]), sample([0.2, 0.9], [0.2, 0.7])];
  assert.ok(Math.abs(perturbationScale(samples) - 0.2) < 1e-12);
  const n = perturbationValues(samples[1], 0.2);
  assert.ok(Math.abs(n[0] - 0.5) < 1e-12 && Math.abs(n[1] - 0) < 1e-12, `${n}`);
  assert.equal(perturbationScale([sample([0.3], [0.3])]), 1, 'nothing moved: scale 1, all mid-grey');
});
