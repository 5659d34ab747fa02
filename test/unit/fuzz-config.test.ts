/**
 * Property-based tests of the configuration inputs: generated and mutated experiment files, sweep
 * files, results JSON Lines (resumed) and ε grid strings give a valid configuration or one
 * UserError line, never another error, nothing beyond the caps, and a refused --resume leaves the
 * file byte-identical. A small seeded count here; `npm run fuzz:config` runs 10,000 per target
 * (scripts/fuzz-config.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FUZZ_TARGET_NAMES, fuzzConfigTarget } from '../../scripts/fuzz-config';

const RUNS = 200;
const SEED = 20261130;

for (const name of FUZZ_TARGET_NAMES) {
  test(`${name}: ${RUNS} generated and mutated inputs are accepted within the caps or refused with one UserError line`, () => {
    const summary = fuzzConfigTarget(name, RUNS, SEED);
    assert.equal(summary.accepted + summary.refused, RUNS);
    // Both outcomes must occur, or the generator no longer exercises the validator.
    assert.ok(summary.accepted > 0, `no generated ${name} input was accepted`);
    assert.ok(summary.refused > 0, `no mutated ${name} input was refused`);
  });
}
