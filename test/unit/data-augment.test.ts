import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shiftImages } from '../../src/core/data/augment';
import { Random } from '../../src/core/random';

test('shiftImages moves each image by at most maxShift pixels, keeps its content, fills the border with 0', () => {
  const side = 9;
  const count = 200;
  const x = new Float32Array(count * side * side);
  // One bright pixel in the centre of every image, and a second channel-free marker next to it.
  for (let n = 0; n < count; n++) {
    x[n * side * side + 4 * side + 4] = 1;
    x[n * side * side + 4 * side + 5] = 0.5;
  }
  shiftImages(x, [side, side, 1], 2, new Random(3));
  const seen = new Set<string>();
  for (let n = 0; n < count; n++) {
    const image = x.subarray(n * side * side, (n + 1) * side * side);
    const at = image.indexOf(1);
    const [r, c] = [Math.floor(at / side), at % side];
    assert.ok(Math.abs(r - 4) <= 2 && Math.abs(c - 4) <= 2, `image ${n}: moved to ${r},${c}`);
    assert.equal(image[at + 1], 0.5, 'the neighbour moved with it');
    assert.equal(image.reduce((a, v) => a + v, 0), 1.5, 'nothing else appeared');
    seen.add(`${r},${c}`);
  }
  assert.equal(seen.size, 25, 'every shift in [−2, 2]² occurs');
});
