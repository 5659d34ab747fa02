/**
 * Checks the extension host makes before it asks questions or starts a job, so that a model that
 * cannot be loaded or a results folder that cannot be written is one clear message at once, not a
 * failed job later. No vscode and no TensorFlow.js here; tested directly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../core/errors';
import { readLayersModelJson } from '../../core/io/layersModelCheck';
import { isGraphModelJson, readGraphModel } from '../../core/io/graphModel/read';
import { readModelJsonAsync } from '../../core/io/modelFolder';
import { META_FILE, isOnnxFile, readModelMeta, withoutSidecar } from '../../core/io/modelLocation';

/** A model folder, its model.json, gccs.json or model.json.gccs.json → the model.json path; an .onnx file or its sidecar → the .onnx file. */
export function modelJsonOf(model: string): string {
  const named = withoutSidecar(model);
  if (isOnnxFile(named)) return named;
  const base = path.basename(named);
  if (base === META_FILE) return path.join(path.dirname(named), 'model.json');
  return base.endsWith('.json') ? named : path.join(named, 'model.json');
}

/**
 * The engine's checks of an .onnx file before it runs the graph. The ONNX reader (protobufjs and its
 * schema) is loaded on the first .onnx checked, not when the extension activates.
 */
async function checkOnnx(file: string): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deferred on purpose (see above)
  await (require('../../core/io/onnx/check') as typeof import('../../core/io/onnx/check')).readCheckedOnnxAsync(file);
}

/** The engine's checks of a TensorFlow.js graph model (weights against their shapes, ops, the sidecar) before it runs it. */
async function checkGraphModel(modelJson: string, content: unknown): Promise<void> {
  const { input } = await readGraphModel(modelJson, content);
  // The sidecar's reader shares the ONNX reader's module: deferred like checkOnnx.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deferred on purpose (see checkOnnx)
  (require('../../core/io/graphModel/sidecar') as typeof import('../../core/io/graphModel/sidecar')).readGraphPreprocessing(modelJson, input.shape);
}

/** The first input shape in a LayersModel topology (without the batch dimension), when it states one. */
function topologyInputShape(topology: Record<string, unknown>): (number | null)[] | undefined {
  const config = topology.config as { layers?: { config?: { batch_input_shape?: (number | null)[] } }[] } | undefined;
  const shape = config?.layers?.find((layer) => Array.isArray(layer.config?.batch_input_shape))?.config?.batch_input_shape;
  return shape?.slice(1);
}

/**
 * Why the model cannot be loaded (missing or damaged model.json, a topology that disagrees with
 * its weights, weight shards missing, truncated or outside the folder, an invalid gccs.json, an
 * input shape that contradicts gccs.json; for an .onnx file or a TensorFlow.js graph model, the
 * engine's checks before it runs the graph: the files, weight sizes, ops, its sidecar), or undefined.
 * Bounded like the engine's own checks (MODEL_LIMITS, ONNX_LIMITS: sizes are checked before
 * anything is read), and the large files (the .onnx file, model.json, a graph model's weights) are
 * read on fs.promises, so the host's event loop runs on meanwhile.
 */
export async function modelProblem(model: string): Promise<string | undefined> {
  const modelJson = modelJsonOf(model);
  try {
    if (isOnnxFile(modelJson)) {
      await checkOnnx(modelJson);
      return undefined;
    }
    // Read once: its "format" tells which checks apply, and they check this same content.
    const content = await readModelJsonAsync(modelJson);
    if (isGraphModelJson(content)) {
      await checkGraphModel(modelJson, content);
      return undefined;
    }
    const parsed = readLayersModelJson(modelJson, content);
    const meta = readModelMeta(modelJson);
    if (!meta) return undefined;
    const shape = topologyInputShape(parsed.modelTopology);
    if (shape && (shape.length !== meta.inputShape.length || shape.some((d, i) => d !== null && d !== meta.inputShape[i]))) {
      return `${modelJson}: the model takes inputs of shape [${shape.join(', ')}] but ${path.join(path.dirname(modelJson), META_FILE)} says [${meta.inputShape.join(', ')}]`;
    }
    return undefined;
  } catch (error) {
    if (error instanceof UserError) return error.message;
    throw error;
  }
}

const DENIED = new Set(['EACCES', 'EPERM', 'EROFS']);

/** Why files cannot be written into `folder` (created if missing), or undefined; checked by writing and removing a probe file. */
export function folderWriteProblem(folder: string): string | undefined {
  const probe = path.join(folder, `.gccs-write-check-${process.pid}`);
  try {
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(probe, '');
    fs.rmSync(probe, { force: true });
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const why = DENIED.has(code) ? `permission denied (${code})` : code === 'ENOSPC' ? 'no space left on the device' : code === 'ENOTDIR' || code === 'EEXIST' ? `a file is in the way (${code})` : (error as Error).message;
    return `${folder} cannot be written: ${why}`;
  }
}
