/** File access shared by the loaders: every failure becomes a one-line UserError naming the path. */
import { readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { UserError } from '../errors';

const gunzipAsync = promisify(gunzip);

function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code ?? (err instanceof Error ? err.message : String(err));
}

/** Whole file as bytes. */
export async function readBytes(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError(`${file}: file not found`);
    throw new UserError(`${file}: cannot read (${describe(err)})`);
  }
}

/** Whole file as bytes, decompressed when it starts with the gzip magic bytes (whatever its name). */
export async function readMaybeGzipped(file: string): Promise<Buffer> {
  const bytes = await readBytes(file);
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return await gunzipAsync(bytes);
  } catch (err) {
    throw new UserError(`${file}: corrupt gzip data (${describe(err)})`);
  }
}

/** Size in bytes, or undefined when `file` is not an existing file. */
export async function fileSize(file: string): Promise<number | undefined> {
  const info = await stat(file).catch(() => undefined);
  return info?.isFile() ? info.size : undefined;
}

export async function isFile(file: string): Promise<boolean> {
  return (await fileSize(file)) !== undefined;
}

export async function isFolder(folder: string): Promise<boolean> {
  return (await stat(folder).catch(() => undefined))?.isDirectory() ?? false;
}

/** Fails with a UserError unless `folder` is an existing folder. */
export async function requireFolder(folder: string): Promise<void> {
  if (!(await isFolder(folder))) throw new UserError(`${folder}: folder not found`);
}
