/**
 * The CLI's model-taking commands on an .onnx model (test/fixtures/onnx/mnist-tiny, a tiny CNN
 * trained and exported by bench/onnx_cli_fixture.py, with its preprocessing sidecar): gccs eval,
 * latent, evaluate and sweep, run from the built bundle as a user would, and gccs export the other
 * way (a LayersModel folder → .onnx that eval reads back). On the real MNIST test
 * images (when /work/shared/data is there) eval's accuracy and latent's outputs equal PyTorch's;
 * evaluate and sweep run on the built-in synthetic data (28×28, 10 classes) so that they run anywhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../../src/core/backend';
import { saveLayersModel } from '../../src/core/io/layersModelFiles';
import { buildCnn } from '../../src/core/models/cnn';
import { sampleModelMeta } from '../helpers/modelMeta';
import { readModelMeta } from '../../src/core/io/modelLocation';
import { planSweep } from '../../src/core/sweep/config';
import { modelLossLabel } from '../../src/core/sweep/summary';

const CLI = path.resolve(__dirname, '../../dist/cli.js');
const MODEL = path.resolve(__dirname, '../fixtures/onnx/mnist-tiny/model.onnx');
interface TorchResult { testRange: string; accuracy: number; logits8000to8004: number[][] }
const TORCH = JSON.parse(fs.readFileSync(path.join(path.dirname(MODEL), 'torch.json'), 'utf8')) as TorchResult;
const MNIST = path.resolve(__dirname, '../../../shared/data/mnist-t10k');
const noMnist = fs.existsSync(MNIST) ? false : `no MNIST test set at ${MNIST}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-onnx-cli-'));

function gccs(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args, '--backend', 'cpu'], { encoding: 'utf8', timeout: 600_000, cwd: dir });
  assert.equal(result.status, 0, result.stderr);
  return result;
}

test('gccs eval --model x.onnx: the accuracy PyTorch measured on the same MNIST images', { skip: noMnist }, () => {
  const run = gccs('eval', '--model', MODEL, '--dataset', 'mnist', '--data', MNIST, '--test-range', TORCH.testRange, '--json');
  const result = JSON.parse(run.stdout);
  assert.equal(result.model, MODEL);
  assert.equal(result.count, 1000);
  // 1000 images: one image either way would be 0.1 point; the logits agree to 1e-5, so none flips.
  assert.equal(result.accuracy.toFixed(3), TORCH.accuracy.toFixed(3));
});

test('gccs latent --model x.onnx: z is the ONNX graph\'s logits (PyTorch\'s within 1e-4), clean and under FGSM', { skip: noMnist }, () => {
  const out = path.join(dir, 'latent.json');
  const data = ['--dataset', 'mnist', '--data', MNIST, '--test-range', TORCH.testRange];
  gccs('latent', '--model', MODEL, ...data, '--count', '5', '--attack', 'fgsm', '--eps', '0.1', '--output', out);
  const latent = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.equal(latent.dims, 10);
  assert.equal(latent.samples.length, 5);
  latent.samples.forEach((sample: { z: number[]; zAttacked: number[] }, i: number) => {
    sample.z.forEach((v, k) => assert.ok(Math.abs(v - TORCH.logits8000to8004[i][k]) < 1e-4, `sample ${i} logit ${k}: ${v} vs PyTorch ${TORCH.logits8000to8004[i][k]}`));
    assert.equal(sample.zAttacked.length, 10);
    assert.notDeepEqual(sample.zAttacked, sample.z, 'FGSM at ε = 0.1 moves the logits');
  });
});

test('gccs evaluate --model x.onnx: the quick preset runs every attack and the diagnostics see logits', () => {
  const out = path.join(dir, 'evaluate.json');
  gccs('evaluate', '--model', MODEL, '--dataset', 'synthetic', '--preset', 'quick', '--eps', '0.1', '--count', '10', '--out', out);
  const saved = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.equal(saved.model, MODEL);
  assert.equal(saved.count, 10);
  assert.deepEqual(saved.eps[0].runs.map((r: { label: string }) => r.label), ['FGSM', 'PGD-5', 'TGSM-5', 'APGD-CE-20', 'APGD-T-20']);
  const outputs = saved.diagnostics.find((d: { id: string }) => d.id === 'outputs');
  assert.ok(outputs?.ok && /the outputs are logits/.test(outputs.message), `outputs diagnostic: ${JSON.stringify(outputs)}`);
});

test('gccs sweep with an .onnx model in its models: one result per cell, clean accuracy at ε = 0', () => {
  const config = path.join(dir, 'sweep.json');
  fs.writeFileSync(config, JSON.stringify({
    models: [MODEL],
    attacks: [{ name: 'fgsm', eps: [0, 0.1] }, { name: 'pgd', eps: [0.1], params: { steps: 3 } }],
    data: { kind: 'synthetic', syntheticTest: 100 },
    count: 20,
  }));
  const run = gccs('sweep', '--config', config, '--workers', '1', '--json');
  const result = JSON.parse(run.stdout);
  assert.equal(result.cells, 3);
  const [clean, fgsm, pgd] = result.results as { cell: { model: string; attack: string; eps: number }; accuracy: number; cleanAccuracy: number }[];
  assert.deepEqual(result.results.map((r: { cell: { model: string } }) => r.cell.model), [MODEL, MODEL, MODEL]);
  assert.deepEqual([clean.cell.attack, clean.cell.eps, fgsm.cell.eps, pgd.cell.attack], ['fgsm', 0, 0.1, 'pgd']);
  assert.equal(clean.accuracy, clean.cleanAccuracy);
  assert.ok(pgd.accuracy <= clean.accuracy && fgsm.accuracy <= clean.accuracy);
});

test('gccs latent --output onto the model\'s preprocessing sidecar is refused in one line, the sidecar untouched', () => {
  const copy = path.join(dir, 'copy');
  fs.mkdirSync(copy, { recursive: true });
  const model = path.join(copy, 'model.onnx');
  fs.copyFileSync(MODEL, model);
  fs.copyFileSync(`${MODEL}.gccs.json`, `${model}.gccs.json`);
  const before = fs.readFileSync(`${model}.gccs.json`);
  const args = ['latent', '--model', model, '--dataset', 'synthetic', '--count', '5', '--output', `${model}.gccs.json`, '--backend', 'cpu'];
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 600_000 });
  assert.equal(run.status, 2, run.stderr);
  const errors = run.stderr.split('\n').filter((line) => line.startsWith('gccs: error:'));
  assert.deepEqual(errors, [`gccs: error: flag --output: ${model}.gccs.json is the same file as the input --model (${model}.gccs.json): write to another file`]);
  assert.deepEqual(fs.readFileSync(`${model}.gccs.json`), before);
});

test('gccs export --onnx: eval of the exported file equals eval of the model folder; an existing file is refused, untouched', async () => {
  await initBackend('cpu');
  const folder = path.join(dir, 'cnn');
  await saveLayersModel(buildCnn([28, 28, 1], 10, 4), folder);
  const out = path.join(dir, 'exported', 'cnn.onnx');
  const exported = JSON.parse(gccs('export', '--model', folder, '--onnx', out, '--json').stdout);
  assert.deepEqual([exported.onnx, exported.sidecar, exported.opset], [out, `${out}.gccs.json`, 13]);
  assert.equal(exported.bytes, fs.statSync(out).size);
  const evaluate = (model: string) => JSON.parse(gccs('eval', '--model', model, '--dataset', 'synthetic', '--synthetic-test', '200', '--json').stdout);
  const [original, onnx] = [evaluate(folder), evaluate(out)];
  assert.equal(onnx.count, 200);
  assert.equal(onnx.accuracy, original.accuracy);
  assert.deepEqual(onnx.confusion, original.confusion);
  const before = fs.readFileSync(out);
  const again = spawnSync(process.execPath, [CLI, 'export', '--model', folder, '--onnx', out, '--backend', 'cpu'], { encoding: 'utf8', timeout: 600_000 });
  assert.equal(again.status, 2, again.stderr);
  assert.deepEqual(again.stderr.split('\n').filter((line) => line.startsWith('gccs: error:')), [`gccs: error: flag --onnx: ${out} already exists: write to another file (an export never overwrites one)`]);
  assert.deepEqual(fs.readFileSync(out), before);
});

test("an .onnx exported beside a trained model's gccs.json does not take that model's data or training loss", () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-onnx-beside-'));
  const onnx = path.join(folder, 'export.onnx');
  fs.copyFileSync(MODEL, onnx);
  // A trained model's gccs.json (a GCCS one, as the sample's), beside the export.
  fs.writeFileSync(path.join(folder, 'gccs.json'), JSON.stringify(sampleModelMeta({ inputShape: [28, 28, 1], numClasses: 10 })));
  assert.equal(readModelMeta(onnx), null);
  assert.equal(modelLossLabel(onnx), '—');
  assert.throws(() => planSweep({ models: [onnx], attacks: [{ name: 'pgd', eps: [0.1] }] }), /has no gccs\.json to take its test split from: give the data/);
});
