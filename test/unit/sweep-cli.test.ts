import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { ATTACK_NAMES, resolveAttackParams } from '../../src/core/attacks';
import { initBackend } from '../../src/core/backend';
import { CONFIG_LIMITS } from '../../src/core/limits';
import { saveLayersModel } from '../../src/core/io/layersModelFiles';
import { checkOutputs } from '../../src/cli/outputPaths';

// Runs the built CLI bundle (npm test builds it first), as a user would.
const CLI = path.resolve(__dirname, '../../dist/cli.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-sweep-cli-'));
const model = path.join(dir, 'mlp');
const threeClasses = path.join(dir, 'three');

function gccs(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, cwd: dir });
  const errors = result.stderr.split('\n').filter((line) => line.startsWith('gccs: error:'));
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, errors };
}

function assertOneLineError(run: ReturnType<typeof gccs>, pattern: RegExp | string) {
  assert.notEqual(run.code, 0, 'non-zero exit code');
  assert.equal(run.errors.length, 1, `exactly one error line in:\n${run.stderr}`);
  if (typeof pattern === 'string') assert.equal(run.errors[0], `gccs: error: ${pattern}`);
  else assert.match(run.errors[0], pattern);
  assert.ok(!/^\s+at /m.test(run.stderr), `no stack trace in:\n${run.stderr}`);
}

function writeConfig(name: string, config: object): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(config));
  return file;
}

before(async () => {
  const trainFlags = ['--synthetic-train', '600', '--synthetic-test', '300', '--model', 'mlp', '--loss', 'crossentropy', '--epochs', '3', '--batch-size', '50'];
  const trained = gccs('train', ...trainFlags, '--out', model);
  assert.equal(trained.code, 0, trained.stderr);
  // A model with 3 outputs and no gccs.json, for the synthetic data's 10 classes.
  await initBackend('cpu');
  const three = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [28, 28, 1] }), tfl.layers.dense({ units: 3 })] });
  await saveLayersModel(three, threeClasses);
});

test('gccs attack: an accuracy-vs-ε table, results and report with --out, --json', () => {
  const run = gccs('attack', '--model', model, '--attack', 'pgd', '--eps', '0:0.1:0.05', '--steps', '3', '--count', '100', '--workers', '1');
  assert.equal(run.code, 0, run.stderr);
  // The first line: the time estimate (PGD-3 has a fixed length: exact counts).
  assert.match(run.stderr.split('\n')[0], /^estimated time: about \d+ (s|min|h) on 1 worker for 100 samples × 3 ε \(3 cells; every attack runs its full length\)$/);
  assert.match(run.stderr, /^backend: wasm/m);
  // Plain labels: the attack's own loss, μ_T only with the latent loss, a step size that follows ε as a range.
  assert.match(run.stderr, /^PGD — norm: L∞; steps: 3; step size: 0–0\.08333 \(per ε\); random start: false; restarts: 1; attack loss: cross-entropy$/m);
  assert.match(run.stderr, /^ {2}ε {5}mlp$/m);
  assert.match(run.stderr, /^ {2}0\.05 {2}\d+\.\d\d%$/m);
  const out = path.join(dir, 'pgd.jsonl');
  const json = gccs('attack', '--model', model, '--attack', 'pgd', '--eps', '0,0.1', '--count', '100', '--out', out, '--json');
  assert.equal(json.code, 0, json.stderr);
  const result = JSON.parse(json.stdout);
  assert.equal(result.backend, 'wasm');
  assert.equal(result.cells, 2);
  assert.deepEqual(result.results.map((r: { cell: { eps: number } }) => r.cell.eps), [0, 0.1]);
  assert.equal(result.results[0].accuracy, result.results[0].cleanAccuracy);
  assert.equal(fs.readFileSync(out, 'utf8').trim().split('\n').length, 2);
  assert.equal(result.reportFile, path.join(dir, 'pgd.html'));
  assert.match(fs.readFileSync(result.reportFile, 'utf8'), /<canvas id="chart-0">/);
});

test('gccs attack: bad input is one line naming the flag', () => {
  const attack = (...args: string[]) => gccs('attack', '--model', model, ...args);
  assertOneLineError(attack('--attack', 'pgd', '--eps', '-0.1'), 'flag --eps: must be ≥ 0 (got -0.1)');
  assertOneLineError(attack('--attack', 'pgd', '--eps', '0:0.1:x'), /^gccs: error: flag --eps: "0:0\.1:x" is not a grid/);
  assertOneLineError(attack('--attack', 'pgdd'), /^gccs: error: flag --attack must be one of fgsm, pgd, tgsm, jsma, deepfool, spsa/);
  assertOneLineError(attack('--attack', 'pgd', '--steps', '0'), 'flag --steps: must be ≥ 1 (got 0)');
  assertOneLineError(attack('--attack', 'fgsm', '--gamma', '0.1'), `flag --gamma: fgsm takes no parameter "gamma" (it takes ${Object.keys(resolveAttackParams('fgsm')).join(', ')})`);
  assertOneLineError(attack('--attack', 'deepfool', '--eps', '0.1'), /^gccs: error: flag --eps: deepfool takes no parameter "eps"/);
  assertOneLineError(attack('--attack', 'pgd', '--workers', '0'), 'workers must be a whole number ≥ 1 (got 0)');
  assertOneLineError(attack('--attack', 'pgd', '--test-range', '0:100'), /^gccs: error: flag --dataset is required with --data or --test-range/);
  assertOneLineError(gccs('attack', '--attack', 'pgd'), /^gccs: error: flag --model is required/);
  assertOneLineError(gccs('attack', '--model', path.join(dir, 'missing'), '--attack', 'pgd'), /^gccs: error: flag --model: no model at .*missing/);
  assertOneLineError(gccs('attack', '--model', threeClasses, '--attack', 'fgsm'), /^gccs: error: flag --model: .*three has no gccs\.json/);
  assertOneLineError(gccs('attack', '--model', threeClasses, '--attack', 'fgsm', '--dataset', 'synthetic', '--count', '10'), /^gccs: error: .*three\/model\.json: the model has 3 outputs but dataset .* has 10 classes$/);
});

test('gccs sweep: configuration errors name the file and the JSON path; results are never lost', () => {
  const bad = writeConfig('bad.json', { models: [model], attacks: [{ name: 'fgsm' }, { name: 'pgd' }, { name: 'pgdd' }] });
  assertOneLineError(gccs('sweep', '--config', bad), `${bad}: attacks[2].name: unknown attack "pgdd" (${ATTACK_NAMES.join(', ')})`);
  const negative = writeConfig('negative.json', { models: ['mlp'], attacks: [{ name: 'fgsm', eps: [0.1, -0.1] }] });
  assertOneLineError(gccs('sweep', '--config', negative), `${negative}: attacks[0].eps[1]: must be ≥ 0 (got -0.1)`);
  const range = writeConfig('range.json', { models: ['mlp'], attacks: [{ name: 'pgd', params: { steps: -1 } }] });
  assertOneLineError(gccs('sweep', '--config', range), `${range}: attacks[0].params.steps: must be ≥ 1 (got -1)`);
  assertOneLineError(gccs('sweep'), /^gccs: error: flag --config is required/);
  assertOneLineError(gccs('sweep', '--config', path.join(dir, 'none.json')), /none\.json: file not found$/);

  const good = writeConfig('good.json', { models: ['mlp'], attacks: [{ name: 'fgsm', eps: [0.05] }], count: 50 });
  const run = gccs('sweep', '--config', good, '--workers', '1');
  assert.equal(run.code, 0, run.stderr);
  const results = path.join(dir, 'good.results.jsonl');
  assert.ok(fs.existsSync(path.join(dir, 'good.results.html')));
  const written = fs.readFileSync(results);
  assertOneLineError(gccs('sweep', '--config', good), `${results} already holds results: pass --resume to continue that sweep, or write to another --out file`);
  const other = writeConfig('other.json', { models: ['mlp'], attacks: [{ name: 'fgsm', eps: [0.1] }], count: 50 });
  assertOneLineError(gccs('sweep', '--config', other, '--out', results, '--resume'), /holds results of another sweep configuration \(configHash [0-9a-f]{16}, this one is [0-9a-f]{16}\): write to another --out file$/);
  assert.deepEqual(fs.readFileSync(results), written, 'the results file is unchanged');
  const resumed = gccs('sweep', '--config', good, '--resume', '--json');
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(JSON.parse(resumed.stdout).ran, 0);
});

test('outputs are checked before anything is written: one file for two outputs, an input as an output, a folder, a foreign --resume file', () => {
  const precious = path.join(dir, 'precious.jsonl');
  fs.writeFileSync(precious, 'my notes, no newline at the end');
  const before = fs.readFileSync(precious);
  const attack = (...args: string[]) => gccs('attack', '--model', model, '--attack', 'fgsm', '--eps', '0.1', '--count', '20', '--workers', '1', ...args);
  assertOneLineError(attack('--resume', '--out', precious, '--report', precious), `flag --report: ${precious} is the same file as --out (${precious}): write to another file`);
  fs.symlinkSync(precious, path.join(dir, 'link.html'));
  assertOneLineError(attack('--out', precious, '--report', path.join(dir, 'link.html')), /^gccs: error: flag --report: .*link\.html is the same file as --out/);
  assertOneLineError(attack('--resume', '--out', precious), `${precious} does not end in a result line of this sweep (its last 31 bytes have no newline): write to another --out file`);
  assert.deepEqual(fs.readFileSync(precious), before, 'the file is byte-identical');

  const config = writeConfig('outputs.json', { models: [model], attacks: [{ name: 'fgsm', eps: [0.1] }], count: 20 });
  const configBytes = fs.readFileSync(config);
  assertOneLineError(gccs('sweep', '--config', config, '--report', config), `flag --report: ${config} is the same file as the input --config (${config}): write to another file`);
  assertOneLineError(gccs('sweep', '--config', config, '--out', config, '--resume'), `flag --out: ${config} is the same file as the input --config (${config}): write to another file`);
  assert.deepEqual(fs.readFileSync(config), configBytes, 'the configuration is byte-identical');
  assertOneLineError(gccs('sweep', '--config', config, '--out', dir), `flag --out: ${dir} is a folder (expected a file)`);
  assertOneLineError(gccs('sweep', '--config', config, '--out', path.join(config, 'r.jsonl')), `flag --out: ${path.join(config, 'r.jsonl')} cannot be created: ${config} is not a folder`);
  assert.ok(!fs.existsSync(path.join(dir, 'outputs.html')), 'no report was written');

  assertOneLineError(gccs('train', '--epochs', '1', '--out', config), `flag --out: ${config} is a file (expected a folder)`);
  assertOneLineError(gccs('latent', '--model', model, '--output', path.join(model, 'gccs.json')), `flag --output: ${path.join(model, 'gccs.json')} is the same file as the input --model (${path.join(model, 'gccs.json')}): write to another file`);
  assertOneLineError(gccs('train', '--epochs', String(CONFIG_LIMITS.epochs + 1), '--out', path.join(dir, 'never')), `--epochs: must be ≤ ${CONFIG_LIMITS.epochs} (got ${CONFIG_LIMITS.epochs + 1})`);
  assertOneLineError(attack('--workers', String(CONFIG_LIMITS.workers + 1)), `workers must be at most ${CONFIG_LIMITS.workers} (got ${CONFIG_LIMITS.workers + 1}; README › Limits)`);
  assertOneLineError(attack('--steps', '1e9'), /^gccs: error: flag --steps: /);
  assertOneLineError(gccs('attack', '--model', model, '--attack', 'pgd', '--steps', '100000'), `flag --steps: must be ≤ ${CONFIG_LIMITS.steps} (got 100000)`);
  assertOneLineError(gccs('attack', '--model', model, '--attack', 'spsa', '--iterations', '1:20000:1'), `flag --iterations: grid "1:20000:1" has 20000 points (at most ${CONFIG_LIMITS.gridValues})`);
});

test('checkOutputs: hard links, .. and not-yet-existing folders name the same file the same way', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-outputs-'));
  fs.writeFileSync(path.join(root, 'a.jsonl'), 'x');
  fs.linkSync(path.join(root, 'a.jsonl'), path.join(root, 'b.html'));
  const check = (out: string, report: string) => () => checkOutputs([{ flag: 'out', path: out, kind: 'file' }, { flag: 'report', path: report, kind: 'file' }]);
  assert.throws(check(path.join(root, 'a.jsonl'), path.join(root, 'b.html')), /^UserError: flag --report: .*b\.html is the same file as --out/);
  assert.throws(check(path.join(root, 'new/r.jsonl'), path.join(root, 'new/../new/r.jsonl')), /is the same file as --out/);
  check(path.join(root, 'x/y/r.jsonl'), path.join(root, 'x/y/r.html'))();
  assert.ok(!fs.existsSync(path.join(root, 'x')), 'checking creates nothing');
});
