import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { GCCS_DEFAULTS } from '../../src/core/catalog';
import { convergedLossNote } from '../../src/core/loss/converged';

// Runs the built CLI bundle (npm test builds it first), as a user would.
const CLI = path.resolve(__dirname, '../../dist/cli.js');

function gccs(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  const errors = result.stderr.split('\n').filter((line) => line.startsWith('gccs: error:'));
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, errors };
}

function assertOneLineError(run: ReturnType<typeof gccs>, pattern: RegExp) {
  assert.notEqual(run.code, 0, 'non-zero exit code');
  assert.equal(run.errors.length, 1, `exactly one error line in:\n${run.stderr}`);
  assert.match(run.errors[0], pattern);
  assert.ok(!/^\s+at /m.test(run.stderr), `no stack trace in:\n${run.stderr}`);
}

function idx(magic: number, dims: number[], body: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(body)]);
}

function mnistFolder(images: number, labels: number, pixelBytes = images * 784): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-cli-'));
  fs.writeFileSync(path.join(dir, 't10k-images-idx3-ubyte'), idx(0x803, [images, 28, 28], new Uint8Array(pixelBytes)));
  fs.writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte'), idx(0x801, [labels], Uint8Array.from({ length: labels }, (_, i) => i % 10)));
  return dir;
}

test('an unknown flag names the flag', () => {
  assertOneLineError(gccs('train', '--epoch', '3'), /unknown flag --epoch/);
});

test('a missing IDX file names the folder and the files expected', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-cli-'));
  assertOneLineError(gccs('train', '--dataset', 'mnist', '--data', dir, '--epochs', '1'), new RegExp(`${dir}.*idx`));
});

test('a truncated IDX file names the file and the problem', () => {
  const dir = mnistFolder(20, 20, 20 * 784 - 100);
  assertOneLineError(gccs('train', '--dataset', 'mnist', '--data', dir, '--epochs', '1'), /t10k-images-idx3-ubyte.*truncated/);
});

test('images and labels of different counts are refused', () => {
  const dir = mnistFolder(20, 19);
  assertOneLineError(gccs('train', '--dataset', 'mnist', '--data', dir, '--epochs', '1'), /t10k.*20.*19|t10k.*19.*20/);
});

test('a model.json that is not a LayersModel', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-cli-'));
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ weights: [] }));
  assertOneLineError(gccs('eval', '--model', path.join(dir, 'model.json')), /model\.json: not a TensorFlow\.js LayersModel/);
});

test('a dataset with a single class', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-cli-'));
  fs.mkdirSync(path.join(dir, 'cats'));
  for (let i = 0; i < 4; i++) {
    const png = new PNG({ width: 8, height: 8 });
    png.data.fill(100 + i);
    fs.writeFileSync(path.join(dir, 'cats', `${i}.png`), PNG.sync.write(png));
  }
  assertOneLineError(gccs('train', '--dataset', 'folder', '--data', dir, '--epochs', '1'), /class/);
});

test('--verbose adds the stack trace', () => {
  const run = gccs('eval', '--model', '/nonexistent/model.json', '--verbose');
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /^\s+at /m);
});

test('train → eval → latent on the built-in dataset, with --json', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-cli-model-'));
  const small = ['--dataset', 'synthetic', '--synthetic-train', '600', '--synthetic-test', '200', '--model', 'mlp'];
  const trained = gccs('train', ...small, '--loss', 'crossentropy', '--epochs', '2', '--out', out, '--json');
  assert.equal(trained.code, 0, trained.stderr);
  assert.match(trained.stderr, /^backend: wasm/m);
  const result = JSON.parse(trained.stdout);
  assert.equal(result.backend, 'wasm');
  assert.equal(result.meta.epochs.length, 2);
  assert.ok(!fs.existsSync(path.join(out, 'checkpoint')), 'checkpoint/ is removed after a successful training');
  const kept = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-cli-kept-'));
  const tiny = ['--dataset', 'synthetic', '--synthetic-train', '100', '--synthetic-test', '50', '--model', 'mlp'];
  const keeping = gccs('train', ...tiny, '--epochs', '1', '--out', kept, '--keep-checkpoint');
  assert.equal(keeping.code, 0, keeping.stderr);
  assert.ok(fs.existsSync(path.join(kept, 'checkpoint', 'state.json')), '--keep-checkpoint keeps it');
  assert.match(keeping.stderr, /^kept .*checkpoint \(--keep-checkpoint\): train again with --resume/m);
  // The training names its loss with its parameters, and says what a converged GCCS loss looks like (the core's figure for batch 100, 10 classes).
  assert.match(keeping.stderr, /^training mlp with GCCS \(μ_T 70, σ_T 1, λ 0\.2\) on synthetic: /m);
  assert.ok(keeping.stderr.split('\n').includes(convergedLossNote(GCCS_DEFAULTS, 10, 100)), keeping.stderr);
  const evaluated = gccs('eval', '--model', out, '--json');
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const evaluation = JSON.parse(evaluated.stdout);
  assert.equal(evaluation.count, 200);
  // Full class names in the tables ("horizontal bar", 14 characters, was cut to 12).
  const table = gccs('eval', '--model', out);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stderr, /^ {2}horizontal bar +\d/m);
  assert.match(table.stderr, /^ {2}ring {11}/m);
  // A short backend line; what it is made of with --verbose.
  assert.match(table.stderr, /^backend: wasm$/m);
  assert.match(gccs('eval', '--model', out, '--json', '--verbose').stderr, /^backend: wasm \(WebAssembly .+\)$/m);
  assert.equal(evaluation.confusion.flat().reduce((a: number, b: number) => a + b, 0), 200);
  assert.ok(evaluation.separation.mean > 0);
  const csv = path.join(out, 'latent.csv');
  const latent = gccs('latent', '--model', path.join(out, 'gccs.json'), '--count', '50', '--format', 'csv', '--output', csv);
  assert.equal(latent.code, 0, latent.stderr);
  const lines = fs.readFileSync(csv, 'utf8').trim().split('\n');
  assert.equal(lines.length, 51);
  assert.equal(lines[0].split(',').length, 11);
});
