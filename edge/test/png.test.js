// The mask PNG: a valid 1-bit greyscale PNG whose pixels are the mask's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';

import { maskPng } from '../site/js/png.js';
import { bytes, vectors } from './support.js';

test('the sample mask round-trips through its 1-bit PNG', async () => {
  const image = vectors().images[0];
  const mask = bytes(image.mask);
  const png = new Uint8Array(await (await maskPng(mask, image.width, image.height)).arrayBuffer());
  const view = new DataView(png.buffer);
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
  assert.deepEqual([view.getUint32(16), view.getUint32(20), png[24], png[25]], [image.width, image.height, 1, 0]);
  const idatLength = view.getUint32(33);
  const raw = inflateSync(png.subarray(41, 41 + idatLength));
  const rowBytes = Math.ceil(image.width / 8);
  let differing = 0;
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const bit = (raw[y * (rowBytes + 1) + 1 + (x >> 3)] >> (7 - (x & 7))) & 1;
      if (bit !== (mask[y * image.width + x] > 128 ? 1 : 0)) differing++;
    }
  }
  assert.equal(differing, 0);
});
