/**
 * Property-based tests of the dataset parsers: generated and mutated IDX, CIFAR, SVHN .mat,
 * PNG/JPEG folders and .tar.gz archives load consistently or fail with one UserError line naming
 * the file; never another error, a hang or an escape from the extraction folder. A small seeded
 * count here; `npm run fuzz:data` runs 10,000 per parser (scripts/fuzz-data.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FUZZ_TARGETS, fuzzTarget } from '../../scripts/fuzz-data';

const RUNS = 200;
const SEED = 20260330;

for (const target of FUZZ_TARGETS) {
  test(`${target.name}: ${RUNS} generated and mutated inputs load or fail with one UserError line`, async () => {
    const summary = await fuzzTarget(target, RUNS, SEED);
    assert.equal(summary.loaded + summary.refused, RUNS);
    // Both outcomes must occur, or the generator no longer exercises the parser.
    assert.ok(summary.loaded > 0, `no generated ${target.name} input loaded`);
    assert.ok(summary.refused > 0, `no mutated ${target.name} input was refused`);
  });
}
