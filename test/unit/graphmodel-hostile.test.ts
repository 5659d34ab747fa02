/**
 * Hostile graph models (README › GraphModels, › Limits): each is refused by loadModelDir with one
 * line naming model.json and the problem, before anything is allocated or run, and nothing outside
 * the model's folder is read: weight paths leaving the folder, a weight claiming 10⁹ values, shards
 * cut short, unknown and control-flow ops, functions, cycles, dangling inputs, and graphs of a few
 * nodes whose tensors would take terabytes (a tensor concatenated with itself, broadcasts, paddings).
 */
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
// The module object itself (not a namespace copy), so that mock.method reaches the engine's calls.
import fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../src/core/errors';
import { saveLayersModel } from '../../src/core/io/layersModelFiles';
import { loadModelDir } from '../../src/core/io/modelDir';
import { modelProblem } from '../../src/host/workspace/preflight';
import { GraphBuilder, GraphModelJson, GraphNodeJson, b64, ints } from '../helpers/graphModel';
import { linearModel } from '../helpers/linearModel';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-graphmodel-hostile-'));
const SECRET = 'graph-model-secret-7f3a';
fs.writeFileSync(path.join(root, 'secret.bin'), SECRET.repeat(100));
const FLOAT = { type: 'DT_FLOAT' };

/** A valid small graph model: 8×8×1 input, a 3×3 convolution with bias and ReLU, flatten, dense to 3 logits. */
function validModel(dir: string): GraphModelJson {
  const g = new GraphBuilder('x', [8, 8, 1]);
  const kernel = g.constant('k', [3, 3, 1, 2], new Float32Array(18).fill(0.1));
  const bias = g.constant('b', [2], new Float32Array([0.1, -0.1]));
  const conv = g.op('conv', '_FusedConv2D', ['x', kernel, bias], {
    T: FLOAT,
    strides: ints(1, 1, 1, 1),
    dilations: ints(1, 1, 1, 1),
    padding: { s: b64('VALID') },
    data_format: { s: b64('NHWC') },
    fused_ops: { list: { s: [b64('BiasAdd'), b64('Relu')] } },
    num_args: { i: '1' },
  });
  const flat = g.op('flat', 'Reshape', [conv, g.constant('shape', [2], new Int32Array([-1, 72]))], { T: FLOAT, Tshape: { type: 'DT_INT32' } });
  const logits = g.op('logits', 'MatMul', [flat, g.constant('w', [72, 3], new Float32Array(216).fill(0.01))], {
    T: FLOAT,
    transpose_a: { b: false },
    transpose_b: { b: false },
  });
  return g.write(dir, logits);
}

let count = 0;
/** A folder holding the valid model changed by `mutate` (which may rewrite model.json's content or files). */
function hostile(mutate: (json: GraphModelJson, dir: string) => GraphModelJson | string | void): string {
  const dir = path.join(root, `case-${++count}`);
  const json = validModel(dir);
  const changed = mutate(json, dir) ?? json;
  fs.writeFileSync(path.join(dir, 'model.json'), typeof changed === 'string' ? changed : JSON.stringify(changed));
  return dir;
}

async function refused(dir: string, problem: RegExp): Promise<void> {
  const rss = process.memoryUsage().rss;
  // The extension's preflight (no TensorFlow.js) gives the engine's own line, before anything is asked.
  const preflight = await modelProblem(dir);
  await assert.rejects(loadModelDir(dir), (error: Error) => {
    assert.equal(preflight, error.message, 'the preflight names the same problem');
    assert.ok(error instanceof UserError, `a UserError, not ${error.stack}`);
    assert.ok(!error.message.includes('\n'), `one line: ${error.message}`);
    assert.ok(error.message.startsWith(path.join(dir, 'model.json')), `names the file: ${error.message}`);
    assert.match(error.message, problem);
    assert.ok(!error.message.includes(SECRET), 'no byte of a file outside the folder');
    return true;
  });
  // Refused before allocation: a refusal holds no more than a few MB (the valid model is 1 kB).
  assert.ok(process.memoryUsage().rss - rss < 64 * 1024 * 1024, `memory grew by ${(process.memoryUsage().rss - rss) / 1e6} MB`);
}

const node = (json: GraphModelJson, name: string) => json.modelTopology.node.find((n) => n.name === name)!;
const addNodes = (json: GraphModelJson, ...nodes: GraphNodeJson[]) => void json.modelTopology.node.push(...nodes);
/** The output read from `name` instead of the logits (the graph's one output stays the logits otherwise). */
const outputFrom = (json: GraphModelJson, name: string) => (node(json, 'Identity').input = [name]);

test('the valid model loads (the hostile cases below each change one thing)', async () => {
  const dir = hostile(() => undefined);
  assert.equal(await modelProblem(dir), undefined, 'the preflight finds nothing');
  assert.equal(await modelProblem(path.join(dir, 'model.json.gccs.json')), undefined, 'named by its sidecar, the model is its folder');
  const { model } = await loadModelDir(dir);
  assert.deepEqual(model.outputs[0].shape, [null, 3]);
  model.dispose();
});

test('model.json is opened once per load and per preflight, whatever its format (its "format" is read from the same parse)', async () => {
  const layers = path.join(root, 'layers-once');
  await saveLayersModel(linearModel([[1], [-1], [0.5]], [0, 0, 0], 1), layers);
  for (const dir of [hostile(() => undefined), layers]) {
    const modelJson = fs.realpathSync(path.join(dir, 'model.json'));
    // The engine reads with fs.openSync, the preflight with fs.promises.open (the host's event loop runs on).
    const openSync = mock.method(fs, 'openSync');
    const openAsync = mock.method(fs.promises, 'open');
    const opens = (calls: { arguments: unknown[] }[]) => calls.filter((call) => call.arguments[0] === modelJson).length;
    try {
      (await loadModelDir(dir)).model.dispose();
      assert.equal(await modelProblem(dir), undefined);
      assert.equal(opens(openSync.mock.calls), 1, `${dir}: model.json opened ${opens(openSync.mock.calls)} times by loadModelDir`);
      assert.equal(opens(openAsync.mock.calls), 1, `${dir}: model.json opened ${opens(openAsync.mock.calls)} times by modelProblem`);
    } finally {
      openSync.mock.restore();
      openAsync.mock.restore();
    }
  }
});

const CASES: [string, (json: GraphModelJson, dir: string) => GraphModelJson | string | void, RegExp][] = [
  [
    'a weight path leaving the folder',
    (json) => void (json.weightsManifest[0].paths = ['../secret.bin']),
    /weight file "\.\.\/secret\.bin" leaves the model folder/,
  ],
  ['an absolute weight path', (json) => void (json.weightsManifest[0].paths = [path.join(root, 'secret.bin')]), /is an absolute path/],
  ['a URL as weight path', (json) => void (json.weightsManifest[0].paths = ['https://example.com/w.bin']), /is a URL/],
  [
    'a symlink out of the folder',
    (json, dir) => {
      fs.symlinkSync(path.join(root, 'secret.bin'), path.join(dir, 'link.bin'));
      json.weightsManifest[0].paths = ['link.bin'];
    },
    /resolves to a file outside the model folder/,
  ],
  [
    'a weight claiming 10⁹ values',
    (json) => void (json.weightsManifest[0].weights[0].shape = [1000, 1000, 1000]),
    /declares 3814\.7 MiB, more than the 512\.0 MiB cap on weights \(MODEL_LIMITS\.weightBytes/,
  ],
  [
    'shards shorter than the manifest says',
    (json, dir) => fs.truncateSync(path.join(dir, json.weightsManifest[0].paths[0]), 100),
    /hold 100 bytes but their weights need \d+ \(truncated/,
  ],
  [
    'a weight of an unknown dtype',
    (json) => void ((json.weightsManifest[0].weights[0] as { dtype: string }).dtype = 'string'),
    /weightsManifest\[0\]\.weights\[0\]\.dtype/,
  ],
  [
    'an unknown op',
    (json) => void (node(json, 'logits').op = 'Unique'),
    /node "logits" uses op "Unique", which the reader does not support \(supported: Const, Placeholder, Identity/,
  ],
  [
    'a control-flow op',
    (json) => void (node(json, 'flat').op = 'Switch'),
    /node "flat" uses the control-flow op "Switch", which a classifier does not need; refused/,
  ],
  ['a while loop', (json) => void (node(json, 'flat').op = 'While'), /control-flow op "While"/],
  [
    'functions in the library',
    (json) => void (json.modelTopology.library = { function: [{ signature: { name: 'f' } }] }),
    /has functions \(modelTopology\.library\), i\.e\. control flow/,
  ],
  ['a cycle', (json) => void (node(json, 'conv').input![0] = 'logits'), /the graph has a cycle through node "conv"/],
  [
    'an input from no node',
    (json) => void (node(json, 'flat').input![0] = 'nowhere'),
    /node "flat" \(Reshape\) reads "nowhere", which is no node of the graph/,
  ],
  ['a node named __proto__', (json) => void (node(json, 'flat').name = '__proto__'), /modelTopology\.node\[\d+\]\.name/],
  ['two nodes of one name', (json) => void (node(json, 'flat').name = 'conv'), /two nodes are named "conv"/],
  ['a Const without a weight', (json) => void json.weightsManifest[0].weights.pop(), /Const node "w" has no weight in weightsManifest/],
  [
    'two inputs',
    (json) => addNodes(json, { name: 'y', op: 'Placeholder', attr: { dtype: FLOAT } }),
    /the graph has 2 inputs \(Placeholder nodes\); a classifier has one/,
  ],
  [
    'a fixed batch',
    (json) => void (node(json, 'x').attr!.shape = { shape: { dim: [1, 8, 8, 1].map((size) => ({ size: String(size) })) } }),
    /takes a fixed batch of "1"/,
  ],
  ['a second output of a node', (json) => void (node(json, 'flat').input![0] = 'conv:1'), /reads output 1 of "conv"/],
  [
    'an unsupported fused activation',
    (json) => void (node(json, 'conv').attr!.fused_ops = { list: { s: [b64('BiasAdd'), b64('Gelu')] } }),
    /fused_ops \["BiasAdd","Gelu"\] are not supported/,
  ],
  ['NCHW convolutions', (json) => void (node(json, 'conv').attr!.data_format = { s: b64('NCHW') }), /data_format "NCHW" is not supported/],
  [
    'a reshape that does not fit',
    (json, dir) => {
      const file = path.join(dir, json.weightsManifest[0].paths[0]);
      const bytes = fs.readFileSync(file);
      // The int32 shape constant [-1, 72] sits after the kernel (18 floats) and the bias (2).
      bytes.writeInt32LE(70, 20 * 4 + 4);
      fs.writeFileSync(file, bytes);
    },
    /node "flat" \(Reshape\): cannot reshape \[1,6,6,2\] \(one image\) to \[-1,70\]/,
  ],
  ['no node list', () => JSON.stringify({ format: 'graph-model', modelTopology: {}, weightsManifest: [] }), /a TensorFlow\.js graph model without a node list/],
  ['an initializer graph', (json) => ({ ...json, modelInitializer: { node: [{ name: 'table', op: 'HashTableV2' }] } }) as GraphModelJson, /initializer graph/],
];

for (const [name, mutate, problem] of CASES) {
  test(`refused: ${name}`, async () => refused(hostile(mutate), problem));
}

/** A graph that adds int32 constants (written into a second shard) for the bombs that need them. */
function withConstants(mutate: (json: GraphModelJson) => void, constants: Record<string, number[]>): string {
  return hostile((json, dir) => {
    const shard = 'group2-shard1of1.bin';
    fs.writeFileSync(path.join(dir, shard), Buffer.concat(Object.values(constants).map((v) => Buffer.from(new Int32Array(v).buffer))));
    json.weightsManifest.push({ paths: [shard], weights: Object.entries(constants).map(([n, v]) => ({ name: n, shape: [v.length], dtype: 'int32' })) });
    addNodes(json, ...Object.keys(constants).map((n) => ({ name: n, op: 'Const', attr: { dtype: { type: 'DT_INT32' } } })));
    mutate(json);
  });
}

test('refused before running: a tensor concatenated with itself until it would hold 2^40 values per image', async () => {
  const dir = withConstants(
    (json) => {
      let last = 'flat';
      for (let i = 0; i < 40; i++) {
        addNodes(json, { name: `cat${i}`, op: 'ConcatV2', input: [last, last, 'axis'], attr: { T: FLOAT, N: { i: '2' } } });
        last = `cat${i}`;
      }
      outputFrom(json, last);
    },
    { axis: [1] },
  );
  await refused(
    dir,
    /node "cat19" \(ConcatV2\): would make a tensor of shape \[1,75497472\] per image, more than the 67,108,864 values of GRAPH_MODEL_LIMITS\.tensorValues/,
  );
});

test('refused before running: a broadcast outer product of the features with themselves, three times', async () => {
  const dir = withConstants(
    (json) => {
      addNodes(
        json,
        { name: 'col', op: 'ExpandDims', input: ['flat', 'one'], attr: { T: FLOAT } },
        { name: 'row', op: 'ExpandDims', input: ['flat', 'two'], attr: { T: FLOAT } },
        { name: 'outer', op: 'Mul', input: ['col', 'row'], attr: { T: FLOAT } },
        { name: 'flat2', op: 'Reshape', input: ['outer', 'shape2'], attr: { T: FLOAT } },
        { name: 'col2', op: 'ExpandDims', input: ['flat2', 'one'], attr: { T: FLOAT } },
        { name: 'row2', op: 'ExpandDims', input: ['flat2', 'two'], attr: { T: FLOAT } },
        { name: 'outer2', op: 'Mul', input: ['col2', 'row2'], attr: { T: FLOAT } },
        { name: 'flat3', op: 'Reshape', input: ['outer2', 'shape3'], attr: { T: FLOAT } },
        { name: 'col3', op: 'ExpandDims', input: ['flat3', 'one'], attr: { T: FLOAT } },
        { name: 'row3', op: 'ExpandDims', input: ['flat3', 'two'], attr: { T: FLOAT } },
        { name: 'outer3', op: 'Mul', input: ['col3', 'row3'], attr: { T: FLOAT } },
      );
      outputFrom(json, 'outer3');
    },
    { one: [2], two: [1], shape2: [-1, 5184], shape3: [-1, 5184 * 5184] },
  );
  await refused(dir, /node "outer3" \(Mul\): would make a tensor of shape \[1,26873856,26873856\] per image/);
});

test('refused before running: paddings beyond DATA_LIMITS.imageSide, and many paddings adding up', async () => {
  const big = withConstants(
    (json) => {
      addNodes(json, { name: 'padded', op: 'Pad', input: ['conv', 'pads'], attr: { T: FLOAT } });
      outputFrom(json, 'padded');
    },
    { pads: [0, 0, 100000, 100000, 0, 0, 0, 0] },
  );
  await refused(big, /node "padded" \(Pad\): paddings \[0,0,100000,100000,0,0,0,0\] must be 2 numbers from 0 to 1024 per dimension, none on the batch/);
  const many = withConstants(
    (json) => {
      let last = 'conv';
      for (let i = 0; i < 12; i++) {
        addNodes(json, { name: `pad${i}`, op: 'Pad', input: [last, 'pads'], attr: { T: FLOAT } });
        last = `pad${i}`;
      }
      outputFrom(json, last);
    },
    { pads: [0, 0, 1000, 1000, 1000, 1000, 0, 0] },
  );
  await refused(
    many,
    /node "pad\d+" \(Pad\): (would make a tensor of shape \[1,\d+,\d+,2\] per image, more than|the graph's tensors up to here hold more than)/,
  );
});
