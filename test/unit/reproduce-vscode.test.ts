// GCCS: Reproduce the Paper (src/host/commands/reproduce.ts) on the fake vscode: the answers it asks
// for become the worker's request, the job reports which piece of the run it is on, Cancel Job stops
// it with a message that says how to continue; the worker job (host/jobs/reproduceJob.ts) runs a
// tiny reproduction end to end in a real worker, a second one reuses everything, and the report opens
// in a panel under a strict CSP whose nonce is on every script and style of the page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FakePanel, fakeVscode, installFakeVscode } from '../helpers/fakeVscode';
import type { ReproduceEvent, ReproduceRequest } from '../../src/core/reproduce';
import { reproduceTracker } from '../../src/core/reproduce/progress';
import { JobCancelled } from '../../src/core/workerClient';
import { runReproduceWorker } from '../../src/host/jobs/reproduceJob';
import { reportPageHtml } from '../../src/host/panels/reportPage';
import type { Job, JobContext } from '../../src/host/jobs/jobRunner';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-reproduce-vscode-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));

/**
 * The fake vscode, installed once (the command module keeps the vscode it loaded) with what the
 * command uses: quick picks answered by their title from `answers`, settings, no folder dialog.
 */
const fake = fakeVscode();
const answers: Record<string, string> = {};
const asked: string[] = [];
let resultsFolder = root;
Object.assign(fake.window, {
  showQuickPick: async (items: (string | { label: string })[], options: { title: string }) => {
    asked.push(options.title);
    const answer = Object.entries(answers).find(([title]) => options.title.includes(title))?.[1];
    return items.find((item) => (typeof item === 'string' ? item : item.label) === answer);
  },
  showOpenDialog: async () => undefined,
});
Object.assign(fake.workspace, {
  getConfiguration: () => ({ get: <T>(key: string, fallback: T) => (key === 'resultsFolder' ? (resultsFolder as T) : fallback) }),
  asRelativePath: (file: string) => file,
});
installFakeVscode(fake);

const log = () => {
  const lines: string[] = [];
  const add = (line: string) => void lines.push(line);
  return { lines, channel: { info: add, warn: add, error: add, show: () => undefined } };
};

test('the report page: the CSP first in <head>, nothing remote or inline without the nonce, every <script> and <style> carries it', async () => {
  const { renderPage } = await import('../../src/core/sweep/report');
  const page = renderPage({
    heading: 'h',
    title: 't',
    facts: ['<script>alert(1)</script> in a fact'],
    summary: {
      warnings: [],
      clean: { title: 'c', columns: ['a'], rows: [['1']] },
      sections: [
        {
          title: 'Figure 3',
          parameters: [],
          tables: [],
          scatters: [{ title: 's', axes: ['x', 'y'], series: [{ label: 'class 0', colour: '#d62728', marker: 'circle', points: [[1, 2]] }] }],
        },
      ],
    },
  });
  const html = reportPageHtml(page, 'NONCE123');
  assert.match(
    html,
    /^<!doctype html>\n<html lang="en">\n<head>\n<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'nonce-NONCE123'; script-src 'nonce-NONCE123'">/,
  );
  assert.ok(!html.includes('unsafe-inline'));
  const tags = [...html.matchAll(/<(script|style)\b[^>]*>/g)].map((m) => m[0]);
  assert.equal(tags.length, 3, tags.join(' '));
  for (const tag of tags) assert.match(tag, /^<(script|style) nonce="NONCE123">$/);
  // Text of the page stays escaped: a fact cannot add a script.
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt; in a fact'));
  assert.match(html, /<canvas id="scatter-0-0">/);
  assert.throws(() => reportPageHtml('<html><body></body></html>'), /no <head>/);
});

test('progress: the fraction of the run pieces done and what the current one is doing', () => {
  const track = reproduceTracker();
  const events: ReproduceEvent[] = [
    { type: 'plan', models: ['ce', 'gccs'], figures: ['ce'], sweeps: ['paper-attacks'] },
    { type: 'model', id: 'ce', action: 'reuse', dir: '/x/ce' },
    { type: 'model', id: 'gccs', action: 'train', dir: '/x/gccs' },
    {
      type: 'train',
      id: 'gccs',
      event: { type: 'start', backend: 'wasm', trainCount: 10, validationCount: 0, testCount: 5, numClasses: 10, stepsPerEpoch: 4, epochs: 2, startEpoch: 1 },
    },
    { type: 'train', id: 'gccs', event: { type: 'step', epoch: 2, step: 2, steps: 4, loss: 1 } as never },
    { type: 'evaluation', id: 'gccs', action: 'reuse', file: '/x/e.json' },
    { type: 'sweep', name: 'paper-attacks', file: '/x/s.jsonl', event: { type: 'cellDone', finished: 3, total: 3 } as never },
  ];
  const steps = events.map(track);
  assert.equal(steps[0]?.fraction, 0);
  assert.equal(steps[1]?.fraction, 1 / 6, 'a reused model is a finished piece');
  assert.equal(steps[4]?.fraction, (1 + 0.75) / 6, 'epoch 2 of 2, step 2 of 4');
  assert.match(steps[4]!.message, /^2\/6 gccs: training, epoch 2\/2, step 2\/4$/);
  assert.equal(steps[5]?.fraction, 4 / 6);
  assert.equal(steps[6]?.fraction, 1);
  const sorted = steps.map((s) => s!.fraction);
  assert.deepEqual(
    sorted,
    [...sorted].sort((a, b) => a - b),
    'it only moves forward',
  );
});

const tinyRequest = (outDir: string): ReproduceRequest => ({
  dataset: { kind: 'synthetic', syntheticTrain: 60, syntheticTest: 20 },
  scale: 'quick',
  outDir,
  models: ['ce'],
  overrides: { model: 'mlp', epochs: 2, batchSize: 20, count: 6, eps: [0.1], jsmaIterations: 5 },
});

test('the worker job: cancelled mid-training it keeps the checkpoint; run again it resumes and finishes; a third run reuses everything', async () => {
  const outDir = path.join(root, 'tiny');
  const controller = new AbortController();
  await assert.rejects(
    runReproduceWorker(tinyRequest(outDir), {
      backend: 'wasm',
      signal: controller.signal,
      onEvent: (event) => event.type === 'train' && event.event.type === 'epoch' && controller.abort(),
    }),
    JobCancelled,
  );
  const events: ReproduceEvent[] = [];
  const done = await runReproduceWorker(tinyRequest(outDir), { backend: 'wasm', onEvent: (event) => events.push(event) });
  assert.deepEqual(
    events.flatMap((e) => (e.type === 'model' ? [e.action] : [])),
    ['resume'],
  );
  assert.equal(done.outDir, outDir);
  assert.equal(done.html, fs.readFileSync(done.files.html, 'utf8'));
  assert.match(done.html, /Table 4 — test accuracy[\s\S]*Figure 3 — latent space of classes 0, 1, 9/);
  const again: ReproduceEvent[] = [];
  await runReproduceWorker(tinyRequest(outDir), { backend: 'wasm', onEvent: (event) => again.push(event) });
  const actions = again.flatMap((e) => (e.type === 'model' || e.type === 'evaluation' || e.type === 'figure' ? [e.action] : []));
  assert.deepEqual(actions, ['reuse', 'reuse', 'reuse']);
  assert.ok(again.every((e) => e.type !== 'train' && e.type !== 'evaluationProgress'));

  // The report's panel: the worker's page under the CSP.
  const { showReport, REPRODUCE_REPORT_TYPE } = await import('../../src/host/commands/reproduce');
  showReport(done.html, 'Paper reproduction');
  const panel = fake.created.at(-1) as FakePanel;
  assert.equal(panel.viewType, REPRODUCE_REPORT_TYPE);
  assert.match(panel.pages[0], /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
  assert.match(panel.pages[0], /Table 4 — test accuracy/);
});

test('GCCS: Reproduce the Paper asks the scale and the dataset, runs the job with progress, and Cancel Job stops it with how to continue', async () => {
  resultsFolder = path.join(root, 'results');
  Object.assign(answers, { scale: 'quick', dataset: 'synthetic' });
  const { reproduceCommand } = await import('../../src/host/commands/reproduce');
  const reports: [string, number | undefined][] = [];
  const { lines, channel } = log();
  const controller = new AbortController();
  let outcome: unknown;
  const runner = {
    enqueue: async (job: Job) => {
      const context: JobContext = {
        signal: controller.signal,
        log: channel as never,
        report: (message, fraction) => {
          reports.push([message, fraction]);
          // Cancel Job once the first model trains.
          if (message.includes('training, epoch')) controller.abort();
        },
      };
      outcome = await job.run(context).catch((error: unknown) => error);
    },
  };
  const deps = { runner, log: channel, nativeDir: path.join(root, 'native'), consent: { allow: async () => true } };
  await reproduceCommand(deps as never);
  assert.deepEqual(asked.splice(0), ['GCCS: Reproduce the Paper (1/3): scale', 'GCCS: Reproduce the Paper (2/3): dataset']);
  assert.ok(outcome instanceof JobCancelled, String(outcome));
  assert.match(outcome.message, /what finished stays in .*reproduce-synthetic-quick; Reproduce the Paper again continues it\) was cancelled$/);
  assert.ok(fs.existsSync(path.join(resultsFolder, 'reproduce-synthetic-quick', 'gccs-reproduce.json')), 'the run folder is the results folder’s');
  assert.deepEqual(
    reports.slice(0, 2).map(([message]) => message),
    ['1/29 starting', '1/29 ce: training'],
    '11 trainings, 11 evaluations, 5 Figures 3, 2 sweeps',
  );
  assert.ok(reports.some(([message, fraction]) => /^1\/\d+ ce: training, epoch 1\/1, step \d+\/\d+$/.test(message) && fraction! > 0 && fraction! < 1));
  assert.ok(
    lines.some((line) => /^11 models \(ce, gccs, jr, igr, clr, gccs-ft, ce-at, gccs-at, jr-at, igr-at, clr-at\)/.test(line)),
    lines.join('\n'),
  );

  // Cancelled at the first question: nothing runs.
  delete answers.scale;
  let enqueued = 0;
  await reproduceCommand({ ...deps, runner: { enqueue: async () => void enqueued++ } } as never);
  assert.equal(enqueued, 0);
  assert.deepEqual(asked, ['GCCS: Reproduce the Paper (1/3): scale']);
});
