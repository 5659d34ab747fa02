/** The attack losses on the raw outputs z, and the target classes of the targeted attacks. */
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import { UserError } from '../errors';
import { argmaxRows } from '../metrics/classification';
import { AttackLoss, TargetRule, classCount, outputsOf } from './common';

/**
 * Per-sample loss [B] of z [B, D] with respect to `classes` [B]; larger means further from that
 * class, so untargeted attacks ascend it for the true class and targeted ones descend it for the target.
 * - crossentropy: −log softmax(z)_c, z taken as logits (the paper's default);
 * - margin (Carlini–Wagner): max_{j≠c} z_j − z_c, positive once another class wins;
 * - latent: ‖z − μ_T·e_c‖², the squared distance to class c's GCCS vertex (its sign-gradient is
 *   the distance's).
 */
export function attackLoss(kind: AttackLoss, z: tf.Tensor2D, classes: Int32Array, muT: number): tf.Tensor1D {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.tensor1d(classes, 'int32'), z.shape[1]);
    switch (kind) {
      case 'crossentropy':
        return unmaskedCrossEntropy(z, classes);
      case 'margin': {
        const others = tf.where(tf.cast(oneHot, 'bool'), tf.fill(z.shape, -Infinity), z);
        return tf.sub(tf.max(others, 1), tf.sum(tf.mul(oneHot, z), 1));
      }
      case 'latent':
        return tf.sum(tf.square(tf.sub(z, tf.mul(oneHot, muT))), 1);
    }
  }) as tf.Tensor1D;
}

/**
 * −log softmax(z)_c, whose gradient with respect to z is the true one (p − e_c) divided per sample
 * by the positive factor exp(max_{j≠c} z_j − logsumexp z): same direction, same signs, but it
 * cannot vanish. On a confident model softmax(z)_c rounds to 1 in float32, p_c − 1 becomes exactly
 * 0 and a sign-gradient attack stalls: gradient masking by rounding, not robustness. Only the
 * direction of this loss's gradient is used (the L∞ attacks take its sign).
 */
function unmaskedCrossEntropy(z: tf.Tensor2D, classes: Int32Array): tf.Tensor1D {
  // The one-hot rows are made where they are used: the gradient runs after this call's scope ends.
  const oneHotOf = (logits: tf.Tensor) => tf.oneHot(tf.tensor1d(classes, 'int32'), logits.shape[1] as number);
  const loss = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([input]);
    const value = tf.neg(tf.sum(tf.mul(oneHotOf(input), tf.logSoftmax(input)), 1));
    const gradFunc = (dy: tf.Tensor, [logits]: tf.Tensor[]) =>
      tf.tidy(() => {
        const oneHot = oneHotOf(logits);
        const isClass = tf.cast(oneHot, 'bool');
        const runnerUp = tf.max(tf.where(isClass, tf.fill(logits.shape, -Infinity), logits), 1, true);
        const others = tf.where(isClass, tf.zerosLike(logits), tf.exp(tf.sub(logits, runnerUp)));
        const direction = tf.sub(others, tf.mul(oneHot, tf.sum(others, 1, true)));
        return tf.mul(direction, tf.expandDims(dy, 1));
      });
    return { value, gradFunc };
  }) as Parameters<typeof tf.customGrad>[0]);
  return loss(z) as tf.Tensor1D;
}

/** The class each sample is pushed toward by a targeted attack. */
export function targetClasses(model: tfl.LayersModel, x: tf.Tensor4D, labels: Int32Array, rule: TargetRule): Int32Array {
  const dims = classCount(model);
  if (rule === 'next') return labels.map((y) => (y + 1) % dims);
  if (rule === 'least-likely') return argmaxRows(outputsOf(model, x).map((v) => -v), dims);
  if (rule >= dims) throw new UserError(`target class ${rule} is out of range: the model has ${dims} classes`);
  return new Int32Array(labels.length).fill(rule);
}
