/**
 * The latent panel's data: which model folder a file means, the worker's `latent` request for it,
 * and the check of its answer. No vscode and no TensorFlow.js (a worker computes z); tested directly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LatentOptions, LatentOutput } from '../../../core/inspect/types';
import { isOnnxFile, modelFolderOf } from '../../../core/io/modelLocation';
import type { SweepDataConfig } from '../../../core/sweep/types';
import type { TrainConfig } from '../../../core/train/trainer';
import { splitOptionsOf } from '../../workspace/modelData';
import type { LatentData, LatentRequest } from './messages';

export { LATENT_DEFAULTS } from './messages';

/** A file or folder that is not a model; the message names it and the problem. */
export class LatentInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LatentInputError';
  }
}

/** The model folder of a folder, its model.json or its gccs.json (an .onnx file, of itself or its sidecar); throws naming the path when there is no model. */
export function modelFolder(location: string): string {
  const folder = modelFolderOf(location);
  if (!fs.existsSync(folder)) throw new LatentInputError(`${location}: does not exist`);
  if (isOnnxFile(folder)) return folder;
  if (!fs.existsSync(path.join(folder, 'model.json'))) throw new LatentInputError(`${folder}: no model.json here (a GCCS model folder has model.json and gccs.json, written by GCCS: Train)`);
  return folder;
}

/**
 * What the worker computes for the panel; a training's checkpoint has no gccs.json: its
 * configuration names the data; a model without one (an .onnx file) is given `data`.
 */
export function latentOptions(modelDir: string, request: LatentRequest, trainConfig?: TrainConfig, data?: SweepDataConfig): LatentOptions {
  return {
    model: modelDir,
    count: request.count,
    ...(request.attack !== 'none' && { attack: { name: request.attack, eps: request.eps } }),
    ...(trainConfig && { trainConfig }),
    ...(data && splitOptionsOf(data)),
  };
}

/** Checks the worker's answer and labels it; `source` says where the model came from (e.g. a checkpoint's epoch). */
export function latentData(modelDir: string, output: LatentOutput, source?: string): LatentData {
  const o = output;
  const bad = (what: string) => new LatentInputError(`latent space of ${modelDir}: ${what}`);
  if (!o || !Number.isInteger(o.dims) || o.dims < 2) throw bad('no latent dimensions in its output');
  if (!Array.isArray(o.samples) || o.samples.length === 0) throw bad('no samples in its output');
  if (!Array.isArray(o.classNames) || o.classNames.length !== o.dims) throw bad(`${o.classNames?.length ?? 0} class names for ${o.dims} outputs`);
  for (const sample of o.samples) {
    if (sample.z?.length !== o.dims || (sample.zAttacked && sample.zAttacked.length !== o.dims)) throw bad('a sample with the wrong number of outputs');
  }
  const name = path.basename(modelDir) === 'checkpoint' ? path.basename(path.dirname(modelDir)) : path.basename(modelDir);
  const attack = o.attack ? `, ${o.attack.name.toUpperCase()} ε = ${o.attack.eps}` : '';
  return {
    modelDir,
    title: `Latent space: ${name}`,
    detail: `${o.split} split, ${o.samples.length} samples${attack}${source ? `, ${source}` : ''}`,
    classNames: o.classNames,
    dims: o.dims,
    muT: o.muT,
    attack: o.attack ?? null,
    samples: o.samples,
  };
}
