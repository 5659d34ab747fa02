/**
 * The CLI's model-taking commands on a TensorFlow.js graph model folder (the reference CNN trained here, written in
 * the converter's form, test/helpers/graphModel.ts), run from the built bundle as a user would:
 * gccs eval and attack give the LayersModel's figures on MNIST test images 8000–8999, latent's z is
 * the graph's logits, evaluate runs its quick preset, and an output onto the model's preprocessing
 * sidecar is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '../../src/core/tf';
import { loadDataset } from '../../src/core/data';
import { loadModelDir } from '../../src/core/io/modelDir';
import { writeGraphModelOf } from '../helpers/graphModel';
import { MNIST, noMnist, trainedMnistCnn } from '../helpers/trainedMnist';

const CLI = path.resolve(__dirname, '../../dist/cli.js');
let LAYERS = '';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-graphmodel-cli-'));
const GRAPH = path.join(dir, 'mnist-ce-graph');
const DATA = ['--dataset', 'mnist', '--data', MNIST, '--test-range', '8000:9000'];

// The default backend's engine (the graph and the LayersModel give identical figures on it, as on cpu), but not
// --backend auto: a native TensorFlow installed on the machine would be picked instead.
const BACKEND = ['--backend', 'wasm'];

function gccs(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args, ...BACKEND], { encoding: 'utf8', timeout: 600_000, cwd: dir });
  assert.equal(result.status, 0, result.stderr);
  return result;
}

test.before(async () => {
  // The reference CNN trained here on MNIST (models/ is not in git).
  if (noMnist) return;
  LAYERS = trainedMnistCnn();
  writeGraphModelOf((await loadModelDir(LAYERS)).model, GRAPH);
});

test("gccs eval --model <graph model folder>: the LayersModel's accuracy and confusion matrix on MNIST 8000–8999", { skip: noMnist }, () => {
  const [graph, layers] = [GRAPH, LAYERS].map((model) => JSON.parse(gccs('eval', '--model', model, ...DATA, '--json').stdout));
  assert.equal(graph.count, 1000);
  assert.equal(graph.accuracy, layers.accuracy);
  assert.deepEqual(graph.confusion, layers.confusion);
});

test("gccs attack --model <graph model folder>: PGD gives the LayersModel's robust accuracy, sample by sample", { skip: noMnist }, () => {
  const attack = (model: string) =>
    JSON.parse(gccs('attack', '--model', model, ...DATA, '--count', '100', '--attack', 'pgd', '--eps', '0.1', '--json').stdout).results[0];
  const [graph, layers] = [attack(GRAPH), attack(LAYERS)];
  assert.equal(graph.count, 100);
  assert.equal(graph.cleanAccuracy, layers.cleanAccuracy);
  assert.equal(graph.accuracy, layers.accuracy);
  assert.equal(graph.robust, layers.robust, 'the same samples survive');
  assert.ok(graph.accuracy < graph.cleanAccuracy, 'PGD at ε = 0.1 succeeds on some samples');
});

test("gccs latent --model <graph model folder>: z is the graph's logits (the LayersModel's, computed here)", { skip: noMnist }, async () => {
  const out = path.join(dir, 'latent.json');
  gccs('latent', '--model', GRAPH, ...DATA, '--count', '5', '--output', out);
  const latent = JSON.parse(fs.readFileSync(out, 'utf8')) as { dims: number; samples: { z: number[] }[] };
  assert.equal(latent.dims, 10);
  const test = (await loadDataset({ kind: 'mnist', path: MNIST })).test!;
  const images = tf.tensor4d(
    Float32Array.from(test.pixels.subarray(8000 * 784, 8005 * 784), (v) => v / 255),
    [5, 28, 28, 1],
  );
  const logits = ((await loadModelDir(LAYERS)).model.predict(images) as tf.Tensor).arraySync() as number[][];
  latent.samples.forEach((sample, i) =>
    sample.z.forEach((v, k) => assert.ok(Math.abs(v - logits[i][k]) < 1e-5, `sample ${i} logit ${k}: ${v} vs ${logits[i][k]}`)),
  );
});

test('gccs evaluate --model <graph model folder>: the quick preset runs every attack and the diagnostics see logits', { skip: noMnist }, () => {
  const out = path.join(dir, 'evaluate.json');
  gccs('evaluate', '--model', GRAPH, '--dataset', 'synthetic', '--preset', 'quick', '--eps', '0.1', '--count', '10', '--out', out);
  const saved = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.equal(saved.count, 10);
  assert.equal(saved.eps[0].runs.length, 5);
  const outputs = saved.diagnostics.find((d: { id: string }) => d.id === 'outputs');
  assert.ok(outputs?.ok && /the outputs are logits/.test(outputs.message), `outputs diagnostic: ${JSON.stringify(outputs)}`);
});

test("gccs latent --output onto the graph model's preprocessing sidecar is refused in one line, the sidecar untouched", { skip: noMnist }, () => {
  const sidecar = path.join(GRAPH, 'model.json.gccs.json');
  fs.writeFileSync(sidecar, JSON.stringify({ range: [0, 1] }));
  const before = fs.readFileSync(sidecar);
  const run = spawnSync(
    process.execPath,
    [CLI, 'latent', '--model', GRAPH, '--dataset', 'synthetic', '--count', '5', '--output', sidecar, ...BACKEND],
    { encoding: 'utf8', timeout: 600_000 },
  );
  assert.equal(run.status, 2, run.stderr);
  const errors = run.stderr.split('\n').filter((line) => line.startsWith('gccs: error:'));
  assert.deepEqual(errors, [`gccs: error: flag --output: ${sidecar} is the same file as the input --model (${sidecar}): write to another file`]);
  assert.deepEqual(fs.readFileSync(sidecar), before);
  fs.rmSync(sidecar);
});
