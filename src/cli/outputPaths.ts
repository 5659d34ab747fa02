/**
 * Checks a command's outputs before it writes anything: each can be written where it is, none is
 * a folder where a file goes (or the reverse), and no two of them, nor an output and an input, are
 * the same file (after symlinks; hard links too, for files that exist).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../core/errors';
import { graphSidecarOf } from '../core/io/graphModel/sidecar';
import { META_FILE, resolveModelJson } from '../core/io/modelDir';
import { ONNX_SIDECAR_SUFFIX } from '../core/io/onnx/model';

export interface PathFlag {
  /** The flag the path comes from (its default when not given), for messages. */
  flag: string;
  path: string;
}

export interface OutputPath extends PathFlag {
  kind: 'file' | 'folder';
}

const codeOf = (error: unknown) => (error as NodeJS.ErrnoException).code ?? (error as Error).message;

/** stat, or undefined where nothing is (ENOTDIR too: a path below a file). */
function statOf(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch (error) {
    if (codeOf(error) === 'ENOENT' || codeOf(error) === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** Where `file` is, for comparisons: its device and inode when it exists, else its real parent's path. */
function identity(file: string): string | undefined {
  const stat = statOf(file);
  if (stat) return `inode ${stat.dev}:${stat.ino}`;
  const absolute = path.resolve(file);
  const parent = path.dirname(absolute);
  return parent === absolute ? undefined : `${identity(parent) ?? parent}/${path.basename(absolute)}`;
}

/** The nearest path above `file` that exists. */
function existingAncestor(file: string): string {
  let dir = path.dirname(path.resolve(file));
  while (!fs.existsSync(dir)) dir = path.dirname(dir);
  return dir;
}

function checkWritable({ flag, path: file, kind }: OutputPath): void {
  const fail = (problem: string) => new UserError(`flag --${flag}: ${file} ${problem}`);
  const stat = statOf(file);
  if (stat) {
    if (kind === 'file' && stat.isDirectory()) throw fail('is a folder (expected a file)');
    if (kind === 'file' && !stat.isFile()) throw fail('is not a regular file');
    if (kind === 'folder' && !stat.isDirectory()) throw fail('is a file (expected a folder)');
  }
  // A new file needs a folder above it that we may write in; the folders between are created.
  const target = stat ? file : existingAncestor(file);
  if (!stat && !fs.statSync(target).isDirectory()) throw fail(`cannot be created: ${target} is not a folder`);
  try {
    fs.accessSync(target, stat?.isFile() ? fs.constants.W_OK : fs.constants.W_OK | fs.constants.X_OK);
  } catch (error) {
    throw fail(`cannot be written (${codeOf(error)}${stat ? '' : ` in ${target}`})`);
  }
}

/** Throws a one-line UserError naming the flag if an output cannot be written or collides with another path. */
export function checkOutputs(outputs: OutputPath[], inputs: PathFlag[] = []): void {
  outputs.forEach(checkWritable);
  const seen = new Map<string, PathFlag>();
  for (const input of inputs) {
    const key = identity(input.path);
    if (key) seen.set(key, input);
  }
  for (const output of outputs) {
    const key = identity(output.path);
    const other = key && seen.get(key);
    if (other) {
      const isInput = inputs.includes(other);
      throw new UserError(`flag --${output.flag}: ${output.path} is the same file as ${isInput ? 'the input ' : ''}--${other.flag} (${other.path}): write to another file`);
    }
    if (key) seen.set(key, output);
  }
}

/** The files of the model at `location` (a folder, its model.json or gccs.json) that an output must not replace. */
export function modelInputs(location: string): PathFlag[] {
  // An ONNX model: the file and its preprocessing sidecar (README › Evaluating ONNX models).
  if (location.toLowerCase().endsWith('.onnx')) return [location, `${location}${ONNX_SIDECAR_SUFFIX}`].map((file) => ({ flag: 'model', path: file }));
  const modelJson = resolveModelJson(location);
  // A graph model's preprocessing sidecar too (README › GraphModels).
  return [modelJson, path.join(path.dirname(modelJson), META_FILE), graphSidecarOf(modelJson)].map((file) => ({ flag: 'model', path: file }));
}
