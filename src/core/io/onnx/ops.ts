/**
 * The ONNX operators the reader runs, one small function each, on TensorFlow.js ops so that
 * gradients flow through them. Tensors stay in ONNX's layout (NCHW); convolutions and pooling
 * transpose to NHWC and back around TensorFlow.js's op. Shape arithmetic (Shape, Gather,
 * Unsqueeze, Concat, Cast on int32) runs on small int32 tensors whose values are read when an op
 * needs them as a shape: they depend only on static shapes, never on pixel values.
 */
import * as tf from '../../tf';
import type { AttributeValue, OnnxNode } from './parse';
import type { OnnxOp } from './check';

export interface OpContext {
  node: OnnxNode;
  opset: number;
}

type Op = (inputs: (tf.Tensor | undefined)[], context: OpContext) => tf.Tensor | tf.Tensor[];

/** A problem in one node's attributes or inputs; the graph runner adds the file and node. */
export class OpError extends Error {}

type Widened<T> = T extends number ? number : T extends string ? string : T;

function attr<T extends AttributeValue>(context: OpContext, name: string, fallback: T): Widened<T> {
  return ((context.node.attributes.get(name) as T | undefined) ?? fallback) as Widened<T>;
}

function required(inputs: (tf.Tensor | undefined)[], index: number): tf.Tensor {
  const input = inputs[index];
  if (!input) throw new OpError(`input ${index + 1} is missing`);
  return input;
}

/** The values of a small int32/float tensor used as a shape, an axis list or a scalar. */
function values(tensor: tf.Tensor): number[] {
  return Array.from(tensor.dataSync());
}

function axis(value: number, rank: number): number {
  return value < 0 ? value + rank : value;
}

const toNHWC = (x: tf.Tensor) => tf.transpose(x, [0, 2, 3, 1]);
const toNCHW = (x: tf.Tensor) => tf.transpose(x, [0, 3, 1, 2]);

/** ONNX pads [top, left, bottom, right] (or auto_pad) → explicit NHWC padding, for a 2-D window. */
function windowPadding(context: OpContext, inputHW: number[], kernel: number[], strides: number[], dilations: number[]): [number, number][] {
  const autoPad = attr(context, 'auto_pad', 'NOTSET');
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    return inputHW.map((size, i) => {
      const out = Math.ceil(size / strides[i]);
      const total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size);
      const small = Math.floor(total / 2);
      return autoPad === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
    });
  }
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') throw new OpError(`auto_pad ${autoPad} is not supported`);
  const pads = autoPad === 'VALID' ? [0, 0, 0, 0] : attr(context, 'pads', [0, 0, 0, 0]);
  return [[pads[0], pads[2]], [pads[1], pads[3]]];
}

function spatial(context: OpContext, name: string, fallback: number): number[] {
  return attr(context, name, [fallback, fallback]);
}

function check2d(x: tf.Tensor, op: string): void {
  if (x.rank !== 4) throw new OpError(`${op} takes 4-D NCHW input here, got rank ${x.rank}`);
}

/**
 * A dilated ONNX filter [M, C, kh, kw] as the undilated one with zeros between its taps: TensorFlow.js
 * has no gradient for dilated depthwise convolutions, nor for dilations with strides.
 */
function dilateFilter(w: tf.Tensor, dilations: number[]): tf.Tensor {
  let filter = w;
  dilations.forEach((d, i) => {
    if (d === 1) return;
    const axisIndex = 2 + i;
    const size = filter.shape[axisIndex];
    const paddings = [...filter.shape, 1].map((_, j): [number, number] => (j === axisIndex + 1 ? [0, d - 1] : [0, 0]));
    const spread = tf.pad(tf.expandDims(filter, axisIndex + 1), paddings);
    const shape = [...filter.shape];
    shape[axisIndex] = size * d;
    const begin = shape.map(() => 0);
    const end = [...shape];
    end[axisIndex] = (size - 1) * d + 1;
    filter = tf.slice(tf.reshape(spread, shape), begin, end);
  });
  return filter;
}

const conv: Op = (inputs, context) => {
  const x = required(inputs, 0);
  const dilationsOfNode = spatial(context, 'dilations', 1);
  const w = dilateFilter(required(inputs, 1), dilationsOfNode);
  check2d(x, 'Conv');
  const [outChannels, groupChannels, kh, kw] = w.shape as number[];
  const strides = spatial(context, 'strides', 1) as [number, number];
  const groups = attr(context, 'group', 1);
  // The filter is dilated already: the window is undilated.
  const padding = windowPadding(context, x.shape.slice(2), [kh, kw], strides, [1, 1]);
  const input = tf.pad(toNHWC(x), [[0, 0], ...padding, [0, 0]]);
  const inChannels = x.shape[1] as number;
  // ONNX filters are [out, in, kh, kw]; TensorFlow.js's [kh, kw, in, out].
  const convolve = (part: tf.Tensor, filter: tf.Tensor) => {
    return tf.conv2d(part as tf.Tensor4D, tf.transpose(filter, [2, 3, 1, 0]) as tf.Tensor4D, strides, 'valid', 'NHWC');
  };
  let y: tf.Tensor4D;
  if (groups === 1) {
    y = convolve(input, w);
  } else if (groups === inChannels && groupChannels === 1) {
    // Depthwise: output channel c·m + k is input channel c's k-th filter, as in tf.depthwiseConv2d.
    const filter = tf.transpose(tf.reshape(w, [inChannels, outChannels / inChannels, kh, kw]), [2, 3, 0, 1]) as tf.Tensor4D;
    y = tf.depthwiseConv2d(input as tf.Tensor4D, filter, strides, 'valid', 'NHWC');
  } else {
    const ws = tf.split(w, groups, 0);
    y = tf.concat(tf.split(input, groups, 3).map((part, g) => convolve(part, ws[g])), 3);
  }
  const out = toNCHW(y);
  return inputs[2] ? tf.add(out, tf.reshape(inputs[2], [1, -1, 1, 1])) : out;
};

/** MaxPool and AveragePool: explicit padding (−∞ or 0), ceil_mode as extra bottom/right padding. */
function pool(kind: 'max' | 'avg'): Op {
  return (inputs, context) => {
    const x = required(inputs, 0);
    check2d(x, kind === 'max' ? 'MaxPool' : 'AveragePool');
    const kernel = attr<number[]>(context, 'kernel_shape', []);
    if (kernel.length !== 2) throw new OpError('kernel_shape must have 2 values (2-D pooling)');
    const strides = spatial(context, 'strides', 1);
    const dilations = spatial(context, 'dilations', 1);
    if (dilations.some((d) => d !== 1)) throw new OpError('dilated pooling is not supported');
    const padding = windowPadding(context, x.shape.slice(2), kernel, strides, dilations);
    const explicit = padding.map(([before, after]): [number, number] => [before, after]);
    if (attr(context, 'ceil_mode', 0)) {
      x.shape.slice(2).forEach((size, i) => {
        const padded = size + padding[i][0] + padding[i][1];
        const extra = (Math.ceil((padded - kernel[i]) / strides[i]) * strides[i] + kernel[i]) - padded;
        // A window that would start in the padding alone is dropped (as PyTorch and ONNX do).
        const startsInside = Math.ceil((padded - kernel[i]) / strides[i]) * strides[i] < size + padding[i][0];
        padding[i][1] += startsInside ? extra : 0;
      });
    }
    const nhwc = toNHWC(x);
    const pads: [number, number][] = [[0, 0], ...padding, [0, 0]];
    const window = (t: tf.Tensor) => (kind === 'max'
      ? tf.maxPool(t as tf.Tensor4D, kernel as [number, number], strides as [number, number], 'valid')
      : tf.avgPool(t as tf.Tensor4D, kernel as [number, number], strides as [number, number], 'valid'));
    if (kind === 'max') return toNCHW(window(tf.pad(nhwc, pads, -3.4e38)));
    const sums = window(tf.pad(nhwc, pads));
    // The divisor: the window's cells inside the image, or with count_include_pad inside the padded
    // image; never the cells that ceil_mode adds (as PyTorch).
    const countPads = attr(context, 'count_include_pad', 0) === 1;
    const ceilCells = padding.some((p, i) => p[1] !== explicit[i][1]);
    if (countPads ? !ceilCells : padding.flat().every((p) => p === 0)) return toNCHW(sums);
    const ones = tf.onesLike(nhwc.slice([0, 0, 0, 0], [1, -1, -1, 1]));
    const counted = countPads ? tf.pad(ones, [[0, 0], ...explicit, [0, 0]], 1) : ones;
    const rest: [number, number][] = countPads ? [[0, 0], ...padding.map((p, i): [number, number] => [0, p[1] - explicit[i][1]]), [0, 0]] : pads;
    return toNCHW(tf.div(sums, window(tf.pad(counted, rest))));
  };
}

const gemm: Op = (inputs, context) => {
  const a = required(inputs, 0);
  const b = required(inputs, 1);
  const [transA, transB] = [attr(context, 'transA', 0) === 1, attr(context, 'transB', 0) === 1];
  const product = tf.mul(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, transA, transB), attr(context, 'alpha', 1));
  return inputs[2] ? tf.add(product, tf.mul(inputs[2], attr(context, 'beta', 1))) : product;
};

const batchNormalization: Op = (inputs, context) => {
  const x = required(inputs, 0);
  const shape = [1, -1, ...Array(x.rank - 2).fill(1)];
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => tf.reshape(required(inputs, i), shape));
  const inverse = tf.div(scale, tf.sqrt(tf.add(variance, attr(context, 'epsilon', 1e-5))));
  return tf.add(tf.mul(tf.sub(x, mean), inverse), bias);
};

const softmax: Op = (inputs, context) => {
  const x = required(inputs, 0);
  if (context.opset >= 13) {
    const a = axis(attr(context, 'axis', -1), x.rank);
    if (a === x.rank - 1) return tf.softmax(x);
    const perm = [...Array(x.rank).keys()].map((i) => (i === a ? x.rank - 1 : i === x.rank - 1 ? a : i));
    return tf.transpose(tf.softmax(tf.transpose(x, perm)), perm);
  }
  // Before opset 13: softmax of the input flattened to 2-D at axis (default 1).
  const a = axis(attr(context, 'axis', 1), x.rank);
  const rows = x.shape.slice(0, a).reduce((p, d) => p * d, 1);
  return tf.reshape(tf.softmax(tf.reshape(x, [rows, -1])), x.shape);
};

const flatten: Op = (inputs, context) => {
  const x = required(inputs, 0);
  const a = axis(attr(context, 'axis', 1), x.rank);
  return tf.reshape(x, [x.shape.slice(0, a).reduce((p, d) => p * d, 1), -1]);
};

const reshape: Op = (inputs, context) => {
  const x = required(inputs, 0);
  const allowZero = attr(context, 'allowzero', 0);
  const shape = values(required(inputs, 1)).map((d, i) => (d === 0 && !allowZero ? x.shape[i] : d));
  return tf.reshape(x, shape);
};

const transpose: Op = (inputs, context) => {
  const x = required(inputs, 0);
  return tf.transpose(x, attr(context, 'perm', [...Array(x.rank).keys()].reverse()));
};

const concat: Op = (inputs, context) => {
  const parts = inputs.filter((t): t is tf.Tensor => t !== undefined && t.size > 0);
  return tf.concat(parts, axis(attr(context, 'axis', 0), parts[0].rank));
};

/**
 * Reflect and edge padding, one axis at a time, from slices, reversals and concatenation:
 * tf.mirrorPad's gradient drops what flows back through the reflected cells.
 */
function padFromEdges(x: tf.Tensor, paddings: [number, number][], mode: 'reflect' | 'edge'): tf.Tensor {
  return paddings.reduce((t, [before, after], a) => {
    if (!before && !after) return t;
    const size = t.shape[a];
    if (mode === 'reflect' && Math.max(before, after) >= size) throw new OpError(`reflect padding of ${Math.max(before, after)} on an axis of ${size}`);
    const part = (start: number, length: number) => tf.slice(t, t.shape.map((_, i) => (i === a ? start : 0)), t.shape.map((d, i) => (i === a ? length : d)));
    const repeat = (edge: tf.Tensor, count: number) => tf.tile(edge, t.shape.map((_, i) => (i === a ? count : 1)));
    const head = mode === 'reflect' ? tf.reverse(part(1, before), a) : repeat(part(0, 1), before);
    const tail = mode === 'reflect' ? tf.reverse(part(size - 1 - after, after), a) : repeat(part(size - 1, 1), after);
    return tf.concat([...(before ? [head] : []), t, ...(after ? [tail] : [])], a);
  }, x);
}

const pad: Op = (inputs, context) => {
  const x = required(inputs, 0);
  const pads = context.opset >= 11 ? values(required(inputs, 1)) : attr<number[]>(context, 'pads', []);
  const constant = context.opset >= 11 ? (inputs[2] ? values(inputs[2])[0] : 0) : attr(context, 'value', 0);
  if (pads.length !== 2 * x.rank || pads.some((p) => p < 0)) throw new OpError(`pads ${JSON.stringify(pads)} must be ${2 * x.rank} non-negative numbers`);
  const paddings = x.shape.map((_, i) => [pads[i], pads[i + x.rank]] as [number, number]);
  const mode = attr(context, 'mode', 'constant');
  if (mode === 'constant') return tf.pad(x, paddings, constant);
  if (mode === 'reflect' || mode === 'edge') return padFromEdges(x, paddings, mode);
  throw new OpError(`Pad mode ${mode} is not supported (constant, reflect, edge)`);
};

/** ReduceMean and ReduceSum: axes as an attribute or (ReduceSum from 13, all from 18) an input. */
function reduce(f: (x: tf.Tensor, axes: number[], keepDims: boolean) => tf.Tensor): Op {
  return (inputs, context) => {
    const x = required(inputs, 0);
    const axes = inputs[1] ? values(inputs[1]) : (context.node.attributes.get('axes') as number[] | undefined);
    if (!axes?.length && attr(context, 'noop_with_empty_axes', 0)) return x;
    const all = [...Array(x.rank).keys()];
    return f(x, axes?.length ? axes.map((a) => axis(a, x.rank)) : all, attr(context, 'keepdims', 1) === 1);
  };
}

/** Unsqueeze/Squeeze axes: an attribute before opset 13, an input from 13 on. */
function axesOf(inputs: (tf.Tensor | undefined)[], context: OpContext): number[] | undefined {
  return context.opset >= 13 ? (inputs[1] ? values(inputs[1]) : undefined) : (context.node.attributes.get('axes') as number[] | undefined);
}

const unsqueeze: Op = (inputs, context) => {
  const x = required(inputs, 0);
  const axes = axesOf(inputs, context) ?? [];
  const rank = x.rank + axes.length;
  const shape = [...x.shape];
  for (const a of axes.map((v) => axis(v, rank)).sort((p, q) => p - q)) shape.splice(a, 0, 1);
  return tf.reshape(x, shape);
};

const squeeze: Op = (inputs, context) => {
  const x = required(inputs, 0);
  const axes = axesOf(inputs, context);
  return tf.squeeze(x, axes?.map((a) => axis(a, x.rank)));
};

const gather: Op = (inputs, context) => {
  const x = required(inputs, 0);
  const indices = required(inputs, 1);
  const a = axis(attr(context, 'axis', 0), x.rank);
  const fixed = tf.tensor(values(indices).map((i) => (i < 0 ? i + x.shape[a] : i)), indices.shape, 'int32');
  return tf.gather(x, fixed, a);
};

/**
 * `count` elements of axis `a` from `first`, every `step` (≥ 1): a plain slice, padded to whole
 * steps, reshaped to [count, step] and its first column taken, so that gradients flow
 * (TensorFlow.js has no gradient for stridedSlice).
 */
function everyStep(x: tf.Tensor, a: number, first: number, count: number, step: number): tf.Tensor {
  const along = (value: number, rest: number[]) => rest.map((d, i) => (i === a ? value : d));
  const zeros = x.shape.map(() => 0);
  if (step === 1 || count <= 1) return tf.slice(x, along(first, zeros), along(count, x.shape));
  const span = Math.min(count * step, x.shape[a] - first);
  let part = tf.slice(x, along(first, zeros), along(span, x.shape));
  if (span < count * step) part = tf.pad(part, x.shape.map((_, i): [number, number] => [0, i === a ? count * step - span : 0]));
  const split = [...x.shape.slice(0, a), count, step, ...x.shape.slice(a + 1)];
  const firsts = tf.slice(tf.reshape(part, split), split.map(() => 0), split.map((d, i) => (i === a + 1 ? 1 : d)));
  return tf.reshape(firsts, along(count, x.shape));
}

/** Slice (opset 10 on): starts, ends, axes, steps as inputs; any non-zero step, clamped as ONNX says. */
const slice: Op = (inputs) => {
  let x = required(inputs, 0);
  const starts = values(required(inputs, 1));
  const ends = values(required(inputs, 2));
  const axes = inputs[3] ? values(inputs[3]).map((a) => axis(a, x.rank)) : starts.map((_, i) => i);
  const steps = inputs[4] ? values(inputs[4]) : starts.map(() => 1);
  if (steps.some((s) => s === 0)) throw new OpError('Slice with a step of 0');
  axes.forEach((a, i) => {
    const dim = x.shape[a];
    const at = (v: number) => (v < 0 ? v + dim : v);
    const clamp = (v: number, low: number, high: number) => Math.min(Math.max(v, low), high);
    if (steps[i] > 0) {
      const first = clamp(at(starts[i]), 0, dim);
      const count = Math.max(0, Math.ceil((clamp(at(ends[i]), 0, dim) - first) / steps[i]));
      x = everyStep(x, a, first, count, steps[i]);
    } else {
      // Backwards from start down to end (exclusive): forwards along the reversed axis.
      const start = clamp(at(starts[i]), 0, dim - 1);
      const end = clamp(ends[i] < -dim ? -1 : at(ends[i]), -1, dim - 1);
      x = everyStep(tf.reverse(x, a), a, dim - 1 - start, Math.max(0, Math.ceil((start - end) / -steps[i])), -steps[i]);
    }
  });
  return x;
};

const cast: Op = (inputs, context) => {
  const to = attr(context, 'to', 1);
  return tf.cast(required(inputs, 0), to === 1 || to === 11 ? 'float32' : 'int32');
};

const constant: Op = (_, context) => {
  const value = context.node.attributes.get('value');
  if (value && typeof value === 'object' && 'dims' in value) return tf.tensor(value.data, value.dims, value.dtype);
  for (const [name, dtype] of [['value_float', 'float32'], ['value_floats', 'float32'], ['value_int', 'int32'], ['value_ints', 'int32']] as const) {
    const v = context.node.attributes.get(name);
    if (v !== undefined) return tf.tensor(v as number | number[], undefined, dtype);
  }
  throw new OpError('Constant without a value attribute this reader takes');
};

/** ConstantOfShape: what PyTorch's F.pad exports to build its pads list. */
const constantOfShape: Op = (inputs, context) => {
  const value = context.node.attributes.get('value');
  const tensor = value && typeof value === 'object' && 'dims' in value ? value : { data: [0], dtype: 'float32' as const };
  return tf.fill(values(required(inputs, 0)), tensor.data[0], tensor.dtype);
};

const identity: Op = (inputs) => required(inputs, 0);
const binary = (f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): Op => (inputs) => f(required(inputs, 0), required(inputs, 1));
const unary = (f: (x: tf.Tensor) => tf.Tensor): Op => (inputs) => f(required(inputs, 0));

export const OPS: Record<OnnxOp, Op> = {
  Abs: unary(tf.abs),
  Add: binary(tf.add),
  AveragePool: pool('avg'),
  BatchNormalization: batchNormalization,
  Cast: cast,
  Clip: (inputs, context) => {
    const min = context.opset >= 11 ? (inputs[1] ? values(inputs[1])[0] : -Infinity) : attr(context, 'min', -Infinity);
    const max = context.opset >= 11 ? (inputs[2] ? values(inputs[2])[0] : Infinity) : attr(context, 'max', Infinity);
    return tf.clipByValue(required(inputs, 0), Math.max(min, -3.4e38), Math.min(max, 3.4e38));
  },
  Concat: concat,
  Constant: constant,
  ConstantOfShape: constantOfShape,
  Conv: conv,
  Div: binary(tf.div),
  Dropout: identity,
  Erf: unary(tf.erf),
  Exp: unary(tf.exp),
  Flatten: flatten,
  Gather: gather,
  Gemm: gemm,
  GlobalAveragePool: unary((x) => tf.mean(x, [...Array(x.rank).keys()].slice(2), true)),
  Identity: identity,
  LeakyRelu: (inputs, context) => tf.leakyRelu(required(inputs, 0), attr(context, 'alpha', 0.01)),
  Log: unary(tf.log),
  MatMul: binary((a, b) => tf.matMul(a, b)),
  MaxPool: pool('max'),
  Mul: binary(tf.mul),
  Neg: unary(tf.neg),
  Pad: pad,
  Pow: binary(tf.pow),
  Reciprocal: unary(tf.reciprocal),
  ReduceMean: reduce(tf.mean),
  ReduceSum: reduce(tf.sum),
  Relu: unary(tf.relu),
  Reshape: reshape,
  Shape: unary((x) => tf.tensor1d(x.shape, 'int32')),
  Sigmoid: unary(tf.sigmoid),
  Slice: slice,
  Softmax: softmax,
  Sqrt: unary(tf.sqrt),
  Squeeze: squeeze,
  Sub: binary(tf.sub),
  Tanh: unary(tf.tanh),
  Transpose: transpose,
  Unsqueeze: unsqueeze,
};
