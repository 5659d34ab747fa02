/** Hand-built file fixtures shared by the parser tests, the bombs and the fuzzers (no library writes malformed files). */
import { crc32 } from 'node:zlib';
import type { CellResult } from '../../src/core/sweep';

/** A PNG of the given IHDR fields (8-bit samples) and image data (a zlib stream), with correct CRCs. */
export function rawPng(width: number, height: number, colorType: number, interlace: number, zlibData: Buffer): Buffer {
  const chunk = (type: string, body: Buffer) => {
    const typed = Buffer.concat([Buffer.from(type, 'latin1'), body]);
    const framed = Buffer.alloc(12 + body.length);
    framed.writeUInt32BE(body.length, 0);
    typed.copy(framed, 4);
    framed.writeUInt32BE(crc32(typed), 8 + body.length);
    return framed;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, colorType, 0, 0, interlace], 8);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', zlibData), chunk('IEND', Buffer.alloc(0))]);
}

/** A MAT v5 data element: the small format for 1–4 bytes (as MATLAB writes names like "X"), else tag + data padded to 8. */
export function matElement(type: number, data: Buffer): Buffer {
  if (data.length > 0 && data.length <= 4) {
    const small = Buffer.alloc(8);
    small.writeUInt16LE(type, 0);
    small.writeUInt16LE(data.length, 2);
    data.copy(small, 4);
    return small;
  }
  const tag = Buffer.alloc(8);
  tag.writeUInt32LE(type, 0);
  tag.writeUInt32LE(data.length, 4);
  return Buffer.concat([tag, data, Buffer.alloc((8 - (data.length % 8)) % 8)]);
}

/** A well-formed results line of a one-cell FGSM sweep. */
export function resultLine(id: string, configHash: string): CellResult {
  return {
    configHash,
    cell: { id, entry: 0, model: '/m', attack: 'fgsm', params: { eps: 0.1 }, eps: 0.1, iterations: null, samples: null, data: { spec: { kind: 'synthetic' }, trainRange: null, testRange: null, validationFraction: 0, splitSeed: 0 }, count: 10, batchSize: 100, seed: 0 },
    accuracy: 0.5,
    cleanAccuracy: 0.9,
    count: 10,
    seconds: 0.1,
    backend: 'cpu',
    finishedAt: '2025-01-01T00:00:00.000Z',
  };
}
