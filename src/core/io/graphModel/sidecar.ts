/**
 * The preprocessing sidecar of a graph model, model.json.gccs.json beside its model.json: the same
 * file, with the same keys, as an ONNX model's (README › Evaluating ONNX models), only its layout
 * defaults to NHWC, TensorFlow's. No TensorFlow.js here.
 */
import * as path from 'node:path';
import { UserError } from '../../errors';
import { ONNX_LIMITS } from '../../limits';
import { quote, readFolderJson, realFolder } from '../modelFolder';
import type { Preprocessing } from '../onnx/model';

export type { Preprocessing };

/** model.json → model.json.gccs.json (an ONNX model's sidecar is named the same way: net.onnx.gccs.json). */
export const graphSidecarOf = (modelJson: string) => `${modelJson}.gccs.json`;

/** The sidecar's content as Preprocessing (layout NHWC unless it says otherwise), each problem one line. */
function checkSidecar(value: unknown, fail: (problem: string) => UserError): Preprocessing {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw fail('not a JSON object');
  const { layout = 'NHWC', range = [0, 1], mean = [0], std = [1], classNames, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length) throw fail(`unknown key ${quote(extra[0])} (known: layout, range, mean, std, classNames)`);
  if (layout !== 'NCHW' && layout !== 'NHWC') throw fail(`layout must be "NCHW" or "NHWC", not ${quote(layout)}`);
  const numbers = (v: unknown, name: string) => {
    if (!Array.isArray(v) || !v.length || v.length > 4 || !v.every((n) => typeof n === 'number' && Number.isFinite(n)))
      throw fail(`${name} must be a list of 1 to 4 finite numbers`);
    return v as number[];
  };
  const r = numbers(range, 'range');
  if (r.length !== 2 || r[0] !== 0 || (r[1] !== 1 && r[1] !== 255)) throw fail('range must be [0, 1] or [0, 255]');
  const s = numbers(std, 'std');
  if (s.some((v) => v <= 0)) throw fail('std must be positive');
  const names = classNames === undefined || (Array.isArray(classNames) && classNames.every((n) => typeof n === 'string'));
  if (!names) throw fail('classNames must be a list of strings');
  return { layout, range: r as [number, number], mean: numbers(mean, 'mean'), std: s, classNames: classNames as string[] | undefined };
}

/**
 * The preprocessing of the graph model whose input has `inputDims` ([−1, H, W, C] or, with layout
 * NCHW, [−1, C, H, W]): the sidecar's, else [0, 1], no normalisation, NHWC. Also gives the image
 * shape the model takes, [H, W, C].
 */
export function readGraphPreprocessing(
  modelJson: string,
  inputDims: number[],
): { preprocessing: Preprocessing; sidecar: string | null; imageShape: [number, number, number] } {
  const sidecar = graphSidecarOf(modelJson);
  const fail = (problem: string) => new UserError(`${sidecar}: ${problem}`);
  let value: unknown;
  try {
    value = readFolderJson(sidecar, realFolder(path.dirname(modelJson), modelJson), ONNX_LIMITS.sidecarBytes, 'ONNX_LIMITS.sidecarBytes');
  } catch (error) {
    if (!(error instanceof UserError && / is missing$/.test(error.message))) throw error;
  }
  const preprocessing: Preprocessing = value === undefined ? { layout: 'NHWC', range: [0, 1], mean: [0], std: [1] } : checkSidecar(value, fail);
  const [, a, b, c] = inputDims;
  const imageShape: [number, number, number] = preprocessing.layout === 'NCHW' ? [b, c, a] : [a, b, c];
  for (const key of ['mean', 'std'] as const) {
    const count = preprocessing[key].length;
    if (count !== 1 && count !== imageShape[2]) throw fail(`${key} has ${count} values for ${imageShape[2]} channels`);
  }
  return { preprocessing, sidecar: value === undefined ? null : sidecar, imageShape };
}
