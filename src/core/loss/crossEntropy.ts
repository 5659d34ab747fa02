import * as tf from '../tf';

/** Mean softmax cross-entropy with the network outputs z as logits. */
export function crossEntropyLoss(z: tf.Tensor2D, labels: Int32Array): tf.Scalar {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), z.shape[1]);
    return tf.mean(tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(z)), 1))) as tf.Scalar;
  });
}
