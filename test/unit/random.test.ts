import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Random } from '../../src/core/random';

test('signs draws what next() < 0.5 ? -1 : 1 would, and leaves the generator where those draws would', () => {
  for (const seed of [0, 1, 12345, 2 ** 32 - 1]) {
    const [fast, slow] = [new Random(seed), new Random(seed)];
    const signs = fast.signs(new Float32Array(100_000));
    const expected = Float32Array.from({ length: signs.length }, () => (slow.next() < 0.5 ? -1 : 1));
    assert.deepEqual(signs, expected, `seed ${seed}`);
    assert.equal(fast.next(), slow.next(), `seed ${seed}: the next draw`);
    const negative = signs.filter((s) => s < 0).length / signs.length;
    assert.ok(Math.abs(negative - 0.5) < 0.01, `seed ${seed}: ${negative} of the signs are −1`);
  }
});
