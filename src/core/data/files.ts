/**
 * File access shared by the loaders. Dataset files may be hostile: only regular files are read
 * (never a FIFO, device or folder), nothing larger than a cap is read whole, decompression is a
 * stream the caller reads exactly as many bytes from as the file's header declares, and every
 * failure becomes a one-line UserError naming the path.
 */
import { constants, createReadStream } from 'node:fs';
import { FileHandle, open, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { UserError } from '../errors';
import { DATA_LIMITS } from '../limits';

const MiB = 1024 * 1024;

export function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code ?? (err instanceof Error ? err.message : String(err));
}

/** "12.3 MB" */
export function megabytes(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MB`;
}

function notRegular(file: string, info: { isDirectory(): boolean }): UserError {
  return new UserError(`${file}: not a regular file (${info.isDirectory() ? 'a folder' : 'a device, FIFO or socket'})`);
}

/** Opens `file` for reading if it is a regular file (O_NONBLOCK: opening a FIFO must not wait for a writer). */
async function openRegular(file: string): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError(`${file}: file not found`);
    throw new UserError(`${file}: cannot read (${describe(err)})`);
  }
  const info = await handle.stat();
  if (!info.isFile()) {
    await handle.close();
    throw notRegular(file, info);
  }
  return { handle, size: info.size };
}

function tooLarge(file: string, size: number, maxBytes: number): UserError {
  return new UserError(`${file}: ${megabytes(size)} is above the ${megabytes(maxBytes)} limit for one data file (README › Limits)`);
}

/** Whole file as bytes, refused above `maxBytes` before anything is allocated. */
export async function readBytes(file: string, maxBytes: number = DATA_LIMITS.fileBytes): Promise<Buffer> {
  const { handle, size } = await openRegular(file);
  try {
    if (size > maxBytes) throw tooLarge(file, size, maxBytes);
    const bytes = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(bytes, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return bytes.subarray(0, filled);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${file}: cannot read (${describe(err)})`);
  } finally {
    await handle.close();
  }
}

/** Hands out exact byte counts from a stream of arbitrarily sized chunks, buffering only what it must. */
export class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  /** Buffers at least `n` bytes; false if the input ends first. */
  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n) {
      const { value, done } = await this.source.next();
      if (done) return false;
      this.chunks.push(value);
      this.buffered += value.length;
    }
    return true;
  }

  /** The next `n` bytes (meant for headers: they are copied into one buffer), or undefined if the input ends first. */
  async read(n: number): Promise<Buffer | undefined> {
    if (!(await this.fill(n))) return undefined;
    const all = Buffer.concat(this.chunks);
    this.chunks = [all.subarray(n)];
    this.buffered -= n;
    return all.subarray(0, n);
  }

  /** Passes the next `n` bytes to `sink` as they arrive; false if the input ends first. */
  async stream(n: number, sink: (chunk: Buffer) => unknown): Promise<boolean> {
    while (n > 0) {
      if (!(await this.fill(1))) return false;
      const chunk = this.chunks[0];
      const piece = chunk.subarray(0, Math.min(n, chunk.length));
      if (piece.length === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(piece.length);
      this.buffered -= piece.length;
      n -= piece.length;
      await sink(piece);
    }
    return true;
  }

  /** Fills `target` from the stream; the number of bytes it got (less than its length if the input ended). */
  async readInto(target: Uint8Array): Promise<number> {
    let filled = 0;
    await this.stream(target.length, (chunk) => {
      target.set(chunk, filled);
      filled += chunk.length;
    });
    return filled;
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }
}

/** A data file read as a stream, decompressed on the fly when it starts with the gzip magic bytes. */
export interface ByteStream {
  reader: ByteReader;
  gzipped: boolean;
  /** The file's size on disk (for a file that is not gzipped, the number of bytes the reader will give). */
  size: number;
  /** Stops reading (and decompressing) and releases the file. */
  close(): void;
}

/** Opens `file` (a regular file) as a stream of its bytes, gunzipped when it is gzip whatever its name. */
export async function openMaybeGzipped(file: string): Promise<ByteStream> {
  const { handle, size } = await openRegular(file);
  const magic = Buffer.alloc(2);
  const { bytesRead } = await handle.read(magic, 0, 2, 0).catch(async (err) => {
    await handle.close();
    throw new UserError(`${file}: cannot read (${describe(err)})`);
  });
  const gzipped = bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  // The stream owns the handle from here on and closes it when it ends or is destroyed.
  const raw = createReadStream('', { fd: handle, start: 0, end: Math.max(0, size - 1) });
  const gunzip = gzipped ? createGunzip() : undefined;
  const stream = gunzip ? pipeline(raw, gunzip, () => undefined) : raw;
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const wrapped: AsyncIterator<Buffer> = {
    next: () =>
      chunks.next().catch((err: unknown) => {
        throw new UserError(`${file}: ${gzipped ? 'corrupt gzip data' : 'cannot read'} (${describe(err)})`);
      }),
  };
  return {
    reader: new ByteReader(wrapped),
    gzipped,
    size,
    close: () => {
      stream.destroy();
      raw.destroy();
    },
  };
}

/**
 * Size of a data file the loader looks for: undefined when nothing has that name, a UserError
 * when something does but is not a regular file (a folder, FIFO or device is not data).
 */
export async function dataFileSize(file: string): Promise<number | undefined> {
  const info = await stat(file).catch(() => undefined);
  if (!info) return undefined;
  if (!info.isFile()) throw notRegular(file, info);
  return info.size;
}

/** Size in bytes, or undefined when `file` is not an existing regular file. */
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
