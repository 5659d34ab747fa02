import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deflateSync } from 'node:zlib';
import { UserError } from '../../src/core/errors';
import { readMat } from '../../src/core/data/mat';
import { loadSvhnFolder } from '../../src/core/data/svhn';
import { matElement } from '../helpers/fileFormats';

// MAT v5 type codes and classes used below.
const MI = { INT8: 1, UINT8: 2, INT32: 5, UINT32: 6, DOUBLE: 9, MATRIX: 14, COMPRESSED: 15, UTF16: 17 };
const MX = { CHAR: 4, DOUBLE: 6, UINT8: 9 };

function tempFolder(t: { after: (fn: () => void) => void }): string {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'gccs-svhn-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}


function int32s(values: number[], type = MI.INT32): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeInt32LE(v, 4 * i));
  return matElement(type, b);
}

function matrix(name: string, classId: number, dims: number[], dataType: number, data: Buffer): Buffer {
  return matElement(
    MI.MATRIX,
    Buffer.concat([int32s([classId, 0], MI.UINT32), int32s(dims), matElement(MI.INT8, Buffer.from(name, 'latin1')), matElement(dataType, data)]),
  );
}

/** A compressed element holds one whole element, deflated; MATLAB does not pad it. */
function compressed(inner: Buffer): Buffer {
  const body = deflateSync(inner);
  const tag = Buffer.alloc(8);
  tag.writeUInt32LE(MI.COMPRESSED, 0);
  tag.writeUInt32LE(body.length, 4);
  return Buffer.concat([tag, body]);
}

function matFile(elements: Buffer[], headerText = 'MATLAB 5.0 MAT-file, Platform: test'): Buffer {
  const header = Buffer.alloc(128, 0x20);
  header.write(headerText, 0, 'latin1');
  header.fill(0, 116, 124);
  header.writeUInt16LE(0x0100, 124);
  header.write('IM', 126, 'latin1');
  return Buffer.concat([header, ...elements]);
}

const H = 4;
const W = 5;
/** X(h, w, c, n) of the generated images. */
const value = (h: number, w: number, c: number, n: number) => (h * 11 + w * 3 + c * 50 + n * 7) % 256;

/** SVHN-like variables: X uint8 [H, W, 3, N] column-major, y double [N, 1] stored as uint8 or as doubles. */
function svhnVariables(labels: number[], yStorage: 'uint8' | 'double'): Buffer[] {
  const n = labels.length;
  const x = Buffer.alloc(H * W * 3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) for (let w = 0; w < W; w++) for (let h = 0; h < H; h++) {
    x[h + H * w + H * W * c + H * W * 3 * i] = value(h, w, c, i);
  }
  let y: Buffer;
  if (yStorage === 'uint8') y = Buffer.from(labels);
  else {
    y = Buffer.alloc(8 * n);
    labels.forEach((label, i) => y.writeDoubleLE(label, 8 * i));
  }
  return [
    matrix('X', MX.UINT8, [H, W, 3, n], MI.UINT8, x),
    matrix('y', MX.DOUBLE, [n, 1], yStorage === 'uint8' ? MI.UINT8 : MI.DOUBLE, y),
  ];
}

function assertImages(pixels: Uint8Array, count: number): void {
  for (let n = 0; n < count; n++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < 3; c++) {
    assert.equal(pixels[((n * H + h) * W + w) * 3 + c], value(h, w, c, n), `image ${n} (${h}, ${w}, ${c})`);
  }
}

async function rejectsUser(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof UserError, `expected a UserError, got ${err}`);
    assert.match(err.message, pattern);
    return true;
  });
}

test('uncompressed and miCOMPRESSED MAT files load, column-major → HWC, label 10 → 0', async (t) => {
  const folder = tempFolder(t);
  writeFileSync(path.join(folder, 'train_32x32.mat'), matFile(svhnVariables([10, 1, 5], 'uint8')));
  const name = matrix('__note', MX.CHAR, [1, 2], MI.UTF16, Buffer.from('hi', 'utf16le'));
  writeFileSync(path.join(folder, 'test_32x32.mat'), matFile([compressed(name), ...svhnVariables([3, 10], 'double').map(compressed)]));
  const dataset = await loadSvhnFolder(folder);
  assert.equal(dataset.kind, 'svhn');
  assert.deepEqual(dataset.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  assert.deepEqual(dataset.train!.shape, [H, W, 3]);
  assert.deepEqual(Array.from(dataset.train!.labels), [0, 1, 5]);
  assert.deepEqual(Array.from(dataset.test!.labels), [3, 0]);
  assertImages(dataset.train!.pixels, 3);
  assertImages(dataset.test!.pixels, 2);
});

test('readMat returns numeric variables with their dims and skips others', async (t) => {
  const folder = tempFolder(t);
  const file = path.join(folder, 'vars.mat');
  const doubles = Buffer.alloc(16);
  doubles.writeDoubleLE(1.5, 0);
  doubles.writeDoubleLE(-2, 8);
  writeFileSync(file, matFile([compressed(matrix('weights', MX.DOUBLE, [2, 1], MI.DOUBLE, doubles)), matrix('s', MX.CHAR, [1, 1], MI.UTF16, Buffer.from('a', 'utf16le'))]));
  const variables = await readMat(file);
  assert.deepEqual([...variables.keys()], ['weights']);
  assert.deepEqual(variables.get('weights')!.dims, [2, 1]);
  assert.deepEqual(Array.from(variables.get('weights')!.data), [1.5, -2]);
});

test('only one of the two files is fine; neither is a UserError naming the expected files', async (t) => {
  const folder = tempFolder(t);
  await rejectsUser(loadSvhnFolder(folder), /no SVHN files; expected train_32x32\.mat and\/or test_32x32\.mat/);
  writeFileSync(path.join(folder, 'test_32x32.mat'), matFile(svhnVariables([2], 'uint8')));
  const dataset = await loadSvhnFolder(folder);
  assert.equal(dataset.train, undefined);
  assert.deepEqual(Array.from(dataset.test!.labels), [2]);
});

test('non-MAT, v7.3 (HDF5), truncated and malformed files are UserErrors naming the file', async (t) => {
  const folder = tempFolder(t);
  const file = path.join(folder, 'train_32x32.mat');
  writeFileSync(file, 'just some text, not a MAT file');
  await rejectsUser(loadSvhnFolder(folder), /train_32x32\.mat: not a MATLAB v5 MAT file/);

  const v73 = Buffer.alloc(1024);
  v73.write('MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00', 0, 'latin1');
  v73.write('\x89HDF\r\n\x1a\n', 512, 'latin1');
  writeFileSync(file, v73);
  await rejectsUser(loadSvhnFolder(folder), /train_32x32\.mat: MATLAB v7\.3 \(HDF5\) files are not supported/);

  const whole = matFile(svhnVariables([1, 2], 'uint8'));
  writeFileSync(file, whole.subarray(0, whole.length - 30));
  await rejectsUser(loadSvhnFolder(folder), /train_32x32\.mat: truncated MAT file/);

  writeFileSync(file, matFile([compressed(svhnVariables([1], 'uint8')[0]).subarray(0, 20)]));
  await rejectsUser(loadSvhnFolder(folder), /train_32x32\.mat: truncated MAT file/);

  writeFileSync(file, matFile(svhnVariables([1, 11], 'uint8')));
  await rejectsUser(loadSvhnFolder(folder), /train_32x32\.mat: label 11 of example 1 is outside 1\.\.10/);

  writeFileSync(file, matFile([svhnVariables([1], 'uint8')[0]]));
  await rejectsUser(loadSvhnFolder(folder), /train_32x32\.mat: expected numeric variables X and y/);

  const [x] = svhnVariables([1, 2], 'uint8');
  writeFileSync(file, matFile([x, matrix('y', MX.DOUBLE, [3, 1], MI.UINT8, Buffer.from([1, 2, 3]))]));
  await rejectsUser(loadSvhnFolder(folder), /train_32x32\.mat: y holds 3 labels but X holds 2 images/);

  const bigEndian = Buffer.from(readFileSync(file));
  bigEndian.write('MI', 126, 'latin1');
  writeFileSync(file, bigEndian);
  await rejectsUser(loadSvhnFolder(folder), /big-endian/);
});
