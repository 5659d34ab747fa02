/**
 * A minimal reader for .tar.gz archives (ustar / GNU tar), streaming, so a 170 MB CIFAR archive is
 * never held in memory. Extracts regular files and folders, with GNU long names; links, devices
 * and pax extension records are skipped (the dataset archives have none).
 */
import { createReadStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { UserError } from '../errors';
import { DATA_LIMITS } from '../limits';
import { ByteReader } from './files';

const BLOCK = 512;
/** A GNU long name is a path; anything longer is not one. */
const MAX_LONG_NAME = 64 * 1024;

interface Header {
  name: string;
  size: number;
  type: string;
}

function text(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? length : end).toString('utf8');
}

function octal(block: Buffer, start: number, length: number): number {
  return parseInt(text(block, start, length).trim() || '0', 8);
}

/** Parses a header block; undefined for the all-zero end-of-archive block. */
function parseHeader(block: Buffer, archive: string): Header | undefined {
  if (block.every((byte) => byte === 0)) return undefined;
  // The checksum is the byte sum of the header with its own field read as spaces.
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  const size = octal(block, 124, 12);
  if (octal(block, 148, 8) !== sum || !Number.isFinite(size)) {
    throw new UserError(`${archive}: corrupt tar header (not a tar archive, or damaged)`);
  }
  // Only POSIX ustar has a name prefix there; GNU tar ("ustar  ") keeps timestamps in that place.
  const prefix = block.toString('latin1', 257, 263) === 'ustar\0' ? text(block, 345, 155) : '';
  const name = prefix ? `${prefix}/${text(block, 0, 100)}` : text(block, 0, 100);
  return { name, size, type: String.fromCharCode(block[156] || 0x30) };
}

/** The entry's path inside `destDir`, refusing absolute paths and ".." (an archive must not write elsewhere). */
function safeTarget(destDir: string, name: string, archive: string): string {
  const normalized = path.posix.normalize(name);
  if (path.posix.isAbsolute(normalized) || normalized.split('/').includes('..')) {
    throw new UserError(`${archive}: refusing to extract unsafe path "${name}"`);
  }
  return path.join(destDir, normalized);
}

/** Extracts the regular files and folders of a gzipped tar archive into `destDir`. */
export async function extractTarGz(archive: string, destDir: string): Promise<void> {
  const truncated = () => new UserError(`${archive}: truncated tar archive`);
  await pipeline(createReadStream(archive), createGunzip(), async (source: AsyncIterable<Buffer>) => {
    const reader = new ByteReader(source[Symbol.asyncIterator]());
    let longName: string | undefined;
    for (;;) {
      const block = await reader.read(BLOCK);
      const header = block && parseHeader(block, archive);
      if (!header) return;
      if (header.size > (header.type === 'L' ? MAX_LONG_NAME : DATA_LIMITS.fileBytes)) {
        throw new UserError(`${archive}: entry "${header.name}" declares ${header.size} bytes, above the limit for one data file (README › Limits)`);
      }
      if (header.type === 'L') {
        // GNU long name: the body is the name of the next entry.
        const body = await reader.read(Math.ceil(header.size / BLOCK) * BLOCK);
        if (!body) throw truncated();
        longName = text(body, 0, header.size);
        continue;
      }
      const name = longName ?? header.name;
      longName = undefined;
      const isFile = header.type === '0' || header.type === '7';
      if (header.type === '5') await mkdir(safeTarget(destDir, name, archive), { recursive: true });
      if (isFile) {
        const target = safeTarget(destDir, name, archive);
        await mkdir(path.dirname(target), { recursive: true });
        const file = await open(target, 'w');
        try {
          if (!(await reader.stream(header.size, (chunk) => file.write(chunk)))) throw truncated();
        } finally {
          await file.close();
        }
      }
      // Skip the body of entries we do not extract, and the padding to the next 512-byte block.
      const rest = Math.ceil(header.size / BLOCK) * BLOCK - (isFile ? header.size : 0);
      if (!(await reader.stream(rest, async () => undefined))) throw truncated();
    }
  }).catch((err: Error) => {
    if (err instanceof UserError) throw err;
    throw new UserError(`${archive}: cannot extract (${err.message})`);
  });
}
