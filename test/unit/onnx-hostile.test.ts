/**
 * Hostile .onnx files are refused before anything is allocated, each with one line naming the
 * file and the problem: external data leaving the model folder, an initializer claiming 10⁹
 * elements, a truncated protobuf, an unknown op, a subgraph attribute.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../src/core/errors';
import { loadModelDir } from '../../src/core/io/modelDir';
import { MODEL_PROTO } from '../../src/core/io/onnx/schema';

const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'gccs-onnx-hostile-'));
const modelFolder = path.join(folder, 'model');
fs.mkdirSync(modelFolder);
fs.writeFileSync(path.join(folder, 'secret.bin'), Buffer.alloc(64, 7));

const input = { name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 1 }, { dim_value: 1 }, { dim_value: 2 }, { dim_value: 2 }] } } } };
const output = { name: 'y', type: { tensor_type: { elem_type: 1 } } };

function writeModel(name: string, graph: Record<string, unknown>): string {
  const file = path.join(modelFolder, name);
  const message = MODEL_PROTO.fromObject({ ir_version: 7, opset_import: [{ domain: '', version: 13 }], graph: { input: [input], output: [output], ...graph } });
  fs.writeFileSync(file, MODEL_PROTO.encode(message).finish());
  return file;
}

const flatten = { op_type: 'Flatten', input: ['x'], output: ['y'], name: 'flat' };

async function refused(file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(loadModelDir(file), (error: Error) => {
    assert.ok(error instanceof UserError, `not a UserError: ${error.stack}`);
    assert.ok(!error.message.includes('\n'), `more than one line: ${error.message}`);
    assert.ok(error.message.startsWith(`${file}: `), `does not name the file: ${error.message}`);
    assert.match(error.message, pattern);
    return true;
  });
}

test('a well-formed hand-built model loads (the hostile ones below differ from it in one thing)', async () => {
  const file = writeModel('good.onnx', { node: [flatten] });
  const { model } = await loadModelDir(file);
  assert.deepEqual(model.outputs[0].shape, [null, 4]);
  model.dispose();
});

test('external data outside the model folder is refused', async () => {
  for (const location of ['../secret.bin', '/etc/passwd', 'file:///etc/passwd']) {
    const weight = { name: 'w', dims: [4], data_type: 1, data_location: 1, external_data: [{ key: 'location', value: location }] };
    await refused(writeModel('escape.onnx', { node: [flatten], initializer: [weight] }), /leaves the model folder|absolute path|is a URL/);
  }
  // A symlink inside the folder that points outside it.
  fs.symlinkSync(path.join(folder, 'secret.bin'), path.join(modelFolder, 'link.bin'));
  const weight = { name: 'w', dims: [4], data_type: 1, data_location: 1, external_data: [{ key: 'location', value: 'link.bin' }] };
  await refused(writeModel('link.onnx', { node: [flatten], initializer: [weight] }), /outside the model folder/);
});

test('external data beyond the end of its file is refused', async () => {
  fs.writeFileSync(path.join(modelFolder, 'short.bin'), Buffer.alloc(8));
  const weight = { name: 'w', dims: [4], data_type: 1, data_location: 1, external_data: [{ key: 'location', value: 'short.bin' }] };
  await refused(writeModel('short.onnx', { node: [flatten], initializer: [weight] }), /claims 16 bytes .* which has 8 bytes/);
});

test('an initializer claiming 10⁹ elements is refused before allocation, and one whose data is short too', async () => {
  const before = process.memoryUsage().rss;
  const huge = { name: 'w', dims: [1_000_000_000], data_type: 1, raw_data: Buffer.alloc(4) };
  await refused(writeModel('huge.onnx', { node: [flatten], initializer: [huge] }), /claims 1,000,000,000 elements .*ONNX_LIMITS\.tensorBytes/);
  assert.ok(process.memoryUsage().rss - before < 200 * 1024 * 1024, 'memory grew by more than 200 MB');
  const short = { name: 'w', dims: [1000, 1000], data_type: 1, raw_data: Buffer.alloc(4) };
  await refused(writeModel('mismatch.onnx', { node: [flatten], initializer: [short] }), /dims \[1000,1000\] \(1000000 elements\) but 4 bytes of data/);
});

test('a truncated protobuf is refused', async () => {
  const whole = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'onnx', 'resnet.onnx'));
  const file = path.join(modelFolder, 'truncated.onnx');
  fs.writeFileSync(file, whole.subarray(0, Math.floor(whole.length / 2)));
  await refused(file, /not a readable ONNX protobuf/);
});

test('an unknown op is refused naming the op, its node and the supported ones', async () => {
  const file = writeModel('unknown.onnx', { node: [{ op_type: 'FancyOp', input: ['x'], output: ['y'], name: 'mystery' }] });
  await refused(file, /node "mystery" uses op "FancyOp", which the reader does not support \(supported: Abs, Add, .*Conv, /);
});

test('a subgraph attribute is refused', async () => {
  const file = writeModel('subgraph.onnx', { node: [{ ...flatten, attribute: [{ name: 'then_branch', type: 5 }] }] });
  await refused(file, /subgraph attribute "then_branch"/);
});
