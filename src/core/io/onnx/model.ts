/**
 * An ONNX classifier as a TensorFlow.js LayersModel: one custom layer whose call() runs the ONNX
 * graph on tf ops, so predict, apply and tf.grad work as for any model here and the attacks need
 * no change. The layer takes what every model here takes, NHWC pixels in [0, 1], and applies the
 * preprocessing of the sidecar (model.onnx.gccs.json) inside: value range, mean and std per
 * channel, layout. So ε means the same for every model.
 */
import * as path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../../tf';
import { UserError } from '../../errors';
import { ONNX_LIMITS } from '../../limits';
import { quote, readFolderJson, realFolder } from '../modelFolder';
import { OPS } from './ops';
import { OnnxGraph, readOnnxFile } from './parse';

/** The sidecar beside model.onnx: model.onnx.gccs.json. */
export const ONNX_SIDECAR_SUFFIX = '.gccs.json';

export interface Preprocessing {
  /** The layout of the graph's input: NCHW (PyTorch) or NHWC. */
  layout: 'NCHW' | 'NHWC';
  /** The pixel range the model was trained on: [0, 1] or [0, 255]. */
  range: [number, number];
  /** Per channel (or one value for all), applied after scaling to `range`: (x − mean) / std. */
  mean: number[];
  std: number[];
  classNames?: string[];
}

export interface LoadedOnnx {
  model: tfl.LayersModel;
  preprocessing: Preprocessing;
  /** Whether the preprocessing came from a sidecar (else the defaults: [0, 1], no normalisation). */
  sidecar: string | null;
}

/** Reads and checks the sidecar; null when there is none. */
function readSidecar(file: string): Preprocessing | null {
  const sidecar = `${file}${ONNX_SIDECAR_SUFFIX}`;
  const folderReal = realFolder(path.dirname(file), file);
  let value: unknown;
  try {
    value = readFolderJson(sidecar, folderReal, ONNX_LIMITS.sidecarBytes, 'ONNX_LIMITS.sidecarBytes');
  } catch (error) {
    if (error instanceof UserError && / is missing$/.test(error.message)) return null;
    throw error;
  }
  return checkSidecar(value, (problem: string) => new UserError(`${sidecar}: ${problem}`));
}

/** The sidecar's content as Preprocessing, each problem one line (via `fail`). */
function checkSidecar(value: unknown, fail: (problem: string) => UserError): Preprocessing {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw fail('not a JSON object');
  const { layout = 'NCHW', range = [0, 1], mean = [0], std = [1], classNames, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length) throw fail(`unknown key ${quote(extra[0])} (known: layout, range, mean, std, classNames)`);
  if (layout !== 'NCHW' && layout !== 'NHWC') throw fail(`layout must be "NCHW" or "NHWC", not ${quote(layout)}`);
  const numbers = (v: unknown, name: string) => {
    if (!Array.isArray(v) || !v.length || v.length > 4 || !v.every((n) => typeof n === 'number' && Number.isFinite(n))) throw fail(`${name} must be a list of 1 to 4 finite numbers`);
    return v as number[];
  };
  const r = numbers(range, 'range');
  if (r.length !== 2 || r[0] !== 0 || (r[1] !== 1 && r[1] !== 255)) throw fail('range must be [0, 1] or [0, 255]');
  const s = numbers(std, 'std');
  if (s.some((v) => v <= 0)) throw fail('std must be positive');
  const names = classNames === undefined || (Array.isArray(classNames) && classNames.every((n) => typeof n === 'string'));
  if (!names) throw fail('classNames must be a list of strings');
  return { layout, range: r as [number, number], mean: numbers(mean, 'mean'), std: s, classNames: classNames as string[] | undefined };
}

/** The graph's initializers as tensors (the caller disposes of them). */
export function graphConstants(graph: OnnxGraph): Map<string, tf.Tensor> {
  return new Map([...graph.initializers].map(([name, t]) => [name, tf.tensor(t.data, t.dims, t.dtype)]));
}

/** Runs the graph on a batch of NCHW or NHWC input (as the graph takes it). */
export function runGraph(graph: OnnxGraph, constants: Map<string, tf.Tensor>, input: tf.Tensor): tf.Tensor {
  const values = new Map(constants);
  values.set(graph.input.name, input);
  for (const node of graph.nodes) {
    const inputs = node.inputs.map((name) => {
      if (name === '') return undefined;
      const value = values.get(name);
      if (!value) throw new UserError(`${graph.file}: node ${node.label} (${node.opType}) reads ${quote(name)}, which no earlier node makes`);
      return value;
    });
    let result: tf.Tensor | tf.Tensor[];
    try {
      result = OPS[node.opType](inputs, { node, opset: graph.opset });
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new UserError(`${graph.file}: node ${node.label} (${node.opType}): ${(error as Error).message.split('\n')[0]}`);
    }
    (Array.isArray(result) ? result : [result]).forEach((tensor, i) => node.outputs[i] && values.set(node.outputs[i], tensor));
  }
  const output = values.get(graph.output.name);
  if (!output) throw new UserError(`${graph.file}: no node makes the graph output ${quote(graph.output.name)}`);
  return output;
}

class OnnxGraphLayer extends tfl.layers.Layer {
  static className = 'OnnxGraph';

  constructor(
    private readonly graph: OnnxGraph,
    private readonly constants: Map<string, tf.Tensor>,
    private readonly preprocessing: Preprocessing,
    private readonly classes: number,
  ) {
    super({ name: 'onnx_graph', trainable: false });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return [(inputShape as tfl.Shape)[0], this.classes];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() => runGraph(this.graph, this.constants, preprocess(x, this.preprocessing)));
  }

  override dispose(): ReturnType<tfl.layers.Layer['dispose']> {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) this.constants.forEach((t) => t.dispose());
    return result;
  }
}

/** NHWC pixels in [0, 1] → the graph's input: scaled to the range, normalised, in its layout. */
function preprocess(x: tf.Tensor, p: Preprocessing): tf.Tensor {
  const channels = x.shape[3] as number;
  const perChannel = (v: number[]) => tf.tensor4d(v.length === 1 ? Array(channels).fill(v[0]) : v, [1, 1, 1, channels]);
  const scaled = p.range[1] === 1 ? x : tf.mul(x, p.range[1]);
  const normalised = tf.div(tf.sub(scaled, perChannel(p.mean)), perChannel(p.std));
  return p.layout === 'NCHW' ? tf.transpose(normalised, [0, 3, 1, 2]) : normalised;
}

/** Loads an .onnx file (with its sidecar if any) as a LayersModel taking NHWC pixels in [0, 1]. */
export function loadOnnxModel(file: string): LoadedOnnx {
  const graph = readOnnxFile(file);
  const unsupported = graph.nodes.find((node) => !Object.hasOwn(OPS, node.opType));
  if (unsupported) {
    throw new UserError(`${file}: node ${unsupported.label} uses op ${quote(unsupported.opType)}, which the reader does not support (supported: ${Object.keys(OPS).join(', ')})`);
  }
  const sidecar = readSidecar(file);
  const dims = graph.input.dims;
  // Without a sidecar: NCHW (PyTorch's), unless the last dim looks like channels and the second does not.
  const looksNHWC = dims.length === 4 && [1, 3].includes(dims[3]) && ![1, 3].includes(dims[1]);
  const layout = sidecar?.layout ?? (looksNHWC ? 'NHWC' : 'NCHW');
  const preprocessing: Preprocessing = sidecar ?? { layout, range: [0, 1], mean: [0], std: [1] };
  if (dims.length !== 4) throw new UserError(`${file}: the graph input ${quote(graph.input.name)} has ${dims.length} dimensions; an image classifier takes 4 (N, C, H, W or N, H, W, C)`);
  const [height, width, channels] = layout === 'NCHW' ? [dims[2], dims[3], dims[1]] : [dims[1], dims[2], dims[3]];
  if (!(height > 0 && width > 0 && channels > 0)) throw new UserError(`${file}: the graph input ${quote(graph.input.name)} has dims ${quote(dims)}; height, width and channels must be fixed numbers`);
  if (preprocessing.mean.length !== 1 && preprocessing.mean.length !== channels) throw new UserError(`${file}${ONNX_SIDECAR_SUFFIX}: mean has ${preprocessing.mean.length} values for ${channels} channels`);
  if (preprocessing.std.length !== 1 && preprocessing.std.length !== channels) throw new UserError(`${file}${ONNX_SIDECAR_SUFFIX}: std has ${preprocessing.std.length} values for ${channels} channels`);
  const constants = graphConstants(graph);
  try {
    // One batch (of the declared size, else 1) through the graph: it checks every node and gives the number of classes.
    const probe = tf.tidy(() => runGraph(graph, constants, preprocess(tf.zeros([dims[0] > 0 ? dims[0] : 1, height, width, channels]), preprocessing)));
    const outputShape = probe.shape;
    probe.dispose();
    if (outputShape.length !== 2) throw new UserError(`${file}: the graph output has shape ${quote(outputShape)}; a classifier's is (batch, classes)`);
    const layer = new OnnxGraphLayer(graph, constants, preprocessing, outputShape[1]);
    const input = tfl.input({ shape: [height, width, channels] });
    const model = tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor, name: path.basename(file) });
    return { model, preprocessing, sidecar: sidecar ? `${file}${ONNX_SIDECAR_SUFFIX}` : null };
  } catch (error) {
    constants.forEach((t) => t.dispose());
    throw error;
  }
}
