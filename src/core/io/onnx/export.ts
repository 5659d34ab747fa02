/**
 * A LayersModel trained here as an ONNX classifier (opset 13) that PyTorch users can take in: the
 * graph input is NCHW pixels in [0, 1] (PyTorch's layout), the output the model's logits z. Every
 * 4-D tensor stays NCHW inside the graph (ONNX's Conv and pools are NCHW); Flatten transposes back
 * to NHWC first, so the dense weights keep Keras's order. The ops written are ones the reader
 * (./ops.ts) runs, so an exported model loads back here too. A sidecar beside the file states the
 * preprocessing and class names (README › Evaluating ONNX models).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../../tf';
import { UserError } from '../../errors';
import * as fs from 'node:fs';
import { createFileAtomic, jsonText } from '../atomic';
import { quote } from '../modelFolder';
import { ONNX_SIDECAR_SUFFIX, Preprocessing } from './model';
import { MODEL_PROTO } from './schema';

export const EXPORT_OPSET = 13;
/** ONNX IR version 7 is the one of opset 13. */
const IR_VERSION = 7;
const FLOAT = 1;
/** AttributeProto.AttributeType: FLOAT, INT, STRING, INTS. */
const ATTRIBUTE_TYPES = { float: 1, int: 2, string: 3, ints: 7 } as const;

type Attribute = { name: string; type: number; f?: number; i?: number; s?: Uint8Array; ints?: number[] };
interface NodeProto { op_type: string; name: string; input: string[]; output: string[]; attribute: Attribute[] }
interface Initializer { name: string; dims: number[]; data_type: number; raw_data: Uint8Array }

const ints = (name: string, values: number[]): Attribute => ({ name, type: ATTRIBUTE_TYPES.ints, ints: values });
const int = (name: string, value: number): Attribute => ({ name, type: ATTRIBUTE_TYPES.int, i: value });
const float = (name: string, value: number): Attribute => ({ name, type: ATTRIBUTE_TYPES.float, f: value });

/** The graph being written: nodes, initializers, and the ONNX value of every symbolic tensor. */
class GraphWriter {
  readonly nodes: NodeProto[] = [];
  readonly initializers: Initializer[] = [];
  private readonly values = new Map<number, string>();
  private count = 0;

  constructor(private readonly file: string) {}

  fail(layer: tfl.layers.Layer, problem: string): UserError {
    return new UserError(`${this.file}: layer ${quote(layer.name)} (${layer.getClassName()}): ${problem}`);
  }

  valueOf(tensor: tfl.SymbolicTensor, layer: tfl.layers.Layer): string {
    const name = this.values.get(tensor.id);
    if (name === undefined) throw this.fail(layer, `its input ${quote(tensor.name)} comes from no exported layer`);
    return name;
  }

  setValue(tensor: tfl.SymbolicTensor, name: string): void {
    this.values.set(tensor.id, name);
  }

  node(opType: string, layerName: string, inputs: string[], attribute: Attribute[] = []): string {
    const output = `${layerName}/${opType}_${this.count++}`;
    this.nodes.push({ op_type: opType, name: output, input: inputs, output: [output], attribute });
    return output;
  }

  /** A float32 initializer (little-endian raw data, as ONNX stores it). */
  constant(name: string, dims: number[], data: ArrayLike<number>): string {
    const bytes = new Uint8Array(data.length * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
    this.initializers.push({ name, dims, data_type: FLOAT, raw_data: bytes });
    return name;
  }

  /** A weight of the layer, its axes reordered by `perm` (Keras HWIO kernels → ONNX OIHW). */
  weight(layer: tfl.layers.Layer, suffix: string, perm?: number[]): string {
    const variable = layer.weights.find((w) => w.originalName.endsWith(`/${suffix}`) || w.name.endsWith(`/${suffix}`));
    if (!variable) throw this.fail(layer, `no ${suffix} weight`);
    const value = perm ? tf.transpose(variable.read(), perm) : variable.read();
    const constant = this.constant(`${layer.name}/${suffix}`, value.shape, value.dataSync());
    // The untransposed value is the variable's own tensor: not ours to dispose of.
    if (perm) value.dispose();
    return constant;
  }
}

function pair(value: number | number[] | undefined, fallback: number): [number, number] {
  if (value === undefined || value === null) return [fallback, fallback];
  return typeof value === 'number' ? [value, value] : [value[0], value[1] ?? value[0]];
}

/** TensorFlow's 'same' padding for a 2-D window as ONNX pads [top, left, bottom, right]. */
function samePads(inputHW: number[], kernel: number[], strides: number[], dilations: number[]): number[] {
  const [begin, end] = [[] as number[], [] as number[]];
  inputHW.forEach((size, i) => {
    const out = Math.ceil(size / strides[i]);
    const total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
  });
  return [...begin, ...end];
}

/** A 2-D window layer's input height and width (channels-last, fixed sizes). */
function windowInput(layer: tfl.layers.Layer, writer: GraphWriter): number[] {
  const config = layer.getConfig();
  if (config.dataFormat && config.dataFormat !== 'channelsLast') throw writer.fail(layer, 'only channels-last layers are exported');
  const shape = (layer.input as tfl.SymbolicTensor).shape;
  if (shape.length !== 4 || !shape[1] || !shape[2]) throw writer.fail(layer, `input shape ${quote(shape)}: a fixed 4-D NHWC input is needed`);
  return [shape[1], shape[2]];
}

function padsOf(layer: tfl.layers.Layer, writer: GraphWriter, kernel: number[], strides: number[], dilations: number[]): number[] {
  const padding = layer.getConfig().padding ?? 'valid';
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') return samePads(windowInput(layer, writer), kernel, strides, dilations);
  throw writer.fail(layer, `padding ${quote(padding)} is not exported (valid, same)`);
}

/** An activation function after a layer (Conv2D, Dense, Activation). */
function activation(writer: GraphWriter, layer: tfl.layers.Layer, name: string | undefined, input: string, rank: number): string {
  switch (name ?? 'linear') {
    case 'linear': return input;
    case 'relu': return writer.node('Relu', layer.name, [input]);
    case 'relu6': return writer.node('Clip', layer.name, [input, writer.constant(`${layer.name}/min`, [], [0]), writer.constant(`${layer.name}/max`, [], [6])]);
    case 'sigmoid': return writer.node('Sigmoid', layer.name, [input]);
    case 'tanh': return writer.node('Tanh', layer.name, [input]);
    case 'softmax':
      // Keras's softmax is over the last axis: channels, which are axis 1 of an NCHW tensor.
      return writer.node('Softmax', layer.name, [input], [int('axis', channelAxis(layer, writer, -1, rank))]);
    default: throw writer.fail(layer, `activation ${quote(name)} is not exported (linear, relu, relu6, sigmoid, tanh, softmax)`);
  }
}

/** The ONNX axis of Keras's channel (last) axis: 1 in the NCHW graph's 4-D tensors; other axes are refused. */
function channelAxis(layer: tfl.layers.Layer, writer: GraphWriter, axis: number | number[], rank: number): number {
  const a = Array.isArray(axis) ? axis : [axis];
  if (a.length !== 1 || (a[0] !== -1 && a[0] !== rank - 1)) throw writer.fail(layer, `axis ${quote(axis)}: only the channel (last) axis is exported`);
  return rank === 4 ? 1 : rank - 1;
}

type LayerWriter = (writer: GraphWriter, layer: tfl.layers.Layer, inputs: string[], ranks: number[]) => string;

const LAYERS: Record<string, LayerWriter> = {
  Conv2D: (writer, layer, [x]) => {
    const config = layer.getConfig();
    if (config.groups && config.groups !== 1) throw writer.fail(layer, 'grouped convolutions are not exported');
    const kernel = pair(config.kernelSize as number[], 1);
    const strides = pair(config.strides as number[], 1);
    const dilations = pair(config.dilationRate as number[], 1);
    const inputs = [x, writer.weight(layer, 'kernel', [3, 2, 0, 1])];
    if (config.useBias) inputs.push(writer.weight(layer, 'bias'));
    const y = writer.node('Conv', layer.name, inputs, [ints('kernel_shape', kernel), ints('strides', strides), ints('dilations', dilations), ints('pads', padsOf(layer, writer, kernel, strides, dilations)), int('group', 1)]);
    return activation(writer, layer, config.activation as string, y, 4);
  },
  Dense: (writer, layer, [x], [rank]) => {
    if (rank !== 2) throw writer.fail(layer, `a dense layer on a rank-${rank} input is not exported (flatten first)`);
    const config = layer.getConfig();
    const inputs = [x, writer.weight(layer, 'kernel')];
    if (config.useBias) inputs.push(writer.weight(layer, 'bias'));
    return activation(writer, layer, config.activation as string, writer.node('Gemm', layer.name, inputs), 2);
  },
  MaxPooling2D: (writer, layer, [x]) => pool(writer, layer, x, 'MaxPool'),
  AveragePooling2D: (writer, layer, [x]) => pool(writer, layer, x, 'AveragePool'),
  GlobalAveragePooling2D: (writer, layer, [x]) => {
    const pooled = writer.node('GlobalAveragePool', layer.name, [x]);
    return layer.getConfig().keepDims ? pooled : writer.node('Flatten', layer.name, [pooled], [int('axis', 1)]);
  },
  Flatten: (writer, layer, [x], [rank]) => {
    // Keras flattens NHWC: back to that order first, so the next dense layer's weights line up.
    const nhwc = rank === 4 ? writer.node('Transpose', layer.name, [x], [ints('perm', [0, 2, 3, 1])]) : x;
    return writer.node('Flatten', layer.name, [nhwc], [int('axis', 1)]);
  },
  BatchNormalization: (writer, layer, [x], [rank]) => {
    const config = layer.getConfig();
    // ONNX normalises axis 1: the channels of NCHW and of (batch, features), not of other ranks.
    if (rank !== 2 && rank !== 4) throw writer.fail(layer, `batch normalisation of a rank-${rank} input is not exported`);
    channelAxis(layer, writer, config.axis as number, rank);
    const channels = (layer.input as tfl.SymbolicTensor).shape[rank - 1] as number;
    const scale = config.scale ? writer.weight(layer, 'gamma') : writer.constant(`${layer.name}/gamma`, [channels], new Float32Array(channels).fill(1));
    const bias = config.center ? writer.weight(layer, 'beta') : writer.constant(`${layer.name}/beta`, [channels], new Float32Array(channels));
    return writer.node('BatchNormalization', layer.name, [x, scale, bias, writer.weight(layer, 'moving_mean'), writer.weight(layer, 'moving_variance')], [float('epsilon', config.epsilon as number)]);
  },
  ReLU: (writer, layer, [x]) => {
    const { maxValue, negativeSlope, threshold } = layer.getConfig() as { maxValue?: number | null; negativeSlope?: number; threshold?: number };
    if (negativeSlope || threshold) throw writer.fail(layer, 'a ReLU with a negative slope or threshold is not exported');
    if (maxValue === undefined || maxValue === null) return writer.node('Relu', layer.name, [x]);
    return writer.node('Clip', layer.name, [x, writer.constant(`${layer.name}/min`, [], [0]), writer.constant(`${layer.name}/max`, [], [maxValue])]);
  },
  LeakyReLU: (writer, layer, [x]) => writer.node('LeakyRelu', layer.name, [x], [float('alpha', layer.getConfig().alpha as number)]),
  Activation: (writer, layer, [x], [rank]) => activation(writer, layer, layer.getConfig().activation as string, x, rank),
  Softmax: (writer, layer, [x], [rank]) => {
    return writer.node('Softmax', layer.name, [x], [int('axis', channelAxis(layer, writer, layer.getConfig().axis as number, rank))]);
  },
  Dropout: (_, __, [x]) => x,
  SpatialDropout1D: (_, __, [x]) => x,
  Add: (writer, layer, inputs) => inputs.slice(1).reduce((sum, x) => writer.node('Add', layer.name, [sum, x]), inputs[0]),
  Multiply: (writer, layer, inputs) => inputs.slice(1).reduce((product, x) => writer.node('Mul', layer.name, [product, x]), inputs[0]),
  Concatenate: (writer, layer, inputs, ranks) => {
    return writer.node('Concat', layer.name, inputs, [int('axis', channelAxis(layer, writer, layer.getConfig().axis as number, ranks[0]))]);
  },
  Rescaling: (writer, layer, [x]) => {
    const { scale, offset } = layer.getConfig() as { scale: number; offset: number };
    const scaled = writer.node('Mul', layer.name, [x, writer.constant(`${layer.name}/scale`, [], [scale])]);
    return offset ? writer.node('Add', layer.name, [scaled, writer.constant(`${layer.name}/offset`, [], [offset])]) : scaled;
  },
};

function pool(writer: GraphWriter, layer: tfl.layers.Layer, x: string, opType: 'MaxPool' | 'AveragePool'): string {
  const config = layer.getConfig();
  const kernel = pair(config.poolSize as number[], 2);
  const strides = pair((config.strides as number[] | null) ?? kernel, 1);
  const pads = padsOf(layer, writer, kernel, strides, [1, 1]);
  // TensorFlow's 'same' average leaves the padding out of the count.
  const attributes = [ints('kernel_shape', kernel), ints('strides', strides), ints('pads', pads)];
  return writer.node(opType, layer.name, [x], opType === 'AveragePool' ? [...attributes, int('count_include_pad', 0)] : attributes);
}

/** The ONNX file's bytes for the model (NCHW input, logits output), and the sidecar's content. */
export function modelToOnnx(model: tfl.LayersModel, file: string, classNames?: string[]): { bytes: Uint8Array; nodes: number; sidecar: Preprocessing } {
  const writer = new GraphWriter(file);
  if (model.inputs.length !== 1 || model.outputs.length !== 1) throw new UserError(`${file}: the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; a classifier has one of each`);
  const inputShape = model.inputs[0].shape;
  if (inputShape.length !== 4 || inputShape.slice(1).some((d) => !d)) throw new UserError(`${file}: the model's input shape ${quote(inputShape)} is not a fixed image shape (height, width, channels)`);
  const [, height, width, channels] = inputShape as number[];
  writer.setValue(model.inputs[0], 'input');
  for (const layer of model.layers) {
    const className = layer.getClassName();
    if (className === 'InputLayer') continue;
    if (layer.inboundNodes.length !== 1) throw writer.fail(layer, 'a layer used more than once is not exported');
    const write = Object.hasOwn(LAYERS, className) ? LAYERS[className] : undefined;
    if (!write) throw writer.fail(layer, `this layer type is not exported (exported: ${Object.keys(LAYERS).join(', ')})`);
    const inputs = ([] as tfl.SymbolicTensor[]).concat(layer.input as tfl.SymbolicTensor | tfl.SymbolicTensor[]);
    const output = layer.output as tfl.SymbolicTensor;
    // Ranks are Keras's: the graph's tensors have the same rank, only 4-D ones are NCHW.
    writer.setValue(output, write(writer, layer, inputs.map((t) => writer.valueOf(t, layer)), inputs.map((t) => t.shape.length)));
  }
  const output = model.outputs[0];
  const classes = output.shape[1];
  if (output.shape.length !== 2 || !classes) throw new UserError(`${file}: the model's output shape ${quote(output.shape)} is not (batch, classes)`);
  const last = writer.valueOf(output, model.layers[model.layers.length - 1]);
  // The graph's output must be a node's own output: the logits, named so.
  writer.nodes.push({ op_type: 'Identity', name: 'logits', input: [last], output: ['logits'], attribute: [] });
  const valueInfo = (name: string, dims: (number | string)[]) => ({
    name, type: { tensor_type: { elem_type: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) } } },
  });
  const message = MODEL_PROTO.fromObject({
    ir_version: IR_VERSION,
    producer_name: 'gccs-lab',
    opset_import: [{ domain: '', version: EXPORT_OPSET }],
    graph: {
      name: model.name,
      node: writer.nodes,
      initializer: writer.initializers,
      input: [valueInfo('input', ['batch', channels, height, width])],
      output: [valueInfo('logits', ['batch', classes])],
    },
  });
  const sidecar: Preprocessing = { layout: 'NCHW', range: [0, 1], mean: [0], std: [1], ...(classNames ? { classNames } : {}) };
  return { bytes: MODEL_PROTO.encode(message).finish(), nodes: writer.nodes.length, sidecar };
}

/**
 * Writes the model to `file` (.onnx) and its sidecar `file.gccs.json`, each atomically and never over
 * an existing file; the sidecar first, so a crash between the two leaves no .onnx without the sidecar
 * that describes it.
 */
export function exportOnnx(model: tfl.LayersModel, file: string, classNames?: string[]): { nodes: number; bytes: number; sidecar: string } {
  const { bytes, nodes, sidecar } = modelToOnnx(model, file, classNames);
  const sidecarFile = `${file}${ONNX_SIDECAR_SUFFIX}`;
  createFileAtomic(sidecarFile, jsonText(sidecar));
  try {
    createFileAtomic(file, bytes);
  } catch (error) {
    fs.rmSync(sidecarFile);
    throw error;
  }
  return { nodes, bytes: bytes.length, sidecar: sidecarFile };
}
