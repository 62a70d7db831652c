// The outline the page draws is segcore.overlay's (repeated 4-neighbour erosion).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { outline, shrink } from '../site/js/render.js';
import { bytes, vectors } from './support.js';

/**
 * The outline by repeated erosion, as segcore.overlay computes it.
 * @param {Uint8Array} mask
 * @param {number} width
 * @param {number} height
 */
function erodedOutline(mask, width, height) {
  const radius = Math.max(1, Math.floor(Math.min(width, height) / 150));
  const lesion = Uint8Array.from(mask, (v) => (v > 128 ? 1 : 0));
  let eroded = lesion.slice();
  for (let r = 0; r < radius; r++) {
    const next = eroded.slice();
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        if ((y > 0 && !eroded[i - width]) || (y < height - 1 && !eroded[i + width]) || (x > 0 && !eroded[i - 1]) || (x < width - 1 && !eroded[i + 1])) next[i] = 0;
      }
    }
    eroded = next;
  }
  return lesion.map((v, i) => (v && !eroded[i] ? 1 : 0));
}

for (const m of [...vectors().masks, ...vectors().images.map((/** @type {any} */ i) => ({ ...i, name: i.file }))]) {
  test(`the outline of ${m.name} is the repeated erosion's`, () => {
    const mask = bytes(m.mask);
    assert.deepEqual(outline(mask, m.width, m.height), erodedOutline(mask, m.width, m.height));
  });
}

test('shrinking keeps a map of the same size as it is', () => {
  const map = new Uint8Array([1, 2, 3, 4]);
  assert.equal(shrink(map, 2, 2, 2, 2), map);
  assert.deepEqual([...shrink(map, 2, 2, 1, 1)], [4]);
});
