/**
 * A data-parallel training replica, served by the worker (src/worker/index.ts) for its leader
 * (src/core/train/dataParallel.ts): computes the gradients of the batch shares the leader sends and
 * applies the leader's averaged update, so that its weights stay those of the leader.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../core/tf';
import { weightsDigest } from '../core/train/dataParallel';
import { Optimizer } from '../core/train/optimizer';
import { batchGradientArrays } from '../core/train/step';
import type { LossConfig } from '../core/loss';
import type { ReplicaMessage, ReplicaRequest } from '../core/protocol';

type Request<T extends ReplicaRequest['type']> = Extract<ReplicaRequest, { type: T }>;

export class Replica {
  private constructor(
    private readonly model: tfl.LayersModel,
    private readonly variables: tf.Variable[],
    /** Only a replica that applies the updates itself has the optimizer and its state. */
    private readonly optimizer: Optimizer | null,
    private readonly loss: LossConfig,
  ) {}

  static async load(request: Request<'replicaInit'>): Promise<Replica> {
    const model = await tfl.loadLayersModel(tf.io.fromMemory(request.artifacts));
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const optimizer = request.optimizerState ? new Optimizer(request.optimizer, variables) : null;
    if (optimizer && request.optimizerState) optimizer.loadState(request.optimizerState);
    return new Replica(model, variables, optimizer, request.loss);
  }

  /** The answer to a request, if it has one. */
  handle(request: Exclude<ReplicaRequest, Request<'replicaInit'>>): ReplicaMessage | undefined {
    const { model, variables, optimizer } = this;
    switch (request.type) {
      case 'replicaStep': {
        const x = tf.tensor4d(request.x, request.shape as [number, number, number, number]);
        const result = batchGradientArrays(model, variables, this.loss, x, request.labels, request.dropoutSeed);
        x.dispose();
        return { type: 'gradients', ...result };
      }
      case 'applyGradients':
        if (!optimizer) throw new Error('gradients sent to a replica without an optimizer');
        tf.tidy(() => optimizer.apply(request.gradients.map((g, i) => tf.tensor(g, variables[i].shape)), request.learningRate));
        return undefined;
      case 'setWeights':
        tf.tidy(() => variables.forEach((v, i) => v.assign(tf.tensor(request.weights[i], v.shape))));
        return undefined;
      case 'digest':
        return { type: 'digest', digest: weightsDigest(variables) };
    }
  }
}
