/**
 * Dataset bombs through the real CLI (dist/cli.js, built by `npm test`): each is refused with exit
 * 2 and one line, and the process's peak resident memory stays under 500 MB. The bombs are built
 * in a temporary folder (nothing big is committed); decompression bombs are made of repeated
 * self-contained compressed chunks, so building them takes well under a second each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { constants, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { rawPng } from '../helpers/fileFormats';

const CLI = path.resolve(__dirname, '../../dist/cli.js');
/** GNU time; GCCS_BOMBS_NO_TIME=1 uses the in-process wrapper instead (as where time is absent). */
const TIME = process.env.GCCS_BOMBS_NO_TIME ? '/nonexistent/time' : '/usr/bin/time';
const MAX_RSS_MB = 500;
const GiB = 1024 ** 3;
const CHUNK = 64 * 1024 * 1024;

function tempFolder(t: { after: (fn: () => void) => void }): string {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'gccs-bomb-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

/**
 * Runs the CLI and returns its exit code, stderr, peak RSS (MB) and seconds. Peak RSS comes from
 * GNU time when present, else from a wrapper that reports the child's process.resourceUsage().
 */
function runCli(args: string[], scratch: string): { status: number | null; stderr: string; rssMb: number; seconds: number } {
  const start = process.hrtime.bigint();
  let status: number | null;
  let stderr: string;
  let rssKb: number;
  if (existsSync(TIME)) {
    const rssFile = path.join(scratch, 'rss.txt');
    const result = spawnSync(TIME, ['-f', '%M', '-o', rssFile, process.execPath, CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
    ({ status, stderr } = result);
    rssKb = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
  } else {
    // With -e, process.argv is [node, CLI, ...args], as the CLI expects.
    const wrapper = `process.on('exit', () => process.stdout.write('\\nmaxRSS ' + process.resourceUsage().maxRSS)); require(process.argv[1]);`;
    const result = spawnSync(process.execPath, ['-e', wrapper, CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
    ({ status, stderr } = result);
    rssKb = Number(/maxRSS (\d+)/.exec(result.stdout)?.[1]);
  }
  return { status, stderr, rssMb: rssKb / 1024, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

function assertRefused(t: { diagnostic: (message: string) => void }, name: string, args: string[], scratch: string, pattern: RegExp): void {
  const run = runCli(args, scratch);
  t.diagnostic(`${name}: exit ${run.status}, peak RSS ${run.rssMb.toFixed(0)} MB, ${run.seconds.toFixed(2)} s: ${run.stderr.trim().split('\n').pop()}`);
  assert.equal(run.status, 2, `exit code (stderr: ${run.stderr})`);
  // The CLI reports its backend on stderr before loading anything; the refusal is the one line after it.
  const lines = run.stderr.trim().split('\n').filter((line) => !line.startsWith('backend: '));
  assert.equal(lines.length, 1, `one line: ${run.stderr}`);
  assert.match(lines[0], pattern);
  assert.ok(run.rssMb > 0 && run.rssMb < MAX_RSS_MB, `peak RSS ${run.rssMb.toFixed(0)} MB is under ${MAX_RSS_MB} MB`);
}

function idxHeader(dims: number[]): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return header;
}

/** A gzip file that inflates to `header` followed by `zeroBytes` zeros: gzip members concatenated decompress as one. */
function gzipBomb(header: Buffer, zeroBytes: number): Buffer {
  const member = gzipSync(Buffer.alloc(CHUNK), { level: 9 });
  const members = [gzipSync(header)];
  for (let n = 0; n < zeroBytes; n += CHUNK) members.push(member);
  return Buffer.concat(members);
}

/**
 * A zlib stream that inflates to `prefix` followed by `zeroBytes` zeros: after a full flush a
 * deflate block does not refer back, so one compressed chunk of zeros can be repeated.
 */
function zlibBomb(prefix: Buffer, zeroBytes: number): Buffer {
  const flushed = { finishFlush: constants.Z_FULL_FLUSH, level: 9 };
  const zeros = deflateRawSync(Buffer.alloc(CHUNK), flushed);
  const chunks = Math.ceil(zeroBytes / CHUNK);
  // Adler-32 of prefix + zeros: zeros leave a unchanged and add a to b once per byte.
  let a = 1;
  let b = 0;
  for (const byte of prefix) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  b = (b + ((chunks * CHUNK) % 65521) * a) % 65521;
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE(((b << 16) | a) >>> 0);
  return Buffer.concat([Buffer.from([0x78, 0xda]), deflateRawSync(prefix, flushed), ...Array(chunks).fill(zeros), deflateRawSync(Buffer.alloc(0)), adler]);
}

/** A MAT v5 file of one compressed element. */
function matWithCompressed(zlibStream: Buffer): Buffer {
  const header = Buffer.alloc(128, 0x20);
  header.write('MATLAB 5.0 MAT-file, Platform: bomb', 0, 'latin1');
  header.fill(0, 116, 124);
  header.writeUInt16LE(0x0100, 124);
  header.write('IM', 126, 'latin1');
  const tag = Buffer.alloc(8);
  tag.writeUInt32LE(15, 0);
  tag.writeUInt32LE(zlibStream.length, 4);
  return Buffer.concat([header, tag, zlibStream]);
}

/** The start of a miMATRIX element X, uint8 of `dims`, whose tag declares `declaredBytes` and whose data element declares `dataBytes`. */
function matrixStart(dims: number[], declaredBytes: number, dataBytes: number): Buffer {
  const words = (values: number[]) => Buffer.from(Int32Array.from(values).buffer);
  const dimsBody = words(dims);
  return Buffer.concat([
    words([14, declaredBytes]),
    words([6, 8, 9, 0]), // array flags: mxUINT8_CLASS
    words([5, dimsBody.length]),
    dimsBody,
    Buffer.alloc((8 - (dimsBody.length % 8)) % 8),
    Buffer.from([1, 0, 1, 0, 0x58, 0, 0, 0]), // name "X", small element format
    words([2, dataBytes]), // miUINT8 data follows
  ]);
}

const train = (dataset: string, data: string, out: string) => ['train', '--dataset', dataset, '--data', data, '--epochs', '1', '--out', out];

test('bombs need the built CLI', { skip: existsSync(CLI) ? false : 'dist/cli.js not built (npm run build)' }, async (t) => {
  await t.test('gzip IDX bomb: 1.5 GB of zeros behind a 60000-image MNIST header', (t) => {
    const folder = tempFolder(t);
    writeFileSync(path.join(folder, 'train-images-idx3-ubyte.gz'), gzipBomb(idxHeader([60000, 28, 28]), 1.5 * GiB));
    writeFileSync(path.join(folder, 'train-labels-idx1-ubyte.gz'), gzipSync(Buffer.concat([idxHeader([60000]), Buffer.alloc(60000)])));
    assertRefused(t, 'gzip IDX bomb (header 60000×28×28)', train('mnist', folder, path.join(folder, 'out')), folder, /train-images-idx3-ubyte\.gz: longer than its header says/);
  });

  await t.test('gzip IDX bomb whose header declares all 1.5 GB (2,054,352 images)', (t) => {
    const folder = tempFolder(t);
    const count = Math.floor((1.5 * GiB) / 784);
    writeFileSync(path.join(folder, 'train-images-idx3-ubyte.gz'), gzipBomb(idxHeader([count, 28, 28]), 1.5 * GiB));
    writeFileSync(path.join(folder, 'train-labels-idx1-ubyte.gz'), gzipSync(idxHeader([count])));
    assertRefused(t, 'gzip IDX bomb (header 1.5 GB)', train('mnist', folder, path.join(folder, 'out')), folder, /train-images-idx3-ubyte\.gz: gzipped file declares 1536\.0 MB of pixel data, above the 256\.0 MB limit for one compressed stream/);
  });

  await t.test('gzip IDX bomb whose header declares just under the limit of one compressed stream', (t) => {
    const folder = tempFolder(t);
    const count = 340_000; // 254 MiB of pixels, under the 256 MiB a gzipped file may declare
    writeFileSync(path.join(folder, 'train-images-idx3-ubyte.gz'), gzipBomb(idxHeader([count, 28, 28]), 1.5 * GiB));
    writeFileSync(path.join(folder, 'train-labels-idx1-ubyte.gz'), gzipSync(Buffer.concat([idxHeader([count]), Buffer.alloc(count)])));
    assertRefused(t, 'gzip IDX bomb (header 340000×28×28)', train('mnist', folder, path.join(folder, 'out')), folder, /train-images-idx3-ubyte\.gz: longer than its header says/);
  });

  await t.test('zlib .mat bomb whose X declares just under the limit of one compressed stream', (t) => {
    const folder = tempFolder(t);
    const count = 87_000; // 255 MiB, under the 256 MiB a compressed element may declare
    const start = matrixStart([32, 32, 3, count], 0, count * 3072);
    start.writeUInt32LE(start.length - 8 + count * 3072, 4);
    writeFileSync(path.join(folder, 'train_32x32.mat'), matWithCompressed(zlibBomb(start, 1.5 * GiB)));
    assertRefused(t, 'zlib .mat bomb (X 255 MiB)', train('svhn', folder, path.join(folder, 'out')), folder, /train_32x32\.mat: compressed MAT element inflates to more than the \d+ bytes its tag declares/);
  });

  await t.test('zlib .mat bomb: a compressed X declaring 30 kB inflates to 1.5 GB', (t) => {
    const folder = tempFolder(t);
    const dims = [32, 32, 3, 10];
    const data = 32 * 32 * 3 * 10;
    const start = matrixStart(dims, 0, data);
    start.writeUInt32LE(start.length - 8 + data, 4);
    writeFileSync(path.join(folder, 'train_32x32.mat'), matWithCompressed(zlibBomb(start, 1.5 * GiB)));
    assertRefused(t, 'zlib .mat bomb (tag 30 kB)', train('svhn', folder, path.join(folder, 'out')), folder, /train_32x32\.mat: compressed MAT element inflates to more than the \d+ bytes its tag declares/);
  });

  await t.test('zlib .mat bomb whose X declares its 1.5 GB', (t) => {
    const folder = tempFolder(t);
    const count = Math.floor((1.5 * GiB) / 3072);
    const start = matrixStart([32, 32, 3, count], 0, count * 3072);
    start.writeUInt32LE(start.length - 8 + count * 3072, 4);
    writeFileSync(path.join(folder, 'train_32x32.mat'), matWithCompressed(zlibBomb(start, count * 3072)));
    assertRefused(t, 'zlib .mat bomb (X 1.5 GB)', train('svhn', folder, path.join(folder, 'out')), folder, /train_32x32\.mat: a compressed MAT element declares 1536\.0 MB, above the 256\.0 MB limit for one compressed stream/);
  });

  await t.test('a 140 kB PNG declaring 12000×12000', (t) => {
    const folder = tempFolder(t);
    // Every row: filter byte 0 and 12000 black pixels; 8-bit grayscale, not interlaced.
    const png = rawPng(12000, 12000, 0, 0, deflateSync(Buffer.alloc(12001 * 12000), { level: 9 }));
    t.diagnostic(`PNG bomb: ${(png.length / 1024).toFixed(0)} kB`);
    for (const name of ['a', 'b']) {
      mkdirSync(path.join(folder, name));
      writeFileSync(path.join(folder, name, '1.png'), png);
    }
    assertRefused(t, 'PNG 12000×12000', train('folder', folder, path.join(folder, 'out')), folder, /a[/\\]1\.png: PNG header declares 12000×12000 pixels, above the \d+ pixel limit/);
  });

  await t.test('an IDX of ten 2000×2000 images', (t) => {
    const folder = tempFolder(t);
    writeFileSync(path.join(folder, 'train-images-idx3-ubyte'), Buffer.concat([idxHeader([10, 2000, 2000]), Buffer.alloc(10 * 2000 * 2000, 7)]));
    writeFileSync(path.join(folder, 'train-labels-idx1-ubyte'), Buffer.concat([idxHeader([10]), Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])]));
    assertRefused(t, 'IDX 10×2000×2000', train('mnist', folder, path.join(folder, 'out')), folder, /images of 2000×2000 pixels are above the 1024×1024 limit/);
  });
});
