/**
 * Every op the ONNX reader runs (src/core/io/onnx/ops.ts), one tiny graph per form: exported by
 * PyTorch with the attributes and edge cases the reader claims (bench/onnx_op_fixtures.py writes
 * test/fixtures/onnx/ops/), outputs and input gradients against PyTorch's in float64 on the same
 * float32 weights and inputs. Tolerance: the largest difference within 2e-6 of the reference's
 * scale (max(1, largest |value|)), float32's rounding over a few dozen terms.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '../../src/core/tf';
import { UserError } from '../../src/core/errors';
import { graphConstants, runGraph } from '../../src/core/io/onnx/model';
import { OPS } from '../../src/core/io/onnx/ops';
import { readOnnxFile } from '../../src/core/io/onnx/parse';

const FOLDER = path.join(__dirname, '..', 'fixtures', 'onnx', 'ops');
const TOLERANCE = 2e-6;

interface Case { name: string; opset: number; ops: string[]; inputShape: number[]; input: string; outputShape: number[]; output: string; gradient: string }
interface Refused { name: string; error: string }
const { cases, refused } = JSON.parse(fs.readFileSync(path.join(FOLDER, 'cases.json'), 'utf8')) as { cases: Case[]; refused: Refused[] };

function decode(base64: string, type: typeof Float32Array | typeof Float64Array): number[] {
  const bytes = Buffer.from(base64, 'base64');
  return Array.from(new type(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)));
}

/** The largest difference, over the reference's scale (at least 1). */
function scaledError(ours: ArrayLike<number>, reference: number[]): number {
  assert.equal(ours.length, reference.length);
  let worst = 0;
  let scale = 1;
  reference.forEach((r, i) => {
    worst = Math.max(worst, Math.abs(ours[i] - r));
    scale = Math.max(scale, Math.abs(r));
  });
  return worst / scale;
}

test('every op the reader runs has a per-op fixture', () => {
  const covered = new Set(cases.flatMap((c) => c.ops));
  assert.deepEqual(Object.keys(OPS).filter((op) => !covered.has(op)), []);
});

for (const fixture of cases) {
  test(`ONNX op fixture ${fixture.name} (opset ${fixture.opset}: ${fixture.ops.join(', ')}): output and input gradient equal PyTorch's`, (t) => {
    const graph = readOnnxFile(path.join(FOLDER, `${fixture.name}.onnx`));
    const constants = graphConstants(graph);
    const x = tf.tensor(decode(fixture.input, Float32Array), fixture.inputShape);
    const output = runGraph(graph, constants, x);
    assert.deepEqual(output.shape, fixture.outputShape);
    const outputError = scaledError(output.dataSync(), decode(fixture.output, Float64Array));
    // The input gradient of Σ w·output, w from −1 to 1 as bench/onnx_op_fixtures.py weights it.
    const n = output.size;
    const weights = tf.tensor(Array.from({ length: n }, (_, i) => -1 + (2 * i) / Math.max(n - 1, 1)), fixture.outputShape);
    const gradient = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(runGraph(graph, constants, input), weights)))(x);
    const gradientError = scaledError(gradient.dataSync(), decode(fixture.gradient, Float64Array));
    t.diagnostic(`${fixture.name}: output ${outputError.toExponential(1)}, gradient ${gradientError.toExponential(1)}`);
    assert.ok(outputError < TOLERANCE, `output differs by ${outputError} of its scale`);
    assert.ok(gradientError < TOLERANCE, `gradient differs by ${gradientError} of its scale`);
    tf.dispose([x, output, weights, gradient, ...constants.values()]);
  });
}

for (const { name, error } of refused) {
  test(`ONNX op fixture ${name} is refused in one line naming the file, the node and the problem`, () => {
    const file = path.join(FOLDER, `${name}.onnx`);
    const graph = readOnnxFile(file);
    const [, , ...shape] = graph.input.dims;
    assert.throws(() => runGraph(graph, graphConstants(graph), tf.zeros([1, graph.input.dims[1], ...shape])), (thrown: Error) => {
      assert.ok(thrown instanceof UserError, `not a UserError: ${thrown.stack}`);
      assert.ok(!thrown.message.includes('\n'));
      assert.ok(thrown.message.startsWith(`${file}: node `), thrown.message);
      assert.ok(thrown.message.includes(error), thrown.message);
      return true;
    });
  });
}
