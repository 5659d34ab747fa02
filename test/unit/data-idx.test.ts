import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { UserError } from '../../src/core/errors';
import { loadIdxFolder } from '../../src/core/data/idx';

const MNIST_T10K = path.resolve(__dirname, '../../../shared/data/mnist-t10k');

function tempFolder(t: { after: (fn: () => void) => void }): string {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'gccs-idx-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

function idx(dims: number[], data: ArrayLike<number>): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(Array.from(data))]);
}

/** n images of 3×4 whose pixel (n, y, x) is n·12 + y·4 + x, and labels (n·3) % 10. */
function writePair(folder: string, prefix: string, count: number, gzip: boolean): void {
  const pixels = Array.from({ length: count * 12 }, (_, i) => i % 256);
  const labels = Array.from({ length: count }, (_, n) => (n * 3) % 10);
  const ext = gzip ? '.gz' : '';
  const pack = (b: Buffer) => (gzip ? gzipSync(b) : b);
  writeFileSync(path.join(folder, `${prefix}-images-idx3-ubyte${ext}`), pack(idx([count, 3, 4], pixels)));
  writeFileSync(path.join(folder, `${prefix}-labels-idx1-ubyte${ext}`), pack(idx([count], labels)));
}

async function rejectsUser(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof UserError, `expected a UserError, got ${err}`);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes('\n'), 'message is one line');
    return true;
  });
}

test('real MNIST t10k (gzipped) loads as the test part', { skip: !existsSync(MNIST_T10K) && `MNIST not found at ${MNIST_T10K}` }, async () => {
  const dataset = await loadIdxFolder(MNIST_T10K, 'mnist');
  assert.equal(dataset.train, undefined);
  const test = dataset.test!;
  assert.deepEqual(test.shape, [28, 28, 1]);
  assert.equal(test.labels.length, 10000);
  assert.equal(test.pixels.length, 10000 * 28 * 28);
  assert.equal(test.labels[0], 7, 'the first MNIST test digit is a 7');
  const counts = new Array(10).fill(0);
  test.labels.forEach((label) => counts[label]++);
  assert.deepEqual(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  assert.deepEqual(dataset.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  // Image 0 has ink (values up to 255) on a black background.
  const first = test.pixels.subarray(0, 784);
  assert.equal(first[0], 0);
  assert.equal(Math.max(...first), 255);
});

test('raw train pair and gzipped t10k pair load with their pixels and labels', async (t) => {
  const folder = tempFolder(t);
  writePair(folder, 'train', 5, false);
  writePair(folder, 't10k', 3, true);
  const dataset = await loadIdxFolder(folder, 'fmnist');
  assert.equal(dataset.kind, 'fmnist');
  assert.equal(dataset.source, folder);
  assert.deepEqual(dataset.classNames, ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
  assert.deepEqual(dataset.train!.shape, [3, 4, 1]);
  assert.deepEqual(Array.from(dataset.train!.labels), [0, 3, 6, 9, 2]);
  assert.deepEqual(Array.from(dataset.train!.pixels), Array.from({ length: 60 }, (_, i) => i));
  assert.deepEqual(Array.from(dataset.test!.labels), [0, 3, 6]);
  assert.equal(dataset.test!.pixels[35], 35);
});

test('only one pair present is fine', async (t) => {
  const folder = tempFolder(t);
  writePair(folder, 'train', 2, true);
  const dataset = await loadIdxFolder(folder, 'mnist');
  assert.equal(dataset.test, undefined);
  assert.equal(dataset.train!.labels.length, 2);
});

test('a gzipped file without the .gz name is detected by its magic bytes', async (t) => {
  const folder = tempFolder(t);
  writePair(folder, 't10k', 2, true);
  for (const kind of ['images-idx3', 'labels-idx1']) {
    const gz = path.join(folder, `t10k-${kind}-ubyte.gz`);
    writeFileSync(gz.slice(0, -3), readFileSync(gz));
    rmSync(gz);
  }
  const dataset = await loadIdxFolder(folder, 'mnist');
  assert.equal(dataset.test!.labels.length, 2);
});

test('missing folder, or a folder without IDX files, is a UserError naming the expected files', async (t) => {
  const folder = tempFolder(t);
  await rejectsUser(loadIdxFolder(path.join(folder, 'nope'), 'mnist'), /nope: folder not found/);
  await rejectsUser(loadIdxFolder(folder, 'mnist'), /no MNIST files.*train-images-idx3-ubyte\[\.gz\].*t10k-labels-idx1-ubyte\[\.gz\]/);
});

test('half a pair is a UserError naming the missing file', async (t) => {
  const folder = tempFolder(t);
  writePair(folder, 'train', 2, false);
  rmSync(path.join(folder, 'train-labels-idx1-ubyte'));
  await rejectsUser(loadIdxFolder(folder, 'mnist'), /found train-images-idx3-ubyte but not train-labels-idx1-ubyte/);
});

test('a truncated images file is a UserError saying what the header promised', async (t) => {
  const folder = tempFolder(t);
  writePair(folder, 't10k', 4, false);
  const file = path.join(folder, 't10k-images-idx3-ubyte');
  const whole = readFileSync(file);
  writeFileSync(file, gzipSync(whole.subarray(0, whole.length - 10)));
  await rejectsUser(
    loadIdxFolder(folder, 'mnist'),
    /t10k-images-idx3-ubyte: truncated: header says 4 images of 3×4 but file holds 38 bytes of pixel data/,
  );
});

test('images/labels count mismatch is a UserError naming both files', async (t) => {
  const folder = tempFolder(t);
  writePair(folder, 'train', 3, false);
  writeFileSync(path.join(folder, 'train-labels-idx1-ubyte'), idx([2], [1, 2]));
  await rejectsUser(loadIdxFolder(folder, 'mnist'), /train-labels-idx1-ubyte: holds 2 labels but train-images-idx3-ubyte holds 3 images/);
});

test('bad magic number, wrong rank and out-of-range labels are UserErrors', async (t) => {
  const folder = tempFolder(t);
  writePair(folder, 'train', 2, false);
  const images = path.join(folder, 'train-images-idx3-ubyte');
  const labels = path.join(folder, 'train-labels-idx1-ubyte');
  writeFileSync(images, Buffer.from('not an idx file at all'));
  await rejectsUser(loadIdxFolder(folder, 'mnist'), /train-images-idx3-ubyte: not an unsigned-byte IDX file/);
  writeFileSync(images, idx([2, 12], new Array(24).fill(0)));
  await rejectsUser(loadIdxFolder(folder, 'mnist'), /train-images-idx3-ubyte: expected 3 dimension\(s\) for images but the header says 2/);
  writePair(folder, 'train', 2, false);
  writeFileSync(labels, idx([2], [1, 12]));
  await rejectsUser(loadIdxFolder(folder, 'mnist'), /train-labels-idx1-ubyte: label 12 of example 1 is outside 0\.\.9/);
});

test('split ranges load only the examples they name, the same ones a whole load gives', async (t) => {
  const folder = tempFolder(t);
  writePair(folder, 'train', 8, true);
  writePair(folder, 't10k', 5, false);
  const whole = await loadIdxFolder(folder, 'mnist');
  const part = await loadIdxFolder(folder, 'mnist', { trainRange: '2:4', testRange: '9:11' });
  assert.deepEqual(part.windows, { train: { start: 2, end: 4, total: 8 }, test: { start: 1, end: 3, total: 5 } });
  assert.deepEqual(Array.from(part.train!.pixels), Array.from(whole.train!.pixels.subarray(2 * 12, 4 * 12)));
  assert.deepEqual(Array.from(part.train!.labels), Array.from(whole.train!.labels.subarray(2, 4)));
  assert.deepEqual(Array.from(part.test!.pixels), Array.from(whole.test!.pixels.subarray(12, 3 * 12)));
  // The file is still read to its end and checked: a truncated one is refused whatever the range.
  const labels = path.join(folder, 't10k-labels-idx1-ubyte');
  writeFileSync(labels, readFileSync(labels).subarray(0, 11));
  await rejectsUser(loadIdxFolder(folder, 'mnist', { trainRange: '0:2', testRange: '8:9' }), /t10k-labels-idx1-ubyte: truncated/);
});

test('a dataset above the memory limit is refused with the figure, and loads with ranges', async (t) => {
  const folder = tempFolder(t);
  // 700,000 images of 28×28 (549 MB; 1052 MB held: pixels and int32 labels, twice), as a sparse file of zeros.
  const count = 700_000;
  const images = path.join(folder, 'train-images-idx3-ubyte');
  writeFileSync(images, idx([count, 28, 28], []));
  truncateSync(images, 16 + count * 784);
  writeFileSync(path.join(folder, 'train-labels-idx1-ubyte'), Buffer.concat([idx([count], []), Buffer.alloc(count)]));
  await rejectsUser(
    loadIdxFolder(folder, 'mnist'),
    /700000 images of 28×28×1 would need about 1052\.1 MB of memory .* above the 1024\.0 MB limit .*--train-range a:b --test-range c:d/,
  );
  // One part with both ranges: the examples from the first to the last they name are loaded.
  await rejectsUser(loadIdxFolder(folder, 'mnist', { trainRange: '0:1000', testRange: '699000:699500' }), /699500 images of 28×28×1 would need about/);
  const part = await loadIdxFolder(folder, 'mnist', { trainRange: '600000:601000', testRange: '601000:601200' });
  assert.deepEqual(part.windows!.train, { start: 600000, end: 601200, total: count });
  assert.equal(part.train!.labels.length, 1200);
  assert.equal(part.train!.pixels.length, 1200 * 784);
});

test('a data file that is a folder, a FIFO or a link to a device is one line, and never waits or reads forever', { skip: process.platform === 'win32' && 'POSIX FIFOs and /dev/zero' }, async (t) => {
  const folder = tempFolder(t);
  writePair(folder, 'train', 2, false);
  const images = path.join(folder, 'train-images-idx3-ubyte');
  rmSync(images);
  mkdirSync(images);
  await rejectsUser(loadIdxFolder(folder, 'mnist'), /train-images-idx3-ubyte: not a regular file \(a folder\)/);
  rmSync(images, { recursive: true });
  execFileSync('mkfifo', [images]);
  await rejectsUser(loadIdxFolder(folder, 'mnist'), /train-images-idx3-ubyte: not a regular file \(a device, FIFO or socket\)/);
  rmSync(images);
  symlinkSync('/dev/zero', images);
  await rejectsUser(loadIdxFolder(folder, 'mnist'), /train-images-idx3-ubyte: not a regular file \(a device, FIFO or socket\)/);
});

test('a gzipped file declaring more than one compressed stream may inflate to is refused before reading its data', async (t) => {
  const folder = tempFolder(t);
  writeFileSync(path.join(folder, 'train-images-idx3-ubyte.gz'), gzipSync(idx([400_000, 28, 28], [])));
  writeFileSync(path.join(folder, 'train-labels-idx1-ubyte.gz'), gzipSync(idx([400_000], [])));
  await rejectsUser(loadIdxFolder(folder, 'mnist'), /train-images-idx3-ubyte\.gz: gzipped file declares 299\.1 MB of pixel data, above the 256\.0 MB limit for one compressed stream .*gunzip it/);
});
