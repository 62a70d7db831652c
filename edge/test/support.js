/** Test helpers: the committed vectors (devtools/edge_vectors.py) and the shared pattern. */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';

const here = new URL('.', import.meta.url);

/** @returns {any} the vectors segcore generated */
export function vectors() {
  return JSON.parse(gunzipSync(readFileSync(new URL('vectors.json.gz', here))).toString());
}

/** @returns {import('../site/js/pipeline.js').Pipeline} */
export function pipeline() {
  return JSON.parse(readFileSync(new URL('../site/pipeline.json', here), 'utf8'));
}

/** @param {string} text base64 */
export function bytes(text) {
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** @param {string} text base64 of little-endian float32 */
export function floats(text) {
  const raw = Buffer.from(text, 'base64');
  return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

/** @param {Uint8Array} data */
export function sha256(data) {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The RGB pattern of devtools/edge_vectors.pattern, computed here too.
 * @param {number} width
 * @param {number} height
 * @returns {import('../site/js/resample.js').Raster}
 */
export function pattern(width, height) {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        data[(y * width + x) * 3 + c] =
          (x * 7 + y * 13 + c * 101 + ((x * y) >> 3) + (Math.floor(x / 9) ^ Math.floor(y / 5)) * 17) % 256;
      }
    }
  }
  return { width, height, channels: 3, data };
}

/**
 * How many positions differ.
 * @param {ArrayLike<number>} a
 * @param {ArrayLike<number>} b
 */
export function differing(a, b) {
  let count = Math.abs(a.length - b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) count++;
  return count;
}
