/**
 * What an image file is, from its first bytes, before any pixel is decoded: format, stored
 * size, and (PNG) bit depth, so that a wrong or oversized file is refused at once, as the API
 * refuses it (lesion_api.imaging).
 * @module
 */

/**
 * @typedef {{ format: 'jpeg' | 'png', width: number, height: number, bitDepth: number }} Header
 */

/** Bytes of a file read to find its header (JPEG: EXIF and other segments come first). */
export const HEADER_BYTES = 1 << 20;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
// JPEG start-of-frame markers (C0-CF less DHT C4, JPG C8 and DAC CC) carry the frame size.
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** A file the app cannot segment, with a message for the page. */
export class ImageRefused extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'ImageRefused';
  }
}

/**
 * The header of an image file's first bytes; ImageRefused when it is no JPEG or PNG or
 * the header is broken.
 * @param {Uint8Array} bytes the first HEADER_BYTES of the file (or all of it)
 * @returns {Header}
 */
export function parseHeader(bytes) {
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return png(bytes);
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return jpeg(bytes);
  throw new ImageRefused('the file is not a readable image; choose a JPEG or PNG');
}

/**
 * @param {Uint8Array} bytes
 * @returns {Header}
 */
function png(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ihdr = String.fromCharCode(...bytes.subarray(12, 16));
  if (bytes.length < 33 || ihdr !== 'IHDR') throw new ImageRefused('the PNG file is truncated or broken');
  return { format: 'png', width: view.getUint32(16), height: view.getUint32(20), bitDepth: bytes[24] };
}

/**
 * @param {Uint8Array} bytes
 * @returns {Header}
 */
function jpeg(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) throw new ImageRefused('the JPEG file is broken (bad segment marker)');
    const marker = bytes[at + 1];
    if (marker === 0xff) { at += 1; continue; }
    if (SOF.has(marker)) {
      return { format: 'jpeg', width: view.getUint16(at + 7), height: view.getUint16(at + 5), bitDepth: bytes[at + 4] };
    }
    if (marker === 0xd9 || marker === 0xda) break;
    at += 2 + view.getUint16(at + 2);
  }
  throw new ImageRefused('the JPEG file is truncated or broken (no frame header)');
}

/**
 * Refuse what the served pipeline refuses: too many pixels, too small, 16-bit PNG.
 * @param {Header} header
 * @param {{ max_image_pixels: number, min_side: number }} limits
 */
export function checkHeader(header, limits) {
  const { width, height } = header;
  if (width * height > limits.max_image_pixels) {
    throw new ImageRefused(`the image is ${width}x${height} pixels; the limit is ${limits.max_image_pixels.toLocaleString('en')} pixels`);
  }
  if (Math.min(width, height) < limits.min_side) {
    throw new ImageRefused(`the image is ${width}x${height}; both sides must be >= ${limits.min_side}`);
  }
  if (header.format === 'png' && header.bitDepth === 16) {
    throw new ImageRefused('16-bit PNGs cannot be read exactly in a browser (it keeps 8 bits); save it as an 8-bit PNG, or use the API, which reads 16-bit PNGs');
  }
}
