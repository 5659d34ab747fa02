/**
 * A model folder is a sandbox: model.json, its weight shards and gccs.json are read only when
 * they resolve (after symlinks) to regular files inside the folder, with their size checked
 * before anything is read, and exactly that many bytes read. No TensorFlow.js here (the
 * extension host uses it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import { COMMIT_JOURNAL, pendingText } from './atomic';
import { CONFIG_LIMITS, MODEL_LIMITS } from '../limits';
import { formatPath, parseJson } from '../sweep/jsonSchema';

/** A file inside a model folder, checked: its real path and its size in bytes. */
export interface FolderFile {
  real: string;
  bytes: number;
}

/** A user string (a path, a name) quoted and shortened so that any error stays one readable line. */
export function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${bytes} bytes`;
}

/** What a non-regular file is, for the error message. */
function kindOf(stat: fs.Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

function realpathOrFail(file: string, label: string, owner: string): string {
  try {
    return fs.realpathSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(`${owner}: ${label} ${code === 'ENOENT' ? 'is missing' : `cannot be read (${code})`}`);
  }
}

/** The folder's real path (symlinks resolved), which every file of the model must stay inside. */
export function realFolder(folder: string, owner: string): string {
  return realpathOrFail(folder, `folder ${quote(folder)}`, owner);
}

/**
 * Checks that `file` resolves to a regular file inside `folderReal`, at most `cap.bytes` long when
 * a cap is given; `label` names it in errors, which are prefixed with `owner` (the file that refers to it).
 */
export function checkFolderFile(file: string, folderReal: string, label: string, owner: string, cap?: { bytes: number; name: string }): FolderFile {
  const real = realpathOrFail(file, label, owner);
  const inside = path.relative(folderReal, real);
  if (!inside || inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside)) {
    throw new UserError(`${owner}: ${label} resolves to a file outside the model folder`);
  }
  const stat = fs.statSync(real);
  if (!stat.isFile()) throw new UserError(`${owner}: ${label} is ${kindOf(stat)}, not a regular file`);
  if (cap && stat.size > cap.bytes) {
    throw new UserError(`${owner}: ${label} is ${formatBytes(stat.size)}, more than the ${formatBytes(cap.bytes)} cap (${cap.name}, README › Limits)`);
  }
  return { real, bytes: stat.size };
}

/**
 * A weight path from a manifest → the checked file it names: a relative path inside the folder
 * (subfolders allowed), never absolute, a URL or `..`; then as checkFolderFile.
 */
export function checkWeightPath(shard: unknown, folderReal: string, owner: string): FolderFile {
  if (typeof shard !== 'string' || shard.length === 0 || shard.includes('\0')) throw new UserError(`${owner}: weight path ${quote(shard)} is not a file name`);
  const label = `weight file ${quote(shard)}`;
  if (/^[a-z][a-z0-9+.-]*:/i.test(shard)) throw new UserError(`${owner}: ${label} is a URL; only files inside the model folder are read`);
  if (path.isAbsolute(shard) || path.win32.isAbsolute(shard)) throw new UserError(`${owner}: ${label} is an absolute path; only files inside the model folder are read`);
  if (shard.split(/[\\/]/).includes('..')) throw new UserError(`${owner}: ${label} leaves the model folder ("..")`);
  return checkFolderFile(path.join(folderReal, shard), folderReal, label, owner, { bytes: MODEL_LIMITS.weightBytes, name: 'MODEL_LIMITS.weightBytes' });
}

/** Opened without following a final symlink and without blocking (see readFolderFile). */
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW;
const cannotRead = (owner: string, label: string, error: unknown) => new UserError(`${owner}: ${label} cannot be read (${(error as NodeJS.ErrnoException).code})`);
const changedWhileRead = (owner: string, label: string) => new UserError(`${owner}: ${label} changed while it was being read`);

/**
 * Reads exactly `file.bytes` bytes of a checked file into `target` at `offset`. Opened without
 * following a final symlink and without blocking (a FIFO swapped in after the check cannot hang
 * the read), and checked again by fstat: still a regular file of the same size.
 */
export function readFolderFile(file: FolderFile, owner: string, label: string, target: Uint8Array = new Uint8Array(file.bytes), offset = 0): Uint8Array {
  let fd: number;
  try {
    fd = fs.openSync(file.real, OPEN_FLAGS);
  } catch (error) {
    throw cannotRead(owner, label, error);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile() || stat.size !== file.bytes) throw changedWhileRead(owner, label);
    let done = 0;
    while (done < file.bytes) {
      const read = fs.readSync(fd, target, offset + done, file.bytes - done, done);
      if (read === 0) throw changedWhileRead(owner, label);
      done += read;
    }
    return target;
  } finally {
    fs.closeSync(fd);
  }
}

/** readFolderFile with fs.promises, for the extension host: its event loop runs on while the bytes come in. */
export async function readFolderFileAsync(
  file: FolderFile,
  owner: string,
  label: string,
  target: Uint8Array = new Uint8Array(file.bytes),
  offset = 0,
): Promise<Uint8Array> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file.real, OPEN_FLAGS);
  } catch (error) {
    throw cannotRead(owner, label, error);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size !== file.bytes) throw changedWhileRead(owner, label);
    let done = 0;
    while (done < file.bytes) {
      const { bytesRead } = await handle.read(target, offset + done, file.bytes - done, done);
      if (bytesRead === 0) throw changedWhileRead(owner, label);
      done += bytesRead;
    }
    return target;
  } finally {
    await handle.close();
  }
}

/**
 * Why JSON text would cost too much to parse (nesting deeper than CONFIG_LIMITS.jsonDepth, more
 * values than MODEL_LIMITS.jsonValues), or undefined. One pass over the text, strings skipped,
 * nothing allocated: JSON.parse of a few MB of `[{},{},...]` would hold hundreds of MB.
 */
function jsonCostProblem(text: string): string | undefined {
  let depth = 0;
  let commas = 0;
  let nonEmptyContainers = 0;
  let justOpened = false;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (justOpened && c !== 0x5d && c !== 0x7d) nonEmptyContainers++;
    justOpened = false;
    if (c === 0x22) inString = true;
    else if (c === 0x2c) commas++;
    else if (c === 0x5b || c === 0x7b) {
      justOpened = true;
      if (++depth > CONFIG_LIMITS.jsonDepth) return `JSON nested more than ${CONFIG_LIMITS.jsonDepth} levels deep (CONFIG_LIMITS.jsonDepth, README › Limits)`;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  // Every value is the document, or an item of a non-empty list or object (its first, or one after a comma).
  const values = 1 + nonEmptyContainers + commas;
  if (values > MODEL_LIMITS.jsonValues) return `more than ${MODEL_LIMITS.jsonValues.toLocaleString('en')} JSON values (MODEL_LIMITS.jsonValues, README › Limits)`;
  return undefined;
}

const utf8 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');

/**
 * Parses the text of a JSON file of a model folder (whose size has been capped) with the engine's
 * JSON reader (parseJson: no __proto__ keys, bounded nesting), after a first pass that refuses
 * what would be costly to parse (jsonCostProblem) before JSON.parse builds anything.
 */
function parseFolderJson(text: string, name: string): unknown {
  const cost = jsonCostProblem(text);
  if (cost) throw new UserError(`${name}: ${cost}`);
  const parsed = parseJson(text);
  if ('problem' in parsed) throw new UserError(`${name}: ${parsed.problem.path.length ? `${formatPath(parsed.problem.path)}: ` : ''}${parsed.problem.message.split('\n')[0]}`);
  return parsed.value;
}

/**
 * Where the committed JSON of a model folder's file (model.json, gccs.json) is: the text that a
 * save cut short after its commit point holds for it (atomic.ts pendingText), else the file,
 * checked (checkFolderFile) and not yet read.
 */
function folderJsonSource(file: string, folderReal: string, maxBytes: number, capName: string): { text: string } | { checked: FolderFile } {
  // The journal is a file of the folder like any other: never one outside it, a FIFO or a device.
  const journal = path.join(path.dirname(file), COMMIT_JOURNAL);
  if (fs.lstatSync(journal, { throwIfNoEntry: false })) checkFolderFile(journal, folderReal, COMMIT_JOURNAL, file);
  const pending = pendingText(file);
  if (pending !== null && Buffer.byteLength(pending) > maxBytes) {
    throw new UserError(`${file}: ${formatBytes(Buffer.byteLength(pending))} in the pending save, more than the ${formatBytes(maxBytes)} cap (${capName}, README › Limits)`);
  }
  return pending !== null ? { text: pending } : { checked: checkFolderFile(file, folderReal, 'the file', file, { bytes: maxBytes, name: capName }) };
}

/** The committed JSON of a model folder's file (folderJsonSource), read and parsed (parseFolderJson). */
export function readFolderJson(file: string, folderReal: string, maxBytes: number, capName: string): unknown {
  const source = folderJsonSource(file, folderReal, maxBytes, capName);
  return parseFolderJson('text' in source ? source.text : utf8(readFolderFile(source.checked, file, 'the file')), file);
}

/** A model's model.json as readFolderJson and folderJsonSource take it: in its folder, under MODEL_LIMITS.modelJsonBytes. */
const modelJsonFile = (modelJson: string) =>
  [modelJson, realFolder(path.dirname(modelJson), modelJson), MODEL_LIMITS.modelJsonBytes, 'MODEL_LIMITS.modelJsonBytes'] as const;

/**
 * A model's model.json, read and parsed once (size checked before the read): the loaders tell its
 * format from this value and check it, without reading it again.
 */
export const readModelJson = (modelJson: string): unknown => readFolderJson(...modelJsonFile(modelJson));

/** readModelJson with the read on fs.promises (readFolderFileAsync), for the extension host. */
export async function readModelJsonAsync(modelJson: string): Promise<unknown> {
  const source = folderJsonSource(...modelJsonFile(modelJson));
  return parseFolderJson('text' in source ? source.text : utf8(await readFolderFileAsync(source.checked, modelJson, 'the file')), modelJson);
}
