/** Predicted class of each row of z [N, D]: argmax_i z_i (the decision rule of both losses). */
export function argmaxRows(z: Float32Array, dims: number): Int32Array {
  const count = z.length / dims;
  const predictions = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    let best = 0;
    for (let i = 1; i < dims; i++) if (z[n * dims + i] > z[n * dims + best]) best = i;
    predictions[n] = best;
  }
  return predictions;
}

export function accuracy(predictions: Int32Array, labels: Int32Array): number {
  let correct = 0;
  predictions.forEach((p, i) => (correct += p === labels[i] ? 1 : 0));
  return labels.length ? correct / labels.length : 0;
}

/** confusion[true][predicted] counts. */
export function confusionMatrix(predictions: Int32Array, labels: Int32Array, numClasses: number): number[][] {
  const matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  labels.forEach((label, i) => matrix[label][predictions[i]]++);
  return matrix;
}

/** Unweighted mean over classes of F1 = 2PR/(P+R); a class never predicted nor present scores 0. */
export function macroF1(confusion: number[][]): number {
  const k = confusion.length;
  let total = 0;
  for (let c = 0; c < k; c++) {
    const truePositives = confusion[c][c];
    let predicted = 0;
    let actual = 0;
    for (let o = 0; o < k; o++) {
      predicted += confusion[o][c];
      actual += confusion[c][o];
    }
    total += predicted + actual > 0 ? (2 * truePositives) / (predicted + actual) : 0;
  }
  return total / k;
}
