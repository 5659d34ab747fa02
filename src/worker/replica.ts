/**
 * A data-parallel training replica (src/core/train/dataParallel.ts): computes the gradients of the
 * batch shares its leader sends and applies the leader's averaged update, so that its weights stay
 * those of the leader (bundled to dist/replica.js).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../core/tf';
import { initBackend } from '../core/backend';
import { ReplicaMessage, ReplicaRequest, weightsDigest } from '../core/train/dataParallel';
import { Optimizer } from '../core/train/optimizer';
import { batchGradientArrays } from '../core/train/step';
import type { LossConfig } from '../core/loss';

const send = (message: ReplicaMessage): void => void process.send?.(message);

// TensorFlow.js prints to stdout, which the leader ignores; errors go out as messages.
console.log = console.info = console.warn = () => undefined;

let state: { model: tfl.LayersModel; variables: tf.Variable[]; optimizer: Optimizer | null; loss: LossConfig } | undefined;

async function handle(request: ReplicaRequest): Promise<void> {
  if (request.type === 'init') {
    await initBackend(request.backend);
    const model = await tfl.loadLayersModel(tf.io.fromMemory(request.artifacts));
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    // Only a replica that applies the updates itself needs the optimizer and its state.
    const optimizer = request.optimizerState ? new Optimizer(request.optimizer, variables) : null;
    if (optimizer && request.optimizerState) optimizer.loadState(request.optimizerState);
    state = { model, variables, optimizer, loss: request.loss };
    return send({ type: 'ready' });
  }
  if (!state) throw new Error(`${request.type} before init`);
  const { model, variables, optimizer, loss } = state;
  switch (request.type) {
    case 'step': {
      const x = tf.tensor4d(request.x, request.shape as [number, number, number, number]);
      const result = batchGradientArrays(model, variables, loss, x, request.labels, request.dropoutSeed);
      x.dispose();
      return send({ type: 'gradients', ...result });
    }
    case 'gradients':
      if (!optimizer) throw new Error('gradients sent to a replica without an optimizer');
      return tf.tidy(() => optimizer.apply(request.gradients.map((g, i) => tf.tensor(g, variables[i].shape)), request.learningRate));
    case 'weights':
      return tf.tidy(() => variables.forEach((v, i) => v.assign(tf.tensor(request.weights[i], v.shape))));
    case 'digest':
      return send({ type: 'digest', digest: weightsDigest(variables) });
  }
}

// One request at a time, in arrival order (init is asynchronous).
let queue = Promise.resolve();
process.on('message', (request: ReplicaRequest) => {
  queue = queue.then(() => handle(request)).catch((error: unknown) => {
    send({ type: 'error', message: error instanceof Error ? error.message.split('\n')[0] : String(error) });
    process.exitCode = 1;
    process.disconnect?.();
  });
});
// The leader ends a replica by closing the channel (and a dead leader closes it too).
process.on('disconnect', () => process.exit());
// Ctrl-C reaches the whole process group; the leader decides, and closes the channel.
process.on('SIGINT', () => undefined);
