/**
 * The ops a graph model may use, each with its attributes checked and the shape of its output
 * inferred from its inputs' (one image, batch 1), so that a graph asking for more memory than
 * GRAPH_MODEL_LIMITS allows is refused before TensorFlow.js runs anything. These are the ops
 * tensorflowjs_converter emits for Keras and SavedModel classifiers (CNNs, MLPs, ResNets,
 * MobileNets); the converter's own executor runs them (model.ts). No TensorFlow.js here.
 */
import { UserError } from '../../errors';
import { DATA_LIMITS, GRAPH_MODEL_LIMITS } from '../../limits';
import { quote } from '../modelFolder';

/** An attribute of a node as the converter writes it: GraphDef's AttrValue as JSON (strings base64). */
export interface AttrValue {
  s?: unknown;
  i?: unknown;
  f?: unknown;
  b?: unknown;
  type?: unknown;
  shape?: unknown;
  list?: { s?: unknown; i?: unknown; f?: unknown };
}

/** A node of the graph, its inputs as the names of the nodes they come from (output 0). */
export interface GraphNode {
  name: string;
  op: string;
  input: string[];
  attr: Record<string, AttrValue>;
}

type Shape = number[];

/** TensorFlow's control-flow ops (and function calls): refused by name, a classifier needs none. */
export const CONTROL_FLOW_OPS = new Set(
  'Enter Exit Merge Switch NextIteration LoopCond While StatelessWhile If StatelessIf Case StatelessCase PartitionedCall StatefulPartitionedCall TensorListReserve TensorArrayV3'.split(
    ' ',
  ),
);

/** What one op's rule sees: its node, its inputs' shapes, the graph's int32 constants. */
class OpContext {
  constructor(
    readonly node: GraphNode,
    readonly shapes: Shape[],
    private readonly ints: Map<string, Int32Array>,
    private readonly failWith: (problem: string) => UserError,
  ) {}

  fail(problem: string): UserError {
    return this.failWith(`node ${quote(this.node.name)} (${this.node.op}): ${problem}`);
  }

  inputs(count: number, most = count): Shape[] {
    if (this.shapes.length < count || this.shapes.length > most)
      throw this.fail(`has ${this.shapes.length} inputs, not ${count === most ? count : `${count} to ${most}`}`);
    return this.shapes;
  }

  /** Input i's values, which must be an int32 Const (shapes, axes, paddings). */
  constant(i: number, what: string): number[] {
    const values = this.ints.get(this.node.input[i]);
    if (!values) throw this.fail(`its ${what} (input ${i}) must be an int32 constant`);
    return [...values];
  }

  string(name: string, fallback?: string): string {
    const s = this.node.attr[name]?.s;
    if (s === undefined && fallback !== undefined) return fallback;
    if (typeof s === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(s)) return Buffer.from(s, 'base64').toString('latin1');
    if (Array.isArray(s) && s.every((c) => Number.isInteger(c) && c >= 0 && c < 256)) return String.fromCharCode(...s);
    throw this.fail(`attribute ${name} must be a string`);
  }

  strings(name: string): string[] {
    const list = this.node.attr[name]?.list?.s ?? [];
    if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) throw this.fail(`attribute ${name} must be a list of strings`);
    return list.map((s) => Buffer.from(s, 'base64').toString('latin1'));
  }

  ints4(name: string, fallback: number[]): number[] {
    const list = this.node.attr[name]?.list?.i ?? fallback;
    const values = Array.isArray(list) ? list.map(Number) : [];
    if (values.length !== fallback.length || !values.every((v) => Number.isInteger(v) && v >= 0 && v <= DATA_LIMITS.imageSide)) {
      throw this.fail(`attribute ${name} must be a list of ${fallback.length} whole numbers from 0 to ${DATA_LIMITS.imageSide}`);
    }
    return values;
  }

  /** A list attribute of whole numbers that may be negative (axes). */
  axes(name: string): number[] {
    const list = this.node.attr[name]?.list?.i ?? [];
    const values = Array.isArray(list) ? list.map(Number) : [NaN];
    if (!values.every(Number.isInteger)) throw this.fail(`attribute ${name} must be a list of whole numbers`);
    return values;
  }

  bool(name: string): boolean {
    const b = this.node.attr[name]?.b ?? false;
    if (typeof b !== 'boolean') throw this.fail(`attribute ${name} must be true or false`);
    return b;
  }

  number(name: string, fallback: number): number {
    const value = this.node.attr[name]?.f ?? this.node.attr[name]?.i ?? fallback;
    const n = Number(value);
    if ((typeof value !== 'number' && typeof value !== 'string') || !Number.isFinite(n)) throw this.fail(`attribute ${name} must be a number`);
    return n;
  }

  /** Only NHWC: TensorFlow.js runs convolutions and pools in no other layout. */
  nhwc(): void {
    const format = this.string('data_format', 'NHWC');
    if (format !== 'NHWC') throw this.fail(`data_format ${quote(format)} is not supported (only NHWC)`);
  }
}

const same = (c: OpContext): Shape => c.inputs(1)[0];

/** NumPy broadcasting of two shapes. */
function broadcast(c: OpContext): Shape {
  const [a, b] = c.inputs(2);
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw c.fail(`cannot broadcast shapes ${quote(a)} and ${quote(b)}`);
    return Math.max(x, y);
  });
}

/** One spatial side after a window of `size` (dilated) with a stride, in TensorFlow's padding modes. */
function side(c: OpContext, length: number, size: number, stride: number, dilation: number, padding: string, before = 0, after = 0): number {
  if (stride < 1 || dilation < 1) throw c.fail('strides and dilations must be at least 1');
  const window = (size - 1) * dilation + 1;
  const out = padding === 'SAME' ? Math.ceil(length / stride) : Math.floor((length + before + after - window) / stride) + 1;
  if (!(out >= 1)) throw c.fail(`a window of ${window} does not fit a side of ${length}`);
  return out;
}

function padding(c: OpContext, explicitAllowed: boolean): { mode: string; pads: number[] } {
  const mode = c.string('padding');
  if (mode === 'EXPLICIT' && explicitAllowed) return { mode, pads: c.ints4('explicit_paddings', [0, 0, 0, 0, 0, 0, 0, 0]) };
  if (mode !== 'SAME' && mode !== 'VALID') throw c.fail(`padding ${quote(mode)} is not supported (SAME, VALID${explicitAllowed ? ', EXPLICIT' : ''})`);
  return { mode, pads: [0, 0, 0, 0, 0, 0, 0, 0] };
}

/** The activations the converter's fused kernels apply after BiasAdd. */
const FUSED_ACTIVATIONS = ['Relu', 'Relu6', 'Elu', 'LeakyRelu', 'Sigmoid'];

/** A fused op's extra ops: BiasAdd, then at most one activation; its bias (input 2) has `units` values. */
function fused(c: OpContext, units: number): void {
  const ops = c.strings('fused_ops');
  const [first, activation, ...rest] = ops;
  if (first !== 'BiasAdd' || rest.length || (activation !== undefined && !FUSED_ACTIVATIONS.includes(activation))) {
    throw c.fail(`fused_ops ${quote(ops)} are not supported (BiasAdd, then one of ${FUSED_ACTIVATIONS.join(', ')} or none)`);
  }
  const bias = c.shapes[2];
  if (bias.length !== 1 || bias[0] !== units) throw c.fail(`its bias has shape ${quote(bias)}, not [${units}]`);
}

/** Conv2D and depthwise convolutions, fused or not: NHWC input, HWIO (or HW·C·multiplier) filter. */
function convolution(depthwise: boolean, isFused: boolean) {
  return (c: OpContext): Shape => {
    const [x, filter] = c.inputs(isFused ? 3 : 2);
    c.nhwc();
    if (x.length !== 4 || filter.length !== 4) throw c.fail(`takes a 4-dimensional input and filter, not ${quote(x)} and ${quote(filter)}`);
    if (filter[2] !== x[3]) throw c.fail(`its filter ${quote(filter)} is for ${filter[2]} channels but the input has ${x[3]}`);
    const strides = c.ints4('strides', [1, 1, 1, 1]);
    const dilations = c.ints4('dilations', [1, 1, 1, 1]);
    const { mode, pads } = padding(c, true);
    const channels = depthwise ? filter[2] * filter[3] : filter[3];
    if (isFused) fused(c, channels);
    const height = side(c, x[1], filter[0], strides[1], dilations[1], mode, pads[2], pads[3]);
    return [x[0], height, side(c, x[2], filter[1], strides[2], dilations[2], mode, pads[4], pads[5]), channels];
  };
}

function pool(c: OpContext): Shape {
  const x = same(c);
  c.nhwc();
  if (x.length !== 4) throw c.fail(`takes a 4-dimensional input, not ${quote(x)}`);
  const size = c.ints4('ksize', [1, 1, 1, 1]);
  const strides = c.ints4('strides', [1, 1, 1, 1]);
  const { mode } = padding(c, false);
  return [x[0], side(c, x[1], size[1], strides[1], 1, mode), side(c, x[2], size[2], strides[2], 1, mode), x[3]];
}

function matMul(isFused: boolean) {
  return (c: OpContext): Shape => {
    const [a, b] = c.inputs(isFused ? 3 : 2);
    if (a.length !== 2 || b.length !== 2) throw c.fail(`multiplies matrices, not ${quote(a)} and ${quote(b)}`);
    const [m, k] = c.bool('transpose_a') ? [a[1], a[0]] : a;
    const [k2, n] = c.bool('transpose_b') ? [b[1], b[0]] : b;
    if (k !== k2) throw c.fail(`cannot multiply ${quote(a)} by ${quote(b)}`);
    if (isFused) fused(c, n);
    return [m, n];
  };
}

/** An axis of a tensor of `rank` dimensions (negative counts from the end). */
function axis(c: OpContext, value: number, rank: number): number {
  if (!Number.isInteger(value) || value < -rank || value >= rank) throw c.fail(`axis ${value} is outside a tensor of ${rank} dimensions`);
  return value < 0 ? value + rank : value;
}

function reduction(c: OpContext): Shape {
  const [x] = c.inputs(2);
  const axes = new Set(c.constant(1, 'axes').map((a) => axis(c, a, x.length)));
  const keep = c.bool('keep_dims');
  return x.flatMap((dim, i) => (axes.has(i) ? (keep ? [1] : []) : [dim]));
}

function batchNorm(c: OpContext): Shape {
  const [x, ...parameters] = c.inputs(5);
  c.nhwc();
  if (c.bool('is_training')) throw c.fail('is_training is set; only inference graphs are supported');
  if (!parameters.every((p) => p.length === 1 && p[0] === x[x.length - 1]))
    throw c.fail(`its scale, offset, mean and variance must each have ${x[x.length - 1]} values`);
  return x;
}

function reshape(c: OpContext): Shape {
  const [x] = c.inputs(2);
  const target = c.constant(1, 'shape');
  const values = x.reduce((a, b) => a * b, 1);
  const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const free = target.filter((d) => d === -1).length;
  if (free > 1 || target.some((d) => d < -1 || d === 0)) throw c.fail(`cannot reshape to ${quote(target)}`);
  const shape = target.map((d) => (d === -1 ? values / known : d));
  if (!shape.every(Number.isInteger) || shape.reduce((a, b) => a * b, 1) !== values) throw c.fail(`cannot reshape ${quote(x)} (one image) to ${quote(target)}`);
  return shape;
}

function squeeze(c: OpContext): Shape {
  const x = same(c);
  const listed = c.axes('squeeze_dims').map((a) => axis(c, a, x.length));
  const dropped = listed.length ? new Set(listed) : new Set(x.flatMap((d, i) => (d === 1 && i > 0 ? [i] : [])));
  if ([...dropped].some((i) => x[i] !== 1 || i === 0)) throw c.fail(`cannot squeeze ${quote(x)} at ${quote([...dropped])}`);
  return x.filter((_, i) => !dropped.has(i));
}

function expandDims(c: OpContext): Shape {
  const [x] = c.inputs(2);
  const [at, ...rest] = c.constant(1, 'axis');
  if (rest.length) throw c.fail('its axis must be one number');
  const index = axis(c, at, x.length + 1);
  if (index === 0) throw c.fail('cannot add a dimension before the batch');
  return [...x.slice(0, index), 1, ...x.slice(index)];
}

function concat(c: OpContext): Shape {
  const parts = c.shapes.slice(0, -1);
  if (parts.length < 1) throw c.fail('has no tensors to concatenate');
  const [at, ...rest] = c.constant(c.shapes.length - 1, 'axis');
  if (rest.length) throw c.fail('its axis must be one number');
  const index = axis(c, at, parts[0].length);
  if (index === 0) throw c.fail('cannot concatenate along the batch');
  const fits = parts.every((p) => p.length === parts[0].length && p.every((d, i) => i === index || d === parts[0][i]));
  if (!fits) throw c.fail(`cannot concatenate ${parts.map((p) => quote(p)).join(', ')} along axis ${index}`);
  return parts[0].map((d, i) => (i === index ? parts.reduce((sum, p) => sum + p[i], 0) : d));
}

function pad(c: OpContext): Shape {
  const [x] = c.inputs(2, 3);
  const pads = c.constant(1, 'paddings');
  const bad = pads.length !== 2 * x.length || pads.some((p) => p < 0 || p > DATA_LIMITS.imageSide) || pads[0] !== 0 || pads[1] !== 0;
  if (bad) throw c.fail(`paddings ${quote(pads)} must be 2 numbers from 0 to ${DATA_LIMITS.imageSide} per dimension, none on the batch`);
  return x.map((d, i) => d + pads[2 * i] + pads[2 * i + 1]);
}

function transpose(c: OpContext): Shape {
  const [x] = c.inputs(2);
  const perm = c.constant(1, 'perm');
  const valid = perm.length === x.length && perm[0] === 0 && [...perm].sort((a, b) => a - b).every((p, i) => p === i);
  if (!valid) throw c.fail(`perm ${quote(perm)} is not a permutation of ${x.length} axes keeping the batch first`);
  return perm.map((p) => x[p]);
}

function biasAdd(c: OpContext): Shape {
  const [x, bias] = c.inputs(2);
  c.nhwc();
  if (bias.length !== 1 || bias[0] !== x[x.length - 1]) throw c.fail(`its bias has shape ${quote(bias)}, not [${x[x.length - 1]}]`);
  return x;
}

function leakyRelu(c: OpContext): Shape {
  c.number('alpha', 0.2);
  return same(c);
}

const unary = Object.fromEntries(
  'Identity Relu Relu6 Elu Selu Sigmoid Tanh Softmax LogSoftmax Softplus Neg Exp Log Sqrt Rsqrt Square Abs Erf'.split(' ').map((op) => [op, same]),
);
const binary = Object.fromEntries('Add AddV2 Sub Mul RealDiv Maximum Minimum SquaredDifference'.split(' ').map((op) => [op, broadcast]));

/** Every op the reader runs, with its shape rule (Const and Placeholder are the graph's weights and input). */
export const SUPPORTED_OPS: Record<string, ((c: OpContext) => Shape) | null> = {
  Const: null,
  Placeholder: null,
  ...unary,
  LeakyRelu: leakyRelu,
  ...binary,
  BiasAdd: biasAdd,
  Conv2D: convolution(false, false),
  _FusedConv2D: convolution(false, true),
  DepthwiseConv2dNative: convolution(true, false),
  FusedDepthwiseConv2dNative: convolution(true, true),
  MatMul: matMul(false),
  _FusedMatMul: matMul(true),
  MaxPool: pool,
  AvgPool: pool,
  Mean: reduction,
  Max: reduction,
  Sum: reduction,
  FusedBatchNorm: batchNorm,
  FusedBatchNormV3: batchNorm,
  Reshape: reshape,
  Squeeze: squeeze,
  ExpandDims: expandDims,
  ConcatV2: concat,
  Pad: pad,
  PadV2: pad,
  Transpose: transpose,
};

const valuesOf = (shape: Shape) => shape.reduce((a, b) => a * b, 1);

/**
 * The shape of every node's output for one image, in topological order, each within
 * GRAPH_MODEL_LIMITS.tensorValues and all together within graphValues; returns the output's.
 */
export function inferShapes(
  nodes: GraphNode[],
  input: string,
  inputShape: Shape,
  constShapes: Map<string, Shape>,
  ints: Map<string, Int32Array>,
  output: string,
  fail: (problem: string) => UserError,
): Shape {
  const shapes = new Map<string, Shape>();
  let total = 0;
  for (const node of nodes) {
    let shape: Shape;
    if (node.op === 'Const') shape = constShapes.get(node.name)!;
    else if (node.name === input) shape = [1, ...inputShape.slice(1)];
    else {
      const c = new OpContext(
        node,
        node.input.map((name) => shapes.get(name)!),
        ints,
        fail,
      );
      shape = SUPPORTED_OPS[node.op]!(c);
      const values = valuesOf(shape);
      if (values > GRAPH_MODEL_LIMITS.tensorValues) {
        throw c.fail(
          `would make a tensor of shape ${quote(shape)} per image, more than the ${GRAPH_MODEL_LIMITS.tensorValues.toLocaleString('en')} values of GRAPH_MODEL_LIMITS.tensorValues (README › Limits)`,
        );
      }
      total += values;
      if (total > GRAPH_MODEL_LIMITS.graphValues)
        throw c.fail(
          `the graph's tensors up to here hold more than the ${GRAPH_MODEL_LIMITS.graphValues.toLocaleString('en')} values per image of GRAPH_MODEL_LIMITS.graphValues (README › Limits)`,
        );
    }
    shapes.set(node.name, shape);
  }
  return shapes.get(output)!;
}
