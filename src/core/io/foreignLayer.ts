/**
 * A graph of another format (ONNX, a TensorFlow.js graph model) as a LayersModel: one custom layer
 * whose call() runs the graph through an executor built of tf ops, so predict, apply and tf.grad
 * work as for any model here and the attacks need no change. The layer takes what every model
 * here takes, NHWC pixels in [0, 1], and applies the sidecar's preprocessing inside, so ε means
 * the same for every model. Each format supplies only its executor (onnx/model.ts, graphModel/model.ts).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import type { Preprocessing } from './onnx/check';

/** Runs one foreign graph on tf ops. */
export interface ForeignExecutor {
  /** The graph's output for a batch already in its input form (preprocess). */
  run(input: tf.Tensor): tf.Tensor;
  /** Frees what the executor holds (its weights); called once the layer is disposed of. */
  dispose(): void;
}

/** What the layer is called: its class name (getClassName, in errors) and its layer name. */
export interface ForeignKind {
  className: string;
  layerName: string;
}

/** NHWC pixels in [0, 1] → the graph's input: scaled to the range, normalised, in its layout. */
export function preprocess(x: tf.Tensor, p: Preprocessing): tf.Tensor {
  const channels = x.shape[3] as number;
  const perChannel = (v: number[]) => tf.tensor4d(v.length === 1 ? Array(channels).fill(v[0]) : v, [1, 1, 1, channels]);
  const scaled = p.range[1] === 1 ? x : tf.mul(x, p.range[1]);
  const normalised = tf.div(tf.sub(scaled, perChannel(p.mean)), perChannel(p.std));
  return p.layout === 'NCHW' ? tf.transpose(normalised, [0, 3, 1, 2]) : normalised;
}

/** The executor's output shape for a batch of zeros of `batchShape` (NHWC): every node runs once. */
export function probeOutputShape(executor: ForeignExecutor, preprocessing: Preprocessing, batchShape: number[]): number[] {
  const probe = tf.tidy(() => executor.run(preprocess(tf.zeros(batchShape), preprocessing)));
  const shape = probe.shape;
  probe.dispose();
  return shape;
}

class ForeignGraphLayer extends tfl.layers.Layer {
  constructor(
    private readonly kind: ForeignKind,
    private readonly executor: ForeignExecutor,
    private readonly preprocessing: Preprocessing,
    private readonly classes: number,
  ) {
    super({ name: kind.layerName, trainable: false });
  }

  override getClassName(): string {
    return this.kind.className;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return [(inputShape as tfl.Shape)[0], this.classes];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() => this.executor.run(preprocess(x, this.preprocessing)));
  }

  override dispose(): ReturnType<tfl.layers.Layer['dispose']> {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) this.executor.dispose();
    return result;
  }
}

/**
 * The LayersModel `name` of one ForeignGraphLayer: NHWC pixels of `imageShape` in, the executor's
 * `classes` logits out. The model owns the executor from here on (model.dispose() frees it).
 */
export function foreignGraphModel(
  kind: ForeignKind,
  executor: ForeignExecutor,
  preprocessing: Preprocessing,
  classes: number,
  imageShape: number[],
  name: string,
): tfl.LayersModel {
  const layer = new ForeignGraphLayer(kind, executor, preprocessing, classes);
  const input = tfl.input({ shape: imageShape });
  return tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor, name });
}
