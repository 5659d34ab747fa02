import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deflateSync } from 'node:zlib';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { UserError } from '../../src/core/errors';
import { loadImageFolder } from '../../src/core/data/imageFolder';
import { rawPng } from '../helpers/fileFormats';

function tempFolder(t: { after: (fn: () => void) => void }): string {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'gccs-images-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

type Rgb = (y: number, x: number) => [number, number, number];

function rgba(width: number, height: number, color: Rgb): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    data.set([...color(y, x), 255], (y * width + x) * 4);
  }
  return data;
}

function writePng(file: string, width: number, height: number, color: Rgb): void {
  const png = new PNG({ width, height });
  rgba(width, height, color).copy(png.data);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, PNG.sync.write(png));
}

function writeJpeg(file: string, width: number, height: number, color: Rgb): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, jpeg.encode({ data: rgba(width, height, color), width, height }, 95).data);
}

const grayRamp: Rgb = (y, x) => [y * 40 + x * 5, y * 40 + x * 5, y * 40 + x * 5];

async function rejectsUser(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof UserError, `expected a UserError, got ${err}`);
    assert.match(err.message, pattern);
    return true;
  });
}

test('PNG + JPEG folder: sorted classes, resized to the first image, 3 channels when any image has colour', async (t) => {
  const folder = tempFolder(t);
  writePng(path.join(folder, 'cat', 'a.png'), 6, 4, grayRamp);
  writePng(path.join(folder, 'cat', 'b.PNG'), 12, 8, () => [10, 20, 30]);
  writeJpeg(path.join(folder, 'dog', 'c.jpg'), 3, 2, () => [200, 40, 40]);
  writeFileSync(path.join(folder, 'dog', 'notes.txt'), 'not an image');
  writeFileSync(path.join(folder, 'dog', '.hidden.png'), 'ignored');
  mkdirSync(path.join(folder, '.git'));
  const dataset = await loadImageFolder(folder);
  assert.equal(dataset.kind, 'folder');
  assert.deepEqual(dataset.classNames, ['cat', 'dog']);
  assert.equal(dataset.test, undefined);
  const train = dataset.train!;
  assert.deepEqual(train.shape, [4, 6, 3]);
  assert.deepEqual(Array.from(train.labels), [0, 0, 1]);
  // The first image keeps its size, so its pixels are copied exactly.
  for (let y = 0; y < 4; y++) for (let x = 0; x < 6; x++) assert.equal(train.pixels[(y * 6 + x) * 3 + 1], y * 40 + x * 5);
  // A uniform image stays uniform when resized.
  assert.ok(train.pixels.subarray(72, 144).every((v, i) => v === [10, 20, 30][i % 3]));
  // JPEG is lossy: allow a small error.
  const jpegPixels = train.pixels.subarray(144, 216);
  jpegPixels.forEach((v, i) => assert.ok(Math.abs(v - [200, 40, 40][i % 3]) <= 8, `jpeg channel ${i % 3}: ${v}`));
});

test('all-grayscale folder gives 1 channel; size and channels options are applied', async (t) => {
  const folder = tempFolder(t);
  writePng(path.join(folder, 'a', '1.png'), 4, 4, grayRamp);
  writePng(path.join(folder, 'b', '1.png'), 2, 2, () => [77, 77, 77]);
  writeJpeg(path.join(folder, 'b', '2.jpeg'), 8, 8, () => [128, 128, 128]);
  const gray = await loadImageFolder(folder);
  assert.deepEqual(gray.train!.shape, [4, 4, 1]);
  assert.deepEqual(Array.from(gray.train!.pixels.subarray(0, 4)), [0, 5, 10, 15]);
  assert.ok(gray.train!.pixels.subarray(16, 32).every((v) => v === 77));

  const resized = await loadImageFolder(folder, { imageSize: [2, 3], channels: 3 });
  assert.deepEqual(resized.train!.shape, [2, 3, 3]);
  assert.equal(resized.train!.pixels.length, 3 * 2 * 3 * 3);
  assert.ok(resized.train!.pixels.subarray(18, 36).every((v) => v === 77));
  // Bilinear with half-pixel centres: output (0, 0) of a 4×4 → 2×3 resize samples source (0.5, 0.1667).
  assert.equal(resized.train!.pixels[0], Math.round(0.5 * 40 + (4 / 3 * 0.5 - 0.5) * 5));

  await rejectsUser(loadImageFolder(folder, { imageSize: [0, 3] }), /image size 0×3 is invalid/);
});

test('colour images converted to 1 channel use luma', async (t) => {
  const folder = tempFolder(t);
  writePng(path.join(folder, 'a', '1.png'), 1, 1, () => [255, 0, 0]);
  writePng(path.join(folder, 'b', '1.png'), 1, 1, () => [0, 0, 255]);
  const dataset = await loadImageFolder(folder, { channels: 1 });
  assert.deepEqual(Array.from(dataset.train!.pixels), [Math.round(0.299 * 255), Math.round(0.114 * 255)]);
});

test('a single class, an empty class and a missing folder are UserErrors', async (t) => {
  const folder = tempFolder(t);
  writePng(path.join(folder, 'only', '1.png'), 2, 2, grayRamp);
  await rejectsUser(loadImageFolder(folder), /found 1 class folder\(s\); need at least 2/);
  mkdirSync(path.join(folder, 'empty'));
  await rejectsUser(loadImageFolder(folder), /empty: no PNG or JPEG images in this class folder/);
  await rejectsUser(loadImageFolder(path.join(folder, 'absent')), /absent: folder not found/);
});

test('an image that fails to decode is a UserError naming the file', async (t) => {
  const folder = tempFolder(t);
  writePng(path.join(folder, 'a', '1.png'), 2, 2, grayRamp);
  mkdirSync(path.join(folder, 'b'));
  const broken = path.join(folder, 'b', 'broken.png');
  writeFileSync(broken, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('garbage garbage garbage')]));
  await rejectsUser(loadImageFolder(folder), /b[/\\]broken\.png: cannot decode PNG image/);
  writeFileSync(broken, Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x01, 0x02]));
  await rejectsUser(loadImageFolder(folder), /broken\.png: cannot decode JPEG image/);
  writeFileSync(broken, 'plain text');
  await rejectsUser(loadImageFolder(folder), /broken\.png: not a PNG or JPEG image/);
});


test('PNG image data of the wrong size is refused before pngjs decodes it', async (t) => {
  const folder = tempFolder(t);
  writePng(path.join(folder, 'a', '1.png'), 2, 2, grayRamp);
  mkdirSync(path.join(folder, 'b'));
  const file = path.join(folder, 'b', '1.png');
  // 4×4 grey: 4 rows of a filter byte and 4 samples = 20 bytes. Short data made pngjs return uninitialised memory.
  writeFileSync(file, rawPng(4, 4, 0, 0, deflateSync(Buffer.alloc(12))));
  await rejectsUser(loadImageFolder(folder), /b[/\\]1\.png: cannot decode PNG image \(image data holds 12 of the 20 bytes of a 4×4 image\)/);
  // An interlaced 8×8 PNG whose data inflates to 64 MB (pngjs inflates interlaced data without a limit).
  writeFileSync(file, rawPng(8, 8, 0, 1, deflateSync(Buffer.alloc(64 * 1024 * 1024))));
  await rejectsUser(loadImageFolder(folder), /cannot decode PNG image \(image data inflates to more than the \d+ bytes of a 8×8 image\)/);
  // Interlaced data of the right size (7 Adam7 passes of an 8×8 grey image) decodes.
  const passRows = [[1, 1], [1, 1], [2, 1], [2, 2], [4, 2], [4, 4], [8, 4]];
  const adam7 = passRows.reduce((sum, [w, h]) => sum + h * (w + 1), 0);
  writeFileSync(file, rawPng(8, 8, 0, 1, deflateSync(Buffer.alloc(adam7, 0))));
  const dataset = await loadImageFolder(folder, { imageSize: [2, 2] });
  assert.deepEqual(Array.from(dataset.train!.pixels.subarray(4, 8)), [0, 0, 0, 0]);
});

test('an image whose header declares more pixels than the limit is refused before decoding', async (t) => {
  const folder = tempFolder(t);
  writePng(path.join(folder, 'a', '1.png'), 2, 2, grayRamp);
  mkdirSync(path.join(folder, 'b'));
  writeFileSync(path.join(folder, 'b', '1.png'), rawPng(12000, 12000, 0, 0, deflateSync(Buffer.alloc(10))));
  await rejectsUser(loadImageFolder(folder), /b[/\\]1\.png: PNG header declares 12000×12000 pixels, above the 4194304 pixel limit/);
  const jpegFile = path.join(folder, 'b', '1.png');
  const small = Buffer.from(jpeg.encode({ data: rgba(8, 8, grayRamp), width: 8, height: 8 }, 90).data);
  const sof = small.indexOf(Buffer.from([0xff, 0xc0]));
  small.writeUInt16BE(60000, sof + 5);
  small.writeUInt16BE(60000, sof + 7);
  writeFileSync(jpegFile, small);
  await rejectsUser(loadImageFolder(folder), /JPEG header declares 60000×60000 pixels/);
  // The first image decides the size of every image: above the dataset limit, the way out is named.
  writeFileSync(path.join(folder, 'a', '1.png'), rawPng(1500, 10, 0, 0, deflateSync(Buffer.alloc(10 * 1501))));
  await rejectsUser(loadImageFolder(folder), /a[/\\]1\.png: images of 10×1500 pixels are above the 1024×1024 limit .*imageSize/);
});

test('an image that is a FIFO or a link to a device is one line, and never waits', { skip: process.platform === 'win32' && 'POSIX FIFOs and /dev/zero' }, async (t) => {
  const folder = tempFolder(t);
  writePng(path.join(folder, 'a', '1.png'), 2, 2, grayRamp);
  mkdirSync(path.join(folder, 'b'));
  const image = path.join(folder, 'b', '1.png');
  execFileSync('mkfifo', [image]);
  await rejectsUser(loadImageFolder(folder), /b[/\\]1\.png: not a regular file \(a device, FIFO or socket\)/);
  rmSync(image);
  symlinkSync('/dev/zero', image);
  await rejectsUser(loadImageFolder(folder), /b[/\\]1\.png: not a regular file/);
});
