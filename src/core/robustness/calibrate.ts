/**
 * The time estimate's calibration (estimate.ts): one batch of seeded random inputs through the
 * model, forward only and forward + backward (the input gradient, as attacks take it), timed after
 * a first untimed round (kernel set-up, weight upload). Runs where the attacks will run: in a
 * worker for sweeps and the extension, in the process for `gccs evaluate`.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import { classCount, logitsOf } from '../attacks/common';
import { UserError } from '../errors';
import { loadModelDir } from '../io/modelDir';
import { median } from '../stats';
import type { PassTimes } from './estimate';

/** Timed rounds of each kind of pass; their median counts (one slow round on a busy machine does not). */
const ROUNDS = 3;

function seconds(work: () => void): number {
  const started = performance.now();
  work();
  return (performance.now() - started) / 1000;
}

export function calibratePasses(model: tfl.LayersModel, batchSize: number, label = 'the model'): PassTimes {
  const [, ...shape] = model.inputs[0].shape;
  if (!shape.every((side): side is number => typeof side === 'number' && side > 0)) {
    throw new UserError(`${label}: its input shape [${model.inputs[0].shape.join(', ')}] is not fixed, so it cannot be timed`);
  }
  const x = tf.randomUniform([batchSize, ...shape], 0, 1, 'float32', 0);
  const forward = () => tf.tidy(() => logitsOf(model, x).dataSync());
  const gradient = () =>
    tf.tidy(() =>
      tf
        .grad((input: tf.Tensor) => tf.sum(logitsOf(model, input)))(x)
        .dataSync(),
    );
  try {
    forward();
    gradient();
    const times = { forward: [] as number[], gradient: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      times.forward.push(seconds(forward));
      times.gradient.push(seconds(gradient));
    }
    return {
      forward: median(times.forward) / batchSize,
      gradient: median(times.gradient) / batchSize,
      batchSize,
      classes: classCount(model),
      inputSize: shape.reduce((a, b) => a * b, 1),
    };
  } finally {
    x.dispose();
  }
}

/** Each model (folder, model.json, gccs.json or .onnx) loaded and timed in turn. */
export async function calibrateModels(models: string[], batchSize: number): Promise<PassTimes[]> {
  const times: PassTimes[] = [];
  for (const location of models) {
    const { model, modelJson } = await loadModelDir(location);
    try {
      times.push(calibratePasses(model, batchSize, modelJson));
    } finally {
      model.dispose();
    }
  }
  return times;
}
