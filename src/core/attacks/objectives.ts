/** The attack losses on the raw outputs z, and the target classes of the targeted attacks. */
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../tf';
import { UserError } from '../errors';
import { argmaxRows } from '../metrics/classification';
import { AttackLoss, TargetRule, classCount, classesByOutput, outputsOf } from './common';

/**
 * Per-sample loss [B] of z [B, D] with respect to `classes` [B]; larger means further from that
 * class, so untargeted attacks ascend it for the true class and targeted ones descend it for the target.
 * - crossentropy: −log softmax(z)_c, z taken as logits (the paper's default);
 * - margin (Carlini–Wagner): max_{j≠c} z_j − z_c, positive once another class wins;
 * - dlr (Croce & Hein 2020): −(z_c − max_{j≠c} z_j)/(z_π1 − z_π3), z_π1 ≥ z_π2 ≥ … the sorted
 *   outputs: the margin divided by the spread of the top outputs, so rescaling z changes nothing;
 * - latent: ‖z − μ_T·e_c‖², the squared distance to class c's GCCS vertex (its sign-gradient is
 *   the distance's).
 */
export function attackLoss(kind: AttackLoss, z: tf.Tensor2D, classes: Int32Array, muT: number): tf.Tensor1D {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.tensor1d(classes, 'int32'), z.shape[1]);
    switch (kind) {
      case 'crossentropy':
        return unmaskedCrossEntropy(z, classes);
      case 'margin':
        return tf.sub(bestOther(z, oneHot), tf.sum(tf.mul(oneHot, z), 1));
      case 'dlr': {
        const [first, , third] = sortedOutputs(z, 3);
        return tf.div(tf.sub(bestOther(z, oneHot), tf.sum(tf.mul(oneHot, z), 1)), tf.add(tf.sub(first, third), DLR_TINY));
      }
      case 'latent':
        return tf.sum(tf.square(tf.sub(z, tf.mul(oneHot, muT))), 1);
    }
  }) as tf.Tensor1D;
}

/** Keeps the DLR ratio finite when the top outputs are equal (AutoAttack's 1e-12). */
const DLR_TINY = 1e-12;

/** max_{j≠c} z_j per row, for one-hot rows of c. */
function bestOther(z: tf.Tensor2D, oneHot: tf.Tensor): tf.Tensor1D {
  return tf.max(tf.where(tf.cast(oneHot, 'bool'), tf.fill(z.shape, -Infinity), z), 1);
}

/**
 * The k largest outputs of each row, largest first, as k tensors [B] that carry z's gradient. The
 * order is read from z's values (no gradient flows through a sort).
 */
function sortedOutputs(z: tf.Tensor2D, k: number): tf.Tensor1D[] {
  const dims = z.shape[1];
  if (dims < k) throw new UserError(`the DLR loss needs at least ${k} classes (the model has ${dims})`);
  const order = classesByOutput(z.dataSync(), dims);
  return Array.from({ length: k }, (_, rank) =>
    tf.sum(
      tf.mul(
        tf.oneHot(
          tf.tensor1d(
            order.map((row) => row[rank]),
            'int32',
          ),
          dims,
        ),
        z,
      ),
      1,
    ),
  );
}

/**
 * Targeted DLR (Croce & Hein 2020), to ascend: −(z_y − z_t)/(z_π1 − (z_π3 + z_π4)/2), positive once
 * the target t beats the true class y. With 3 classes z_π3 stands in for the missing z_π4.
 */
export function targetedDlrLoss(z: tf.Tensor2D, labels: Int32Array, targets: Int32Array): tf.Tensor1D {
  return tf.tidy(() => {
    const dims = z.shape[1];
    const [first, , third, fourth = third] = sortedOutputs(z, Math.max(3, Math.min(4, dims)));
    const at = (classes: Int32Array) => tf.sum(tf.mul(tf.oneHot(tf.tensor1d(classes, 'int32'), dims), z), 1);
    const spread = tf.sub(first, tf.mul(tf.add(third, fourth), 0.5));
    return tf.div(tf.sub(at(targets), at(labels)), tf.add(spread, DLR_TINY));
  }) as tf.Tensor1D;
}

/**
 * −log softmax(z)_c, whose gradient with respect to z is the true one (p − e_c) divided per sample
 * by the positive factor exp(max_{j≠c} z_j − logsumexp z): same direction, same signs, but it
 * cannot vanish. On a confident model softmax(z)_c rounds to 1 in float32, p_c − 1 becomes exactly
 * 0 and a sign-gradient attack stalls: gradient masking by rounding, not robustness. Only the
 * direction of this loss's gradient is used (the attacks normalise it). The value is computed as
 * softplus(logsumexp_{j≠c}(z_j − z_c)), equal to −log softmax(z)_c but not rounded to 0 on a
 * confident model, so attacks that compare losses (best iterate, APGD's step-size checks) still see
 * them change.
 */
function unmaskedCrossEntropy(z: tf.Tensor2D, classes: Int32Array): tf.Tensor1D {
  return crossEntropyWith(z, classes, false);
}

/**
 * The cross-entropy as the reference APGD-CE ascends it (AutoAttack and torchattacks: PyTorch's
 * float32 cross-entropy): its gradient softmax(z) − e_c is computed in float32, where p_c rounds
 * to exactly 1 once 1 + Σ_{j≠c} exp(z_j − z_c) rounds to 1, i.e. Σ_{j≠c} exp(z_j − z_c) ≤ 2⁻²⁴
 * (ties to even). There the gradient is (p_j for j ≠ c, 0 for c): it only pushes the other classes
 * up, weighted by their softmax, and leaves z_c alone — another direction than the exact
 * cross-entropy's, and on saturated outputs (a GCCS model's: targets at μ_T = 70) a stronger one
 * (README › Robustness of the MNIST models). Elsewhere it is the exact direction. Same value and
 * the same per-sample rescaling as unmaskedCrossEntropy, so it cannot vanish either (the peer's
 * does once every p_j underflows).
 */
export function referenceCrossEntropy(z: tf.Tensor2D, classes: Int32Array): tf.Tensor1D {
  return crossEntropyWith(z, classes, true);
}

/** ln 2⁻²⁴: p_c rounds to 1 in float32 when logsumexp_{j≠c}(z_j − z_c) is at most this. */
const LOG_FLOAT32_HALF_ULP_OF_ONE = -24 * Math.LN2;

function crossEntropyWith(z: tf.Tensor2D, classes: Int32Array, dropOwnWhenSaturated: boolean): tf.Tensor1D {
  // The one-hot rows are made where they are used: the gradient runs after this call's scope ends.
  const oneHotOf = (logits: tf.Tensor) => tf.oneHot(tf.tensor1d(classes, 'int32'), logits.shape[1] as number);
  /** logsumexp_{j≠c}(z_j − z_c) per row [B, 1]: −log softmax(z)_c is its softplus. */
  const othersOverOwn = (logits: tf.Tensor, isClass: tf.Tensor) =>
    tf.logSumExp(tf.sub(tf.where(isClass, tf.fill(logits.shape, -Infinity), logits), tf.sum(tf.mul(oneHotOf(logits), logits), 1, true)), 1, true);
  const loss = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([input]);
    const value = tf.softplus(tf.squeeze(othersOverOwn(input, tf.cast(oneHotOf(input), 'bool')), [1]));
    const gradFunc = (dy: tf.Tensor, [logits]: tf.Tensor[]) =>
      tf.tidy(() => {
        const oneHot = oneHotOf(logits);
        const isClass = tf.cast(oneHot, 'bool');
        const runnerUp = tf.max(tf.where(isClass, tf.fill(logits.shape, -Infinity), logits), 1, true);
        const others = tf.where(isClass, tf.zerosLike(logits), tf.exp(tf.sub(logits, runnerUp)));
        let own = tf.sum(others, 1, true);
        if (dropOwnWhenSaturated) own = tf.where(tf.lessEqual(othersOverOwn(logits, isClass), LOG_FLOAT32_HALF_ULP_OF_ONE), tf.zerosLike(own), own);
        const direction = tf.sub(others, tf.mul(oneHot, own));
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
  if (rule === 'least-likely')
    return argmaxRows(
      outputsOf(model, x).map((v) => -v),
      dims,
    );
  if (rule >= dims) throw new UserError(`target class ${rule} is out of range: the model has ${dims} classes`);
  return new Int32Array(labels.length).fill(rule);
}
