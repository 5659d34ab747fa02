/**
 * Writes the catalog's parts (attack names, parameters, ranges, defaults, presets, dataset kinds)
 * into schema/sweep.schema.json, which VS Code reads for *.sweep.json files; the rest of the file
 * is written by hand and kept. `npm run build` runs this; a test fails while the file is stale.
 * Usage: node --import tsx scripts/write-schemas.ts
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CATALOG, sweepSchema } from '../src/core/catalog';
import { writeFileAtomic } from '../src/core/io/atomic';
import type { JsonSchema } from '../src/core/sweep/jsonSchema';

/** Lines at most this long keep an object or list on one line, as the hand-written parts are. */
const WIDTH = 200;

/** JSON with two-space indents, each object or list on one line where it fits. */
export function schemaText(value: unknown, indent = '', key = ''): string {
  const inline = JSON.stringify(value, null, 1).replace(/\n\s*/g, ' ').replace(/\[ /g, '[').replace(/ \]/g, ']').replace(/\{ /g, '{ ').replace(/ \}/g, ' }');
  if (typeof value !== 'object' || value === null || indent.length + key.length + inline.length <= WIDTH) return inline;
  const inner = `${indent}  `;
  const items = Array.isArray(value)
    ? value.map((item) => `${inner}${schemaText(item, inner)}`)
    : Object.entries(value).map(([k, item]) => `${inner}${JSON.stringify(k)}: ${schemaText(item, inner, `${JSON.stringify(k)}: `)}`);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  return `${open}\n${items.join(',\n')}\n${indent}${close}`;
}

export const SWEEP_SCHEMA_FILE = path.resolve(__dirname, '../schema/sweep.schema.json');

/** The file's text with the catalog's parts filled in. */
export function sweepSchemaText(current: string): string {
  return `${schemaText(sweepSchema(JSON.parse(current) as JsonSchema, CATALOG))}\n`;
}

if (require.main === module) {
  const current = fs.readFileSync(SWEEP_SCHEMA_FILE, 'utf8');
  const next = sweepSchemaText(current);
  if (next !== current) {
    writeFileAtomic(SWEEP_SCHEMA_FILE, next);
    console.log(`wrote ${path.relative(process.cwd(), SWEEP_SCHEMA_FILE)} (from the catalog)`);
  }
}
