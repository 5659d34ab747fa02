/**
 * The latent panel's data: which model folder a file means, the `gccs latent` arguments, and the
 * check of its JSON output. No vscode and no TensorFlow.js (the CLI computes z); tested directly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { modelFolderOf } from '../../../core/io/modelLocation';
import type { LatentData, LatentRequest } from './messages';

export { LATENT_DEFAULTS } from './messages';

/** A file or folder that is not a model; the message names it and the problem. */
export class LatentInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LatentInputError';
  }
}

/** The model folder of a folder, its model.json or its gccs.json; throws naming the path when there is no model. */
export function modelFolder(location: string): string {
  const folder = modelFolderOf(location);
  if (!fs.existsSync(folder)) throw new LatentInputError(`${location}: does not exist`);
  if (!fs.existsSync(path.join(folder, 'model.json'))) throw new LatentInputError(`${folder}: no model.json here (a GCCS model folder has model.json and gccs.json, written by GCCS: Train)`);
  return folder;
}

export function latentArgs(modelDir: string, request: LatentRequest, trainConfigFile?: string): string[] {
  return [
    'latent',
    '--model', modelDir,
    '--count', String(request.count),
    ...(request.attack !== 'none' ? ['--attack', request.attack, '--eps', String(request.eps)] : []),
    ...(trainConfigFile ? ['--train-config', trainConfigFile] : []),
  ];
}

/** What `gccs latent --json` prints (src/cli/commands.ts latentCommand). */
interface CliLatentOutput {
  model: string;
  dims: number;
  classNames: string[];
  muT: number | null;
  split: string;
  attack?: { name: string; eps: number };
  samples: { label: number; z: number[]; zAttacked?: number[] }[];
}

/** Checks the CLI's output and labels it; `source` says where the model came from (e.g. a checkpoint's epoch). */
export function latentData(modelDir: string, output: unknown, source?: string): LatentData {
  const o = output as CliLatentOutput;
  const bad = (what: string) => new LatentInputError(`gccs latent on ${modelDir}: ${what}`);
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
