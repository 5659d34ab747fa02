/** gccs export: a model trained here as an ONNX file (and its sidecar), for PyTorch and other runtimes. */
import * as fs from 'node:fs';
import { UserError } from '../core/errors';
import { loadModelDir } from '../core/io/modelDir';
import { EXPORT_OPSET, exportOnnx } from '../core/io/onnx/export';
import { ONNX_SIDECAR_SUFFIX } from '../core/io/onnx/model';
import type { FlagSpecs } from './args';
import type { CommandContext } from './commands';
import { checkOutputs, modelInputs } from './outputPaths';

export const EXPORT_FLAGS: FlagSpecs = {
  model: { type: 'string', description: 'model folder, model.json or gccs.json (required)' },
  onnx: { type: 'string', description: `write the model here as ONNX (opset ${EXPORT_OPSET}, NCHW input in [0, 1], logits out) and its sidecar <file>${ONNX_SIDECAR_SUFFIX} (required; never overwrites a file)` },
};

export async function exportCommand({ flags, log }: CommandContext) {
  const location = flags.model as string | undefined;
  const out = flags.onnx as string | undefined;
  if (!location) throw new UserError('flag --model is required (a model folder, model.json or gccs.json)');
  if (location.toLowerCase().endsWith('.onnx')) throw new UserError(`flag --model: ${location} is an ONNX file already (export takes a model folder trained here)`);
  if (!out) throw new UserError('flag --onnx is required (the .onnx file to write)');
  if (!out.toLowerCase().endsWith('.onnx')) throw new UserError(`flag --onnx: ${out} does not end in .onnx`);
  for (const file of [out, `${out}${ONNX_SIDECAR_SUFFIX}`]) {
    if (fs.existsSync(file)) throw new UserError(`flag --onnx: ${file} already exists: write to another file (an export never overwrites one)`);
  }
  checkOutputs([{ flag: 'onnx', path: out, kind: 'file' }, { flag: 'onnx', path: `${out}${ONNX_SIDECAR_SUFFIX}`, kind: 'file' }], modelInputs(location));
  const { model, meta, modelJson } = await loadModelDir(location);
  try {
    const written = exportOnnx(model, out, meta?.classNames);
    log(`${modelJson} → ${out} (${written.nodes} nodes, ${(written.bytes / 1024).toFixed(0)} KiB; input NCHW pixels in [0, 1], output the logits) and ${written.sidecar}`);
    return { model: modelJson, onnx: out, sidecar: written.sidecar, nodes: written.nodes, bytes: written.bytes, opset: EXPORT_OPSET };
  } finally {
    model.dispose();
  }
}
