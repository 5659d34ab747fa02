import * as tf from '../tf';

/**
 * log-determinants of a batch of symmetric positive-definite matrices [K, D, D] → [K],
 * with gradient Σ⁻¹ (symmetric). TensorFlow.js has no Cholesky op, and D is the number of
 * classes (small), so the factorisation runs in float64 JavaScript.
 */
export const batchedLogDet = tf.customGrad(((matrices: tf.Tensor) => {
  const [count, size] = matrices.shape;
  const values = matrices.dataSync();
  const logDets = new Float32Array(count);
  const inverses = new Float32Array(count * size * size);
  for (let k = 0; k < count; k++) {
    const offset = k * size * size;
    const { logDet, inverse } = choleskyLogDetInverse(values.subarray(offset, offset + size * size), size);
    logDets[k] = logDet;
    inverses.set(inverse, offset);
  }
  return {
    value: tf.tensor1d(logDets),
    gradFunc: (dy: tf.Tensor) => tf.mul(tf.reshape(dy, [count, 1, 1]), tf.tensor3d(inverses, [count, size, size])),
  };
}) as Parameters<typeof tf.customGrad>[0]) as unknown as (matrices: tf.Tensor3D) => tf.Tensor1D;

/** log|A| and A⁻¹ of a symmetric positive-definite matrix, by Cholesky in float64; NaN if not PD. */
export function choleskyLogDetInverse(a: ArrayLike<number>, n: number): { logDet: number; inverse: Float64Array } {
  const l = new Float64Array(n * n);
  let logDet = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = (a[i * n + j] + a[j * n + i]) / 2;
      for (let k = 0; k < j; k++) sum -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(sum > 0)) return { logDet: NaN, inverse: new Float64Array(n * n).fill(NaN) };
        l[i * n + i] = Math.sqrt(sum);
        logDet += 2 * Math.log(l[i * n + i]);
      } else {
        l[i * n + j] = sum / l[j * n + j];
      }
    }
  }
  // A⁻¹ = L⁻ᵀ L⁻¹: invert the triangle, then multiply.
  const lInv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    lInv[i * n + i] = 1 / l[i * n + i];
    for (let j = 0; j < i; j++) {
      let sum = 0;
      for (let k = j; k < i; k++) sum -= l[i * n + k] * lInv[k * n + j];
      lInv[i * n + j] = sum / l[i * n + i];
    }
  }
  const inverse = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      for (let k = i; k < n; k++) sum += lInv[k * n + i] * lInv[k * n + j];
      inverse[i * n + j] = sum;
      inverse[j * n + i] = sum;
    }
  }
  return { logDet, inverse };
}
