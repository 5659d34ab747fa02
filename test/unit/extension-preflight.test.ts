import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GraphBuilder } from '../helpers/graphModel';
import { sampleModelMeta } from '../helpers/modelMeta';
import { folderWriteProblem, modelJsonOf, modelProblem } from '../../src/host/workspace/preflight';

/** A hand-written LayersModel: Dense 4 → 2 (kernel 4×2 + bias 2 float32 = 40 bytes) and its gccs.json. */
function tinyModel(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-preflight-'));
  fs.writeFileSync(
    path.join(dir, 'model.json'),
    JSON.stringify({
      format: 'layers-model',
      modelTopology: {
        class_name: 'Sequential',
        config: { name: 's', layers: [{ class_name: 'Dense', config: { name: 'd', units: 2, batch_input_shape: [null, 4] } }] },
      },
      weightsManifest: [
        {
          paths: ['w.bin'],
          weights: [
            { name: 'd/kernel', shape: [4, 2], dtype: 'float32' },
            { name: 'd/bias', shape: [2], dtype: 'float32' },
          ],
        },
      ],
    }),
  );
  fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.alloc(40));
  fs.writeFileSync(path.join(dir, 'gccs.json'), JSON.stringify(sampleModelMeta({ inputShape: [4], numClasses: 2, classNames: ['a', 'b'] })));
  return dir;
}

test('a complete model has no problem, whichever of its files is named', async () => {
  const dir = tinyModel();
  for (const location of [dir, path.join(dir, 'model.json'), path.join(dir, 'gccs.json')]) {
    assert.equal(modelJsonOf(location), path.join(dir, 'model.json'));
    assert.equal(await modelProblem(location), undefined, location);
  }
});

test('each way a model folder can be broken is one line naming the file and the problem', async () => {
  const cases: [string, (dir: string) => void, RegExp][] = [
    ['missing model.json', (dir) => fs.rmSync(path.join(dir, 'model.json')), /model\.json: the file is missing$/],
    ['corrupt model.json', (dir) => fs.writeFileSync(path.join(dir, 'model.json'), '{"format": "layers-mo'), /model\.json: not valid JSON/],
    ['a graph model', (dir) => fs.writeFileSync(path.join(dir, 'model.json'), '{"format": "graph-model"}'), /model\.json: a TensorFlow\.js graph model/],
    ['missing shard', (dir) => fs.rmSync(path.join(dir, 'w.bin')), /model\.json: weight file "w\.bin" is missing$/],
    [
      'truncated shard',
      (dir) => fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.alloc(20)),
      /model\.json: the weight file "w\.bin" holds 20 bytes but its weights need 40 \(truncated, or from another model\)$/,
    ],
    ['corrupt gccs.json', (dir) => fs.writeFileSync(path.join(dir, 'gccs.json'), '{'), /gccs\.json: not valid JSON/],
    [
      'gccs.json without inputShape',
      (dir) => fs.writeFileSync(path.join(dir, 'gccs.json'), JSON.stringify({ ...sampleModelMeta(), inputShape: undefined })),
      /gccs\.json: missing "inputShape"$/,
    ],
    [
      'wrong input shape',
      (dir) => fs.writeFileSync(path.join(dir, 'gccs.json'), JSON.stringify(sampleModelMeta({ inputShape: [28, 28, 1], numClasses: 2 }))),
      /model\.json: the model takes inputs of shape \[4\] but .*gccs\.json says \[28, 28, 1\]$/,
    ],
  ];
  for (const [name, damage, expected] of cases) {
    const dir = tinyModel();
    damage(dir);
    const problem = await modelProblem(dir);
    assert.ok(problem, name);
    assert.ok(problem.startsWith(dir), `${name}: names the file (${problem})`);
    assert.match(problem, expected, name);
    assert.doesNotMatch(problem, /\n/, name);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the preflight reads on fs.promises: the event loop runs on while a large graph model is read', async () => {
  // 32×32×3 pixels → dense 1024 → 10 logits: 12 MiB of weights in 4 MiB shards, all read by the checks.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-preflight-large-'));
  const float = { type: 'DT_FLOAT' };
  const matMul = { T: float, transpose_a: { b: false }, transpose_b: { b: false } };
  const g = new GraphBuilder('x', [32, 32, 3]);
  const flat = g.op('flat', 'Reshape', ['x', g.constant('shape', [2], new Int32Array([-1, 3072]))], { T: float, Tshape: { type: 'DT_INT32' } });
  const hidden = g.op('hidden', 'MatMul', [flat, g.constant('w1', [3072, 1024], new Float32Array(3072 * 1024).fill(0.001))], matMul);
  g.write(dir, g.op('logits', 'MatMul', [hidden, g.constant('w2', [1024, 10], new Float32Array(10240).fill(0.01))], matMul));
  // Counts the turns of the event loop (its check phase) until the preflight is done: a synchronous read allows none.
  let turns = 0;
  let done = false;
  const turn = () => {
    if (done) return;
    turns++;
    setImmediate(turn);
  };
  setImmediate(turn);
  const problem = await modelProblem(dir);
  done = true;
  assert.equal(problem, undefined);
  assert.ok(turns > 0, 'a setImmediate callback ran before the preflight finished');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a writable results folder is created and left without the probe file', () => {
  const folder = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-results-')), 'a', 'b');
  assert.equal(folderWriteProblem(folder), undefined);
  assert.deepEqual(fs.readdirSync(folder), []);
});

test('a results folder that cannot be written names the folder and the reason', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-results-')), 'a-file');
  fs.writeFileSync(file, '');
  assert.match(folderWriteProblem(path.join(file, 'results'))!, /a-file\/results cannot be written: a file is in the way \(ENOTDIR\)$/);
  // Even root may not create folders in /sys (tests run as root here, where chmod does not stop writes).
  assert.equal(folderWriteProblem('/sys/gccs-results'), '/sys/gccs-results cannot be written: permission denied (EPERM)');
});
