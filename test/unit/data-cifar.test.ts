import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../src/core/errors';
import { loadCifarFolder } from '../../src/core/data/cifar';

function tempFolder(t: { after: (fn: () => void) => void }): string {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'gccs-cifar-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

/** The value the generated image `id` has at (y, x, channel c). */
const pixel = (id: number, y: number, x: number, c: number) => (id * 5 + y * 3 + x * 7 + c * 101) % 256;

/** Records of label byte(s) + planar CHW pixels, as in the official binary files. */
function records(ids: number[], labelBytes: (id: number) => number[]): Buffer {
  return Buffer.concat(
    ids.map((id) => {
      const planes = Buffer.alloc(3072);
      for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) planes[c * 1024 + y * 32 + x] = pixel(id, y, x, c);
      return Buffer.concat([Buffer.from(labelBytes(id)), planes]);
    }),
  );
}

function assertImage(pixels: Uint8Array, index: number, id: number): void {
  for (const [y, x] of [[0, 0], [0, 31], [5, 9], [31, 30]]) {
    for (let c = 0; c < 3; c++) assert.equal(pixels[((index * 32 + y) * 32 + x) * 3 + c], pixel(id, y, x, c), `image ${index} (${y}, ${x}, ${c})`);
  }
}

async function rejectsUser(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => err instanceof UserError && pattern.test(err.message));
}

test('CIFAR-10 from the folder holding cifar-10-batches-bin: batches concatenated, CHW → HWC, names from batches.meta.txt', async (t) => {
  const parent = tempFolder(t);
  const folder = path.join(parent, 'cifar-10-batches-bin');
  mkdirSync(folder);
  writeFileSync(path.join(folder, 'data_batch_1.bin'), records([0, 1], (id) => [id]));
  writeFileSync(path.join(folder, 'data_batch_2.bin'), records([2], (id) => [id]));
  writeFileSync(path.join(folder, 'test_batch.bin'), records([3, 4], (id) => [9 - id]));
  writeFileSync(path.join(folder, 'batches.meta.txt'), 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n');
  const dataset = await loadCifarFolder(parent, 'cifar10');
  assert.equal(dataset.source, folder);
  assert.deepEqual(dataset.classNames, ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);
  assert.deepEqual(dataset.train!.shape, [32, 32, 3]);
  assert.deepEqual(Array.from(dataset.train!.labels), [0, 1, 2]);
  assert.deepEqual(Array.from(dataset.test!.labels), [6, 5]);
  [0, 1, 2].forEach((id) => assertImage(dataset.train!.pixels, id, id));
  assertImage(dataset.test!.pixels, 1, 4);
});

test('CIFAR-10 folder given directly, without names file, gets the published names', async (t) => {
  const folder = tempFolder(t);
  writeFileSync(path.join(folder, 'test_batch.bin'), records([7], () => [3]));
  const dataset = await loadCifarFolder(folder, 'cifar10');
  assert.equal(dataset.train, undefined);
  assert.equal(dataset.classNames[3], 'cat');
  assertImage(dataset.test!.pixels, 0, 7);
});

test('CIFAR-100 uses the fine label (second byte) and fine_label_names.txt when present', async (t) => {
  const parent = tempFolder(t);
  const folder = path.join(parent, 'cifar-100-binary');
  mkdirSync(folder);
  writeFileSync(path.join(folder, 'train.bin'), records([0, 1, 2], (id) => [19 - id, 90 + id]));
  writeFileSync(path.join(folder, 'test.bin'), records([3], () => [0, 42]));
  let dataset = await loadCifarFolder(parent, 'cifar100');
  assert.equal(dataset.classNames.length, 100);
  assert.equal(dataset.classNames[42], 'leopard');
  assert.deepEqual(Array.from(dataset.train!.labels), [90, 91, 92]);
  assert.deepEqual(Array.from(dataset.test!.labels), [42]);
  assertImage(dataset.train!.pixels, 2, 2);
  writeFileSync(path.join(folder, 'fine_label_names.txt'), Array.from({ length: 100 }, (_, i) => `class${i}`).join('\n'));
  dataset = await loadCifarFolder(folder, 'cifar100');
  assert.equal(dataset.classNames[42], 'class42');
});

test('a truncated batch is a UserError naming the file', async (t) => {
  const folder = tempFolder(t);
  writeFileSync(path.join(folder, 'data_batch_1.bin'), records([0, 1], () => [1]).subarray(0, 5000));
  await rejectsUser(loadCifarFolder(folder, 'cifar10'), /data_batch_1\.bin: truncated or not CIFAR-10 binary: 5000 bytes is not a multiple of the 3073-byte record/);
  writeFileSync(path.join(folder, 'data_batch_1.bin'), records([0], () => [1]));
  await assert.doesNotReject(loadCifarFolder(folder, 'cifar10'));
  // A CIFAR-10 record is not a whole number of CIFAR-100 records.
  writeFileSync(path.join(folder, 'train.bin'), records([0], () => [1]));
  await rejectsUser(loadCifarFolder(folder, 'cifar100'), /train\.bin: .*3074-byte record/);
});

test('bad labels, wrong names file and missing files are UserErrors', async (t) => {
  const folder = tempFolder(t);
  await rejectsUser(loadCifarFolder(folder, 'cifar10'), /no CIFAR-10 binary files; expected data_batch_1\.bin.*test_batch\.bin here or in cifar-10-batches-bin\//);
  await rejectsUser(loadCifarFolder(path.join(folder, 'missing'), 'cifar10'), /missing: folder not found/);
  writeFileSync(path.join(folder, 'test_batch.bin'), records([0, 1], (id) => [id * 10]));
  await rejectsUser(loadCifarFolder(folder, 'cifar10'), /test_batch\.bin: label 10 of example 1 is outside 0\.\.9/);
  writeFileSync(path.join(folder, 'test_batch.bin'), records([0], () => [0]));
  writeFileSync(path.join(folder, 'batches.meta.txt'), 'plane\ncar\n');
  await rejectsUser(loadCifarFolder(folder, 'cifar10'), /batches\.meta\.txt: lists 2 class names, expected 10/);
});
