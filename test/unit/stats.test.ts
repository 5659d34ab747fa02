/**
 * src/core/stats.ts: the one median of the project (the calibration of the time estimate and the
 * bench scripts use it), on given values; and no other file defines one of its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { median } from '../../src/core/stats';

test('median: the middle value, the mean of the two middle ones for an even count; none of nothing', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
  // One slow round does not move it (what the calibration relies on).
  assert.equal(median([0.01, 0.011, 5]), 0.011);
  const values = [5, -1, 3];
  median(values);
  assert.deepEqual(values, [5, -1, 3], 'the values are not sorted in place');
  assert.throws(() => median([]), RangeError);
});

test('median has one home: no other source file under src/ or scripts/ defines its own', () => {
  const root = path.resolve(__dirname, '../..');
  const sources = (dir: string): string[] =>
    fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
      const relative = path.join(dir, entry.name);
      if (entry.isDirectory()) return sources(relative);
      return /\.[cm]?[jt]s$/.test(entry.name) ? [relative] : [];
    });
  const defining = [...sources('src'), ...sources('scripts')].filter((file) =>
    /\b(function\s+median\b|(const|let|var)\s+median\s*=)/.test(fs.readFileSync(path.join(root, file), 'utf8')),
  );
  assert.deepEqual(defining, [path.join('src', 'core', 'stats.ts')]);
});
