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
import { quote } from '../modelFolder';
import { OnnxOp, Preprocessing, readCheckedOnnx } from './check';
import { OPS } from './ops';
import type { OnnxGraph } from './parse';

export { ONNX_SIDECAR_SUFFIX } from '../modelLocation';
export type { Preprocessing } from './check';

export interface LoadedOnnx {
  model: tfl.LayersModel;
  preprocessing: Preprocessing;
  /** Whether the preprocessing came from a sidecar (else the defaults: [0, 1], no normalisation). */
  sidecar: string | null;
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
      result = OPS[node.opType as OnnxOp](inputs, { node, opset: graph.opset });
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

/** NHWC pixels in [0, 1] → the graph's input: scaled to the range, normalised, in its layout (graph models use it too). */
export function preprocess(x: tf.Tensor, p: Preprocessing): tf.Tensor {
  const channels = x.shape[3] as number;
  const perChannel = (v: number[]) => tf.tensor4d(v.length === 1 ? Array(channels).fill(v[0]) : v, [1, 1, 1, channels]);
  const scaled = p.range[1] === 1 ? x : tf.mul(x, p.range[1]);
  const normalised = tf.div(tf.sub(scaled, perChannel(p.mean)), perChannel(p.std));
  return p.layout === 'NCHW' ? tf.transpose(normalised, [0, 3, 1, 2]) : normalised;
}

/** Loads an .onnx file (with its sidecar if any) as a LayersModel taking NHWC pixels in [0, 1]. */
export function loadOnnxModel(file: string): LoadedOnnx {
  const { graph, preprocessing, sidecar, inputShape } = readCheckedOnnx(file);
  const [height, width, channels] = inputShape;
  const dims = graph.input.dims;
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
    return { model, preprocessing, sidecar };
  } catch (error) {
    constants.forEach((t) => t.dispose());
    throw error;
  }
}
