/**
 * The preprocessing sidecar of a graph model, model.json.gccs.json beside its model.json: the same
 * file, read by the same code, as an ONNX model's net.onnx.gccs.json (README › Evaluating ONNX
 * models), only its layout defaults to NHWC, TensorFlow's. No TensorFlow.js here.
 */
import { UserError } from '../../errors';
import { onnxSidecarOf } from '../modelLocation';
import { Preprocessing, readSidecar } from '../onnx/check';

export type { Preprocessing };

/** model.json → model.json.gccs.json. */
export const graphSidecarOf = onnxSidecarOf;

/**
 * The preprocessing of the graph model whose input has `inputDims` ([−1, H, W, C] or, with layout
 * NCHW, [−1, C, H, W]): the sidecar's, else [0, 1], no normalisation, NHWC. Also gives the image
 * shape the model takes, [H, W, C].
 */
export function readGraphPreprocessing(
  modelJson: string,
  inputDims: number[],
): { preprocessing: Preprocessing; sidecar: string | null; imageShape: [number, number, number] } {
  const sidecar = readSidecar(modelJson, 'NHWC');
  const preprocessing: Preprocessing = sidecar ?? { layout: 'NHWC', range: [0, 1], mean: [0], std: [1] };
  const [, a, b, c] = inputDims;
  const imageShape: [number, number, number] = preprocessing.layout === 'NCHW' ? [b, c, a] : [a, b, c];
  for (const key of ['mean', 'std'] as const) {
    const count = preprocessing[key].length;
    if (count !== 1 && count !== imageShape[2]) throw new UserError(`${graphSidecarOf(modelJson)}: ${key} has ${count} values for ${imageShape[2]} channels`);
  }
  return { preprocessing, sidecar: sidecar ? graphSidecarOf(modelJson) : null, imageShape };
}
