/**
 * MATLAB v5 MAT files (what MATLAB writes by default and with `save -v7`): just enough to read
 * the numeric arrays of a little-endian file, including zlib-compressed (miCOMPRESSED) ones.
 */
import { promisify } from 'node:util';
import { constants, inflate, inflateSync } from 'node:zlib';
import { UserError } from '../errors';
import { DATA_LIMITS } from '../limits';
import { describe, megabytes, readBytes } from './files';

const inflateAsync = promisify(inflate);

export type NumericData =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

export interface MatArray {
  name: string;
  /** MATLAB class (mxDOUBLE_CLASS = 6 … mxUINT32_CLASS = 13), i.e. the type MATLAB shows. */
  classId: number;
  dims: number[];
  /**
   * Real part in MATLAB's column-major order, typed as the file stores it: MATLAB may store a
   * double array whose values are small integers as miUINT8, so readers must not assume the class.
   */
  data: NumericData;
}

/** What a variable's header declares, passed to the reader's check before its data is inflated or copied. */
export type MatHeader = Pick<MatArray, 'name' | 'classId' | 'dims'>;

export const MX_UINT8_CLASS = 9;
const MI_COMPRESSED = 15;
const MI_MATRIX = 14;
const COMPLEX_FLAG = 0x800;
const HEADER_BYTES = 128;
/** Inflated bytes enough to hold a matrix's tag, flags, dimensions and name. */
const MATRIX_HEADER_PEEK = 4096;
/** The numeric MATLAB classes (mxDOUBLE_CLASS = 6 … mxUINT32_CLASS = 13) and their bytes per value. */
const CLASS_BYTES: Record<number, number> = { 6: 8, 7: 4, 8: 1, 9: 1, 10: 2, 11: 2, 12: 4, 13: 4 };

/** miINT8 … miDOUBLE: element size and a view maker (the file is little-endian, like every host Node runs on). */
const MI_TYPES: Record<number, { size: number; view: (buffer: ArrayBuffer, offset: number, length: number) => NumericData }> = {
  1: { size: 1, view: (b, o, n) => new Int8Array(b, o, n) },
  2: { size: 1, view: (b, o, n) => new Uint8Array(b, o, n) },
  3: { size: 2, view: (b, o, n) => new Int16Array(b, o, n) },
  4: { size: 2, view: (b, o, n) => new Uint16Array(b, o, n) },
  5: { size: 4, view: (b, o, n) => new Int32Array(b, o, n) },
  6: { size: 4, view: (b, o, n) => new Uint32Array(b, o, n) },
  7: { size: 4, view: (b, o, n) => new Float32Array(b, o, n) },
  9: { size: 8, view: (b, o, n) => new Float64Array(b, o, n) },
};

interface Element {
  type: number;
  body: Uint8Array;
  /** Offset of the element after this one. */
  next: number;
}

/**
 * Reads the data element at `offset`. Sub-elements of a matrix are padded to 8 bytes; top-level
 * elements are not padded (MATLAB writes compressed elements back to back).
 */
function readElement(bytes: Uint8Array, offset: number, padded: boolean, file: string): Element {
  if (offset + 8 > bytes.length) throw new UserError(`${file}: truncated MAT file (data element tag cut off)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 8);
  const first = view.getUint32(0, true);
  const smallSize = first >>> 16;
  // Small data element format: type and size share the first word, data sits in the second.
  if (smallSize !== 0) {
    if (smallSize > 4) throw new UserError(`${file}: corrupt MAT file (small data element of ${smallSize} bytes)`);
    return { type: first & 0xffff, body: bytes.subarray(offset + 4, offset + 4 + smallSize), next: offset + 8 };
  }
  const size = view.getUint32(4, true);
  const start = offset + 8;
  if (start + size > bytes.length) {
    throw new UserError(`${file}: truncated MAT file (element of ${size} bytes at offset ${offset} runs past the end)`);
  }
  const end = start + size;
  return { type: first, body: bytes.subarray(start, end), next: padded ? Math.min(bytes.length, (end + 7) & ~7) : end };
}

/** A numeric element as a typed array; multi-byte data is copied so that it is aligned. */
function numericData(element: Element, what: string, file: string): NumericData {
  const type = MI_TYPES[element.type];
  if (!type) throw new UserError(`${file}: ${what} uses MAT data type ${element.type}, which is not supported`);
  const { body } = element;
  if (body.length % type.size !== 0) throw new UserError(`${file}: corrupt MAT file (${what} has a partial element)`);
  // A copy starts at offset 0 of its own buffer (Buffer#slice would not copy).
  const aligned = type.size === 1 ? body : new Uint8Array(body);
  return type.view(aligned.buffer as ArrayBuffer, aligned.byteOffset, body.length / type.size);
}

interface MatrixHeader extends MatHeader {
  /** Offset of the data element in the matrix body. */
  dataOffset: number;
}

/**
 * The flags, dimensions and name at the start of a miMATRIX body; undefined for arrays that are
 * not numeric (cells, structs, chars, sparse). Fails unless the dimensions are whole numbers
 * whose data fits the size limit of one data file.
 */
function parseMatrixHeader(body: Uint8Array, file: string): MatrixHeader | undefined {
  const flags = readElement(body, 0, true, file);
  const flagWords = numericData(flags, 'array flags', file);
  if (flagWords.length < 1) throw new UserError(`${file}: corrupt MAT file (empty array flags)`);
  const classId = flagWords[0] & 0xff;
  const dimsElement = readElement(body, flags.next, true, file);
  const nameElement = readElement(body, dimsElement.next, true, file);
  const name = Buffer.from(nameElement.body).toString('latin1');
  if (!(classId in CLASS_BYTES)) return undefined;
  if (flagWords[0] & COMPLEX_FLAG) throw new UserError(`${file}: variable ${name} is complex, which is not supported`);
  const dims = Array.from(numericData(dimsElement, `dimensions of ${name}`, file));
  if (dims.length < 2 || !dims.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new UserError(`${file}: variable ${name} has invalid dimensions ${dims.join('×')}`);
  }
  const bytes = dims.reduce((a, b) => a * b, CLASS_BYTES[classId]);
  if (bytes > DATA_LIMITS.fileBytes) {
    throw new UserError(`${file}: variable ${name} (${dims.join('×')}) is ${megabytes(bytes)}, above the ${megabytes(DATA_LIMITS.fileBytes)} limit (README › Limits)`);
  }
  return { name, classId, dims, dataOffset: nameElement.next };
}

/** Parses a miMATRIX body (see parseMatrixHeader); `check` sees the header before the data is read. */
function parseMatrix(body: Uint8Array, file: string, check: (header: MatHeader) => void): MatArray | undefined {
  const header = parseMatrixHeader(body, file);
  if (!header) return undefined;
  const { name, classId, dims, dataOffset } = header;
  check({ name, classId, dims });
  const data = numericData(readElement(body, dataOffset, true, file), `variable ${name}`, file);
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) {
    throw new UserError(`${file}: variable ${name} is ${dims.join('×')} but holds ${data.length} values`);
  }
  return { name, classId, dims, data };
}

/** Fails with a clear message unless `bytes` start like a little-endian MAT v5 file. */
function checkHeader(bytes: Uint8Array, file: string): void {
  const text = Buffer.from(bytes.subarray(0, 116)).toString('latin1');
  const hdf5 = (at: number) => Buffer.from(bytes.subarray(at, at + 8)).toString('latin1') === '\x89HDF\r\n\x1a\n';
  if (text.startsWith('MATLAB 7.3') || hdf5(0) || hdf5(512)) {
    throw new UserError(`${file}: MATLAB v7.3 (HDF5) files are not supported; re-save it with save(..., '-v7')`);
  }
  if (bytes.length < HEADER_BYTES || !text.startsWith('MATLAB 5.0 MAT-file')) {
    throw new UserError(`${file}: not a MATLAB v5 MAT file`);
  }
  const endian = Buffer.from(bytes.subarray(126, 128)).toString('latin1');
  if (endian !== 'IM') throw new UserError(`${file}: big-endian MAT files are not supported`);
}

/**
 * The start of a compressed element, inflated from a prefix of its zlib stream (a deflate stream
 * cannot expand more than about 1000-fold, so each attempt is bounded); at least `want` bytes
 * unless the element is shorter.
 */
function peekInflated(compressed: Uint8Array, want: number, file: string): Buffer {
  for (let take = 1024; ; take *= 4) {
    const prefix = compressed.subarray(0, take);
    let head: Buffer;
    try {
      head = inflateSync(prefix, { finishFlush: constants.Z_SYNC_FLUSH });
    } catch (err) {
      throw new UserError(`${file}: corrupt compressed MAT element (${describe(err)})`);
    }
    if (head.length >= want || prefix.length === compressed.length) return head;
  }
}

/**
 * Inflates a compressed element whose inflated tag says it holds a numeric matrix, with the size
 * the tag declares as the most it may inflate to: a zlib bomb stops there. Undefined for elements
 * that are not numeric matrices (they are skipped without being inflated).
 */
async function inflateMatrix(compressed: Uint8Array, file: string, check: (header: MatHeader) => void): Promise<Element | undefined> {
  const head = peekInflated(compressed, MATRIX_HEADER_PEEK, file);
  if (head.length < 8) throw new UserError(`${file}: truncated compressed MAT element`);
  const type = head.readUInt32LE(0);
  const declared = head.readUInt32LE(4);
  if (type !== MI_MATRIX) return undefined;
  if (8 + declared > DATA_LIMITS.inflatedBytes) {
    throw new UserError(
      `${file}: a compressed MAT element declares ${megabytes(8 + declared)}, above the ${megabytes(DATA_LIMITS.inflatedBytes)} limit for one compressed stream (README › Limits); re-save it uncompressed (save(..., '-v6'))`,
    );
  }
  const header = parseMatrixHeader(head.subarray(8, 8 + Math.min(declared, head.length - 8)), file);
  if (!header) return undefined;
  check(header);
  const inflated = await inflateAsync(compressed, { maxOutputLength: 8 + declared }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ERR_BUFFER_TOO_LARGE') {
      throw new UserError(`${file}: compressed MAT element inflates to more than the ${8 + declared} bytes its tag declares`);
    }
    throw new UserError(`${file}: corrupt compressed MAT element (${describe(err)})`);
  });
  return readElement(inflated, 0, false, file);
}

/**
 * The numeric variables of a MAT v5 file, by name. `check` sees each numeric variable's header
 * (name, class, dimensions) before its data is inflated or copied, and may refuse it.
 */
export async function readMat(file: string, check: (header: MatHeader) => void = () => undefined): Promise<Map<string, MatArray>> {
  const bytes = await readBytes(file);
  checkHeader(bytes, file);
  const variables = new Map<string, MatArray>();
  for (let offset = HEADER_BYTES; offset < bytes.length; ) {
    const element = readElement(bytes, offset, false, file);
    offset = element.next;
    const matrix = element.type === MI_COMPRESSED ? await inflateMatrix(element.body, file, check) : element;
    if (matrix?.type !== MI_MATRIX) continue;
    const array = parseMatrix(matrix.body, file, check);
    if (array) variables.set(array.name, array);
  }
  return variables;
}
