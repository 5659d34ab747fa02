/**
 * A TensorFlow.js graph model as a LayersModel (foreignLayer.ts): its executor is the TensorFlow.js
 * converter's (on tf ops, so tf.grad gives exact input gradients). The converter
 * only ever sees what read.ts checked: the node list, the weights read from inside the folder, and
 * a signature naming the one input and output.
 */
import * as path from 'node:path';
import { GraphModel, loadGraphModel } from '@tensorflow/tfjs';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../../tf';
import { UserError } from '../../errors';
import { ForeignExecutor, foreignGraphModel, probeOutputShape } from '../foreignLayer';
import { CheckedGraphModel, readGraphModel } from './read';
import { Preprocessing, readGraphPreprocessing } from './sidecar';

export interface LoadedGraphModel {
  model: tfl.LayersModel;
  preprocessing: Preprocessing;
  /** The sidecar's path, or null (then [0, 1], no normalisation, NHWC). */
  sidecar: string | null;
}

/** The converter's GraphModel of a checked graph: only the checked nodes, weights and the one input and output. */
async function converterModel(checked: CheckedGraphModel): Promise<GraphModel> {
  const tensor = (node: string) => ({ [node]: { name: `${node}:0` } });
  const artifacts: tf.io.ModelArtifacts = {
    format: 'graph-model',
    modelTopology: { node: checked.nodes, library: {}, versions: {} },
    weightSpecs: checked.weightSpecs as tf.io.WeightsManifestEntry[],
    weightData: checked.weightData,
    signature: { inputs: tensor(checked.input.node), outputs: tensor(checked.output) },
  };
  return loadGraphModel(tf.io.fromMemory(artifacts));
}

/**
 * Loads a graph model's folder (its model.json, weights and preprocessing sidecar) as a LayersModel
 * taking NHWC pixels in [0, 1] and giving the graph's output as logits. `content` is model.json's
 * parsed content when the caller has read it already (readModelJson).
 */
export async function loadGraphModelFile(modelJson: string, content?: unknown): Promise<LoadedGraphModel> {
  const checked = await readGraphModel(modelJson, content);
  const { preprocessing, sidecar, imageShape } = readGraphPreprocessing(modelJson, checked.input.shape);
  let executor: ForeignExecutor | undefined;
  try {
    const graph = await converterModel(checked);
    executor = { run: (input) => graph.execute(input) as tf.Tensor, dispose: () => graph.dispose() };
    // A batch of 2 through the graph: every node runs once, and a graph built for a fixed batch of 1 shows here.
    const shape = probeOutputShape(executor, preprocessing, [2, ...imageShape]);
    if (shape.length !== 2 || shape[0] !== 2 || shape[1] !== checked.classes)
      throw new Error(`a batch of 2 gives shape [${shape.join(', ')}], not [2, ${checked.classes}]`);
  } catch (error) {
    executor?.dispose();
    if (error instanceof UserError) throw error;
    throw new UserError(`${modelJson}: cannot run the graph (${(error as Error).message.split('\n')[0]})`);
  }
  const kind = { className: 'TfjsGraphModel', layerName: 'graph_model' };
  const model = foreignGraphModel(kind, executor, preprocessing, checked.classes, imageShape, path.basename(path.dirname(modelJson)) || 'graph_model');
  return { model, preprocessing, sidecar };
}
