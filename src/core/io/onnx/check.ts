/**
 * What is checked of an .onnx file and its preprocessing sidecar before any tensor is made: the
 * file under the rules of model folders (parse.ts), every node's op supported, the sidecar, and the
 * graph input an image classifier takes. No TensorFlow.js here: loadOnnxModel (model.ts) runs these
 * checks, and so does the extension host before it asks anything (src/host/workspace/preflight.ts).
 */
import * as path from 'node:path';
import { UserError } from '../../errors';
import { ONNX_LIMITS } from '../../limits';
import { quote, readFolderJson, realFolder } from '../modelFolder';
import { onnxSidecarOf } from '../modelLocation';
import { OnnxGraph, readOnnxFile, readOnnxFileAsync } from './parse';

/** The ops the graph runs on (ops.ts implements exactly these: its OPS is a Record over them). */
export const ONNX_OPS = [
  'Abs', 'Add', 'AveragePool', 'BatchNormalization', 'Cast', 'Clip', 'Concat', 'Constant', 'ConstantOfShape', 'Conv', 'Div',
  'Dropout', 'Erf', 'Exp', 'Flatten', 'Gather', 'Gemm', 'GlobalAveragePool', 'Identity', 'LeakyRelu', 'Log', 'MatMul', 'MaxPool',
  'Mul', 'Neg', 'Pad', 'Pow', 'Reciprocal', 'ReduceMean', 'ReduceSum', 'Relu', 'Reshape', 'Shape', 'Sigmoid', 'Slice', 'Softmax',
  'Sqrt', 'Squeeze', 'Sub', 'Tanh', 'Transpose', 'Unsqueeze',
] as const;
export type OnnxOp = (typeof ONNX_OPS)[number];

export interface Preprocessing {
  /** The layout of the graph's input: NCHW (PyTorch) or NHWC. */
  layout: 'NCHW' | 'NHWC';
  /** The pixel range the model was trained on: [0, 1] or [0, 255]. */
  range: [number, number];
  /** Per channel (or one value for all), applied after scaling to `range`: (x − mean) / std. */
  mean: number[];
  std: number[];
  classNames?: string[];
}

/** An .onnx file that passed every check that needs no tensor. */
export interface CheckedOnnx {
  graph: OnnxGraph;
  preprocessing: Preprocessing;
  /** The sidecar's path when there is one (else the defaults: [0, 1], no normalisation). */
  sidecar: string | null;
  /** What the model takes, as every model here: NHWC pixels, without the batch dimension. */
  inputShape: [number, number, number];
}

/**
 * Reads and checks the sidecar of a model file (file.gccs.json); null when there is none. A sidecar
 * without "layout" means `defaultLayout` (a graph model's is NHWC: graphModel/sidecar.ts).
 */
export function readSidecar(file: string, defaultLayout: Preprocessing['layout'] = 'NCHW'): Preprocessing | null {
  const sidecar = onnxSidecarOf(file);
  const folderReal = realFolder(path.dirname(file), file);
  let value: unknown;
  try {
    value = readFolderJson(sidecar, folderReal, ONNX_LIMITS.sidecarBytes, 'ONNX_LIMITS.sidecarBytes');
  } catch (error) {
    if (error instanceof UserError && / is missing$/.test(error.message)) return null;
    throw error;
  }
  return checkSidecar(value, (problem: string) => new UserError(`${sidecar}: ${problem}`), defaultLayout);
}

/** The sidecar's content as Preprocessing, each problem one line (via `fail`). */
function checkSidecar(value: unknown, fail: (problem: string) => UserError, defaultLayout: Preprocessing['layout']): Preprocessing {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw fail('not a JSON object');
  const { layout = defaultLayout, range = [0, 1], mean = [0], std = [1], classNames, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length) throw fail(`unknown key ${quote(extra[0])} (known: layout, range, mean, std, classNames)`);
  if (layout !== 'NCHW' && layout !== 'NHWC') throw fail(`layout must be "NCHW" or "NHWC", not ${quote(layout)}`);
  const numbers = (v: unknown, name: string) => {
    if (!Array.isArray(v) || !v.length || v.length > 4 || !v.every((n) => typeof n === 'number' && Number.isFinite(n))) throw fail(`${name} must be a list of 1 to 4 finite numbers`);
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

/** Reads an .onnx file and its sidecar and checks all that can be checked without running the graph; each problem one line naming the file. */
export function readCheckedOnnx(file: string): CheckedOnnx {
  return checkOnnxGraph(file, readOnnxFile(file));
}

/** readCheckedOnnx with the .onnx file read on fs.promises (readOnnxFileAsync), for the extension host. */
export async function readCheckedOnnxAsync(file: string): Promise<CheckedOnnx> {
  return checkOnnxGraph(file, await readOnnxFileAsync(file));
}

/** The checks of readCheckedOnnx on the file's graph: its ops, its sidecar (read here) and its input. */
function checkOnnxGraph(file: string, graph: OnnxGraph): CheckedOnnx {
  const supported = new Set<string>(ONNX_OPS);
  const unsupported = graph.nodes.find((node) => !supported.has(node.opType));
  if (unsupported) {
    throw new UserError(`${file}: node ${unsupported.label} uses op ${quote(unsupported.opType)}, which the reader does not support (supported: ${ONNX_OPS.join(', ')})`);
  }
  const sidecar = readSidecar(file);
  const dims = graph.input.dims;
  // Without a sidecar: NCHW (PyTorch's), unless the last dim looks like channels and the second does not.
  const looksNHWC = dims.length === 4 && [1, 3].includes(dims[3]) && ![1, 3].includes(dims[1]);
  const layout = sidecar?.layout ?? (looksNHWC ? 'NHWC' : 'NCHW');
  const preprocessing: Preprocessing = sidecar ?? { layout, range: [0, 1], mean: [0], std: [1] };
  if (dims.length !== 4) throw new UserError(`${file}: the graph input ${quote(graph.input.name)} has ${dims.length} dimensions; an image classifier takes 4 (N, C, H, W or N, H, W, C)`);
  const [height, width, channels] = layout === 'NCHW' ? [dims[2], dims[3], dims[1]] : [dims[1], dims[2], dims[3]];
  if (!(height > 0 && width > 0 && channels > 0)) throw new UserError(`${file}: the graph input ${quote(graph.input.name)} has dims ${quote(dims)}; height, width and channels must be fixed numbers`);
  if (preprocessing.mean.length !== 1 && preprocessing.mean.length !== channels) throw new UserError(`${onnxSidecarOf(file)}: mean has ${preprocessing.mean.length} values for ${channels} channels`);
  if (preprocessing.std.length !== 1 && preprocessing.std.length !== channels) throw new UserError(`${onnxSidecarOf(file)}: std has ${preprocessing.std.length} values for ${channels} channels`);
  return { graph, preprocessing, sidecar: sidecar ? onnxSidecarOf(file) : null, inputShape: [height, width, channels] };
}
