/**
 * Reading a picked file into the pixels the model input is made from, on the device: the
 * header is checked first (header.js), the browser decodes the image upright (EXIF orientation
 * applied, no colour conversion), and it is read back a strip of rows at a time and reduced as
 * the server reduces it (pipeline.js), so no full-size copy of it is ever held in JavaScript.
 * @module
 */

import { HEADER_BYTES, ImageRefused, checkHeader, parseHeader } from './header.js';
import { reduce, reductions } from './pipeline.js';

const STRIP_ROWS = 256;
/** Longest side of the copy kept to draw the outline on. */
export const DISPLAY_SIDE = 1024;

/**
 * @typedef {import('./pipeline.js').Pipeline} Pipeline
 * @typedef {{
 *   pixels: import('./resample.js').Raster, width: number, height: number,
 *   display: ImageBitmap, format: 'jpeg' | 'png'
 * }} DecodedImage
 */

/**
 * Decode `file` for the model; ImageRefused (with a message for the page) for a bad file.
 * @param {Blob} file
 * @param {Pipeline} pipeline
 * @returns {Promise<DecodedImage>}
 */
export async function decodeFile(file, pipeline) {
  const header = parseHeader(new Uint8Array(await file.slice(0, HEADER_BYTES).arrayBuffer()));
  checkHeader(header, pipeline);
  /** @type {ImageBitmap} */
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image', colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    throw new ImageRefused('the image cannot be read: the file is corrupt or truncated');
  }
  try {
    const { width, height } = bitmap;
    const steps = reductions(header.format, width, height, pipeline);
    const pixels = reduce(stripReader(bitmap), width, height, steps);
    const scale = Math.min(1, DISPLAY_SIDE / Math.max(width, height));
    const display = await createImageBitmap(bitmap, {
      resizeWidth: Math.max(1, Math.round(width * scale)),
      resizeHeight: Math.max(1, Math.round(height * scale)),
      resizeQuality: 'high',
    });
    return { pixels, width, height, display, format: header.format };
  } finally {
    bitmap.close();
  }
}

/**
 * Rows of the bitmap as RGB bytes, composited over white (as the server flattens transparency).
 * The canvas is drawn and read back a strip of STRIP_ROWS rows at a time, into one buffer
 * reused from strip to strip; a read inside the current strip is a view of that buffer (valid
 * until the next read), so the readers' 8-row steps do not each draw and copy.
 * @param {ImageBitmap} bitmap
 * @returns {import('./resample.js').RowReader}
 */
function stripReader(bitmap) {
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, STRIP_ROWS);
  const context = /** @type {OffscreenCanvasRenderingContext2D} */ (canvas.getContext('2d', { willReadFrequently: true, alpha: false }));
  const rgb = new Uint8Array(STRIP_ROWS * width * 3);
  let stripTop = 0;
  let stripBottom = 0;
  /** @param {number} top */
  const load = (top) => {
    const rows = Math.min(STRIP_ROWS, height - top);
    context.fillStyle = '#fff';
    context.fillRect(0, 0, width, rows);
    context.drawImage(bitmap, 0, top, width, rows, 0, 0, width, rows);
    const rgba = context.getImageData(0, 0, width, rows).data;
    for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
      rgb[j] = rgba[i];
      rgb[j + 1] = rgba[i + 1];
      rgb[j + 2] = rgba[i + 2];
    }
    stripTop = top;
    stripBottom = top + rows;
  };
  /** @param {number} from @param {number} to rows of the current strip */
  const view = (from, to) => rgb.subarray((from - stripTop) * width * 3, (to - stripTop) * width * 3);
  return (top, bottom) => {
    if (top >= stripTop && bottom <= stripBottom) return view(top, bottom);
    const out = new Uint8Array((bottom - top) * width * 3);
    for (let y = top; y < bottom; ) {
      if (y < stripTop || y >= stripBottom) load(y);
      const end = Math.min(bottom, stripBottom);
      out.set(view(y, end), (y - top) * width * 3);
      y = end;
    }
    return out;
  };
}
