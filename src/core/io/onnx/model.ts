/**
 * An ONNX classifier as a TensorFlow.js LayersModel (foreignLayer.ts): its executor runs the ONNX
 * graph node by node on tf ops; the layer applies the preprocessing of the sidecar
 * (model.onnx.gccs.json) first: value range, mean and std per channel, layout.
 */
import * as path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../../tf';
import { UserError } from '../../errors';
import { ForeignExecutor, foreignGraphModel, probeOutputShape } from '../foreignLayer';
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

/** Loads an .onnx file (with its sidecar if any) as a LayersModel taking NHWC pixels in [0, 1]. */
export function loadOnnxModel(file: string): LoadedOnnx {
  const { graph, preprocessing, sidecar, inputShape } = readCheckedOnnx(file);
  const [height, width, channels] = inputShape;
  const dims = graph.input.dims;
  const constants = graphConstants(graph);
  const executor: ForeignExecutor = {
    run: (input) => runGraph(graph, constants, input),
    dispose: () => constants.forEach((t) => t.dispose()),
  };
  try {
    // One batch (of the declared size, else 1) through the graph: it checks every node and gives the number of classes.
    const outputShape = probeOutputShape(executor, preprocessing, [dims[0] > 0 ? dims[0] : 1, height, width, channels]);
    if (outputShape.length !== 2) throw new UserError(`${file}: the graph output has shape ${quote(outputShape)}; a classifier's is (batch, classes)`);
    const kind = { className: 'OnnxGraph', layerName: 'onnx_graph' };
    const model = foreignGraphModel(kind, executor, preprocessing, outputShape[1], [height, width, channels], path.basename(file));
    return { model, preprocessing, sidecar };
  } catch (error) {
    executor.dispose();
    throw error;
  }
}
