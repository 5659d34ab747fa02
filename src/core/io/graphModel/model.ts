/**
 * A TensorFlow.js graph model as a LayersModel: one custom layer whose call() runs the graph with
 * the TensorFlow.js converter's executor (on tf ops, so tf.grad gives exact input gradients and the
 * attacks need no change). The layer takes what every model here takes, NHWC pixels in [0, 1], and
 * applies the sidecar's preprocessing inside, so ε means the same for every model. The converter
 * only ever sees what read.ts checked: the node list, the weights read from inside the folder, and
 * a signature naming the one input and output.
 */
import * as path from 'node:path';
import { GraphModel, loadGraphModel } from '@tensorflow/tfjs';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../../tf';
import { UserError } from '../../errors';
import { preprocess } from '../onnx/model';
import { CheckedGraphModel, readGraphModel } from './read';
import { Preprocessing, readGraphPreprocessing } from './sidecar';

export interface LoadedGraphModel {
  model: tfl.LayersModel;
  preprocessing: Preprocessing;
  /** The sidecar's path, or null (then [0, 1], no normalisation, NHWC). */
  sidecar: string | null;
}

class GraphModelLayer extends tfl.layers.Layer {
  static className = 'TfjsGraphModel';

  constructor(
    private readonly graph: GraphModel,
    private readonly preprocessing: Preprocessing,
    private readonly classes: number,
  ) {
    super({ name: 'graph_model', trainable: false });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return [(inputShape as tfl.Shape)[0], this.classes];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() => this.graph.execute(preprocess(x, this.preprocessing)) as tf.Tensor);
  }

  override dispose(): ReturnType<tfl.layers.Layer['dispose']> {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) this.graph.dispose();
    return result;
  }
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
  const checked = readGraphModel(modelJson, content);
  const { preprocessing, sidecar, imageShape } = readGraphPreprocessing(modelJson, checked.input.shape);
  let graph: GraphModel | undefined;
  try {
    graph = await converterModel(checked);
    // A batch of 2 through the graph: every node runs once, and a graph built for a fixed batch of 1 shows here.
    const probe = tf.tidy(() => graph!.execute(preprocess(tf.zeros([2, ...imageShape]), preprocessing)) as tf.Tensor);
    const shape = probe.shape;
    probe.dispose();
    if (shape.length !== 2 || shape[0] !== 2 || shape[1] !== checked.classes)
      throw new Error(`a batch of 2 gives shape [${shape.join(', ')}], not [2, ${checked.classes}]`);
  } catch (error) {
    graph?.dispose();
    if (error instanceof UserError) throw error;
    throw new UserError(`${modelJson}: cannot run the graph (${(error as Error).message.split('\n')[0]})`);
  }
  const layer = new GraphModelLayer(graph, preprocessing, checked.classes);
  const input = tfl.input({ shape: imageShape });
  const model = tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor, name: path.basename(path.dirname(modelJson)) || 'graph_model' });
  return { model, preprocessing, sidecar };
}
