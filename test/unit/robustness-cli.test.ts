import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeBits } from '../../src/core/robustness/bits';

// Runs the built CLI bundle (npm test builds it first), as a user would.
const CLI = path.resolve(__dirname, '../../dist/cli.js');

function gccs(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args, '--backend', 'cpu'], { encoding: 'utf8', timeout: 600_000 });
  const errors = result.stderr.split('\n').filter((line) => line.startsWith('gccs: error:'));
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, errors };
}

function assertOneLineError(run: ReturnType<typeof gccs>, pattern: RegExp) {
  assert.equal(run.code, 2, run.stderr);
  assert.equal(run.errors.length, 1, `exactly one error line in:\n${run.stderr}`);
  assert.match(run.errors[0], pattern);
  assert.ok(!/^\s+at /m.test(run.stderr), `no stack trace in:\n${run.stderr}`);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-evaluate-'));
const model = path.join(dir, 'model');

before(() => {
  const trained = gccs(
    'train',
    '--dataset',
    'synthetic',
    '--synthetic-train',
    '400',
    '--synthetic-test',
    '100',
    '--model',
    'mlp',
    '--loss',
    'crossentropy',
    '--epochs',
    '2',
    '--out',
    model,
  );
  assert.equal(trained.code, 0, trained.stderr);
});

test('gccs evaluate: bad input is one line, before anything runs', () => {
  assertOneLineError(
    gccs('evaluate', '--model', model, '--preset', 'autoatack'),
    /^gccs: error: unknown preset "autoatack": expected one of paper, autoattack, quick$/,
  );
  assertOneLineError(gccs('evaluate', '--model', model, '--eps', '0,0.1'), /ε must be in \(0, 1\] \(got 0\)/);
  assertOneLineError(gccs('evaluate', '--model', model, '--eps', 'a:b'), /"a:b" is not a grid/);
  assertOneLineError(gccs('evaluate', '--preset', 'quick'), /flag --model is required/);
  const existing = path.join(dir, 'kept.json');
  fs.writeFileSync(existing, 'earlier results');
  assertOneLineError(gccs('evaluate', '--model', model, '--out', existing), /flag --out: .*kept\.json already exists/);
  assert.equal(fs.readFileSync(existing, 'utf8'), 'earlier results', 'nothing already written is lost');
});

test('gccs evaluate --preset quick: estimate, per-attack and worst-case accuracy, diagnostics, verdict, per-sample JSON', () => {
  const out = path.join(dir, 'quick.json');
  const run = gccs('evaluate', '--model', model, '--preset', 'quick', '--eps', '0.05,0.1', '--count', '30', '--out', out);
  assert.equal(run.code, 0, run.stderr);
  // The first line after the backend's: the time estimate, from the pass counts and one batch timed.
  assert.match(run.stderr.split('\n').filter((line) => !line.startsWith('backend:'))[0], /^estimated time: about \d+ (s|min|h) on 1 worker for \d+ samples × \d+ ε \(\d+ attack runs; at most: a cascade/);
  assert.match(run.stderr, /^ {2}worst case +\d+\.\d%/m);
  assert.match(run.stderr, /^diagnostics:$/m);
  assert.match(run.stderr, /^ {2}(ok {2}|WARN) PGD-20 at ε = 1 \(any image allowed\) leaves/m);
  assert.match(run.stderr, /^ {2}ε = 0\.1: /m);
  const saved = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.equal(saved.preset, 'quick');
  assert.equal(saved.count, 30);
  assert.deepEqual(
    saved.eps.map((e: { eps: number }) => e.eps),
    [0.05, 0.1],
  );
  for (const e of saved.eps) {
    assert.deepEqual(
      e.runs.map((r: { label: string }) => r.label),
      ['FGSM', 'PGD-5', 'TGSM-5', 'APGD-CE-20', 'APGD-T-20'],
    );
    const worst = decodeBits(e.worst, 30, 'worst');
    for (const r of e.runs) {
      const robust = decodeBits(r.robust, 30, r.label);
      worst.forEach((flag, i) => assert.ok(flag <= robust[i], `${r.label} sample ${i}`));
    }
  }
  assert.ok(saved.diagnostics.length >= 8);
  assert.ok(saved.verdict.length >= 2);
  // The HTML report beside it: the verdict first, the worst-case chart with every attack, every diagnostic.
  const html = fs.readFileSync(path.join(dir, 'quick.html'), 'utf8');
  assert.ok(html.includes(`<p class="lead">${saved.verdict[0]}</p>`));
  assert.match(html, /<caption>Worst case and each attack \(quick preset\)<\/caption>/);
  assert.equal(html.match(/<canvas /g)?.length, 1);
  assert.equal(html.match(/<tr><td>(ok|⚠)<\/td>/g)?.length, saved.diagnostics.length);
  assert.match(run.stderr, /^took \d+ (s|min|h)$/m);
});
