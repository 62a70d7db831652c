// Headers read before any pixel is decoded, and the refusals the API makes too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { HEADER_BYTES, ImageRefused, checkHeader, parseHeader } from '../site/js/header.js';
import { pipeline } from './support.js';

const fixtures = new URL('../../tests/fixtures/', import.meta.url);
/** @param {string} path */
const head = (path) => new Uint8Array(readFileSync(new URL(path, fixtures))).subarray(0, HEADER_BYTES);
const limits = pipeline();

const SIZES = [
  ['samples/ISIC_0000012.jpg', 'jpeg', 1022, 767],
  ['crafted/phone.mpo', 'jpeg', null, null],
  ['crafted/exif_short_as_ascii.jpg', 'jpeg', 256, 192],
  ['crafted/header_6000x6666.jpg', 'jpeg', 6000, 6666],
  ['crafted/grey_6400x6250.png', 'png', 6400, 6250],
  ['crafted/truncated_ihdr.png', 'png', 64, 7289807],
];

for (const [path, format, width, height] of SIZES) {
  test(`the header of ${path}`, () => {
    const header = parseHeader(head(/** @type {string} */ (path)));
    assert.equal(header.format, format);
    if (width !== null) assert.deepEqual([header.width, header.height], [width, height]);
  });
}

test('a 16-bit PNG, too many pixels and a too small side are refused with the reason', () => {
  assert.throws(() => checkHeader(parseHeader(head('crafted/grey16_6400x6250.png')), limits), /16-bit PNG/);
  assert.throws(() => checkHeader(parseHeader(head('crafted/truncated_ihdr.png')), limits), /the limit is 40,000,000 pixels/);
  assert.throws(() => checkHeader({ format: 'jpeg', width: 15, height: 400, bitDepth: 8 }, limits), /both sides must be >= 16/);
  checkHeader(parseHeader(head('crafted/header_6000x6666.jpg')), limits);
});

test('what is not a JPEG or PNG, or a broken header, is refused', () => {
  assert.throws(() => parseHeader(new TextEncoder().encode('<html>not an image</html>')), ImageRefused);
  assert.throws(() => parseHeader(head('samples/ISIC_0000012.jpg').subarray(0, 40)), /truncated or broken/);
  assert.throws(() => parseHeader(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0])), /truncated or broken/);
});
