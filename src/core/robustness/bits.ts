/**
 * Per-sample outcomes as bitsets: bit i of byte ⌊i/8⌋ (least significant first) is 1 when sample i
 * is still classified correctly. Results files store them in base64 (1,000 samples → 168 characters).
 */
import { UserError } from '../errors';

export function encodeBits(flags: ArrayLike<number>): string {
  const bytes = new Uint8Array(Math.ceil(flags.length / 8));
  for (let i = 0; i < flags.length; i++) if (flags[i]) bytes[i >> 3] |= 1 << (i & 7);
  return Buffer.from(bytes).toString('base64');
}

/** The `count` flags of `text`; `label` names where it came from in the one-line error. */
export function decodeBits(text: string, count: number, label: string): Uint8Array {
  const bytes = /^[A-Za-z0-9+/]*={0,2}$/.test(text) ? Buffer.from(text, 'base64') : undefined;
  if (!bytes || bytes.length !== Math.ceil(count / 8)) throw new UserError(`${label}: per-sample results are not a base64 bitset of ${count} samples`);
  return Uint8Array.from({ length: count }, (_, i) => (bytes[i >> 3] >> (i & 7)) & 1);
}
