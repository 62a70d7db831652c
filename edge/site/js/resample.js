/**
 * Pillow's resize, to the bit: separable convolution with fixed-point coefficients
 * (Pillow's src/libImaging/Resample.c, 8 bits a channel), so an image resized here equals the
 * same image resized by the server (segcore) with `Image.resize`. Horizontal pass first, its
 * rows rounded to 8 bits, then the vertical pass, as Pillow does.
 * @module
 */

const PRECISION_BITS = 32 - 8 - 2;
const HALF = 1 << (PRECISION_BITS - 1);

/** @typedef {'bilinear' | 'box'} FilterName */

/**
 * An 8-bit image: rows of `width` pixels of `channels` interleaved bytes each.
 * @typedef {{ width: number, height: number, channels: number, data: Uint8Array }} Raster
 */

/**
 * Reads input rows [top, bottom) as `channels`-byte pixels, top to bottom, `width` a row. The
 * array may be the reader's own buffer: read it before the next call, never write to it.
 * @typedef {(top: number, bottom: number) => Uint8Array} RowReader
 */

/** @type {Record<FilterName, { support: number, weight: (x: number) => number }>} */
const FILTERS = {
  bilinear: {
    support: 1,
    weight: (x) => {
      const d = Math.abs(x);
      return d < 1 ? 1 - d : 0;
    },
  },
  box: { support: 0.5, weight: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
};

/**
 * Pillow's precompute_coeffs + normalize_coeffs_8bpc for one axis.
 * @param {number} inSize
 * @param {number} outSize
 * @param {FilterName} name
 * @returns {{ ksize: number, bounds: Int32Array, weights: Int32Array }}
 */
export function coefficients(inSize, outSize, name) {
  const filter = FILTERS[name];
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const row = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      row[x] = filter.weight((x + xmin - center + 0.5) / filterScale);
      total += row[x];
    }
    for (let x = 0; x < xmax; x++) {
      const w = total !== 0 ? row[x] / total : row[x];
      weights[xx * ksize + x] = Math.trunc(w < 0 ? -0.5 + w * 2 ** PRECISION_BITS : 0.5 + w * 2 ** PRECISION_BITS);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, weights };
}

/** @param {number} sum */
function clip8(sum) {
  const v = sum >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * Resize `height` rows of `width` pixels, read through `read` in strips of `strip` rows, to
 * outWidth x outHeight with Pillow's filter `name`. Only one strip of the input is held at a
 * time (plus the horizontally resized rows), so a huge image never sits in memory whole.
 * @param {RowReader} read
 * @param {number} width
 * @param {number} height
 * @param {number} channels
 * @param {number} outWidth
 * @param {number} outHeight
 * @param {FilterName} name
 * @param {number} [strip]
 * @returns {Raster}
 */
export function resampleRows(read, width, height, channels, outWidth, outHeight, name, strip = 256) {
  const needHorizontal = outWidth !== width;
  const needVertical = outHeight !== height;
  const vertical = coefficients(height, outHeight, name);
  const first = vertical.bounds[0];
  const last = vertical.bounds[outHeight * 2 - 2] + vertical.bounds[outHeight * 2 - 1];
  let rows;
  if (needHorizontal) {
    const horizontal = coefficients(width, outWidth, name);
    rows = new Uint8Array((last - first) * outWidth * channels);
    for (let top = first; top < last; top += strip) {
      const bottom = Math.min(top + strip, last);
      horizontalPass(read(top, bottom), bottom - top, width, channels, horizontal, rows, (top - first) * outWidth * channels, outWidth);
    }
    if (!needVertical) return { width: outWidth, height: outHeight, channels, data: rows };
    for (let i = 0; i < outHeight; i++) vertical.bounds[i * 2] -= first;
  } else {
    rows = read(0, height);
    if (!needVertical) return { width, height, channels, data: rows.slice() };
  }
  return { width: outWidth, height: outHeight, channels, data: verticalPass(rows, outWidth, channels, vertical, outHeight) };
}

/**
 * @param {Uint8Array} input
 * @param {number} count rows in `input`
 * @param {number} width
 * @param {number} channels
 * @param {{ ksize: number, bounds: Int32Array, weights: Int32Array }} k
 * @param {Uint8Array} out
 * @param {number} offset
 * @param {number} outWidth
 */
function horizontalPass(input, count, width, channels, k, out, offset, outWidth) {
  for (let y = 0; y < count; y++) {
    const rowStart = y * width * channels;
    for (let xx = 0; xx < outWidth; xx++) {
      const xmin = k.bounds[xx * 2];
      const xmax = k.bounds[xx * 2 + 1];
      const base = xx * k.ksize;
      for (let c = 0; c < channels; c++) {
        let sum = HALF;
        for (let x = 0; x < xmax; x++) sum += input[rowStart + (x + xmin) * channels + c] * k.weights[base + x];
        out[offset + (y * outWidth + xx) * channels + c] = clip8(sum);
      }
    }
  }
}

/**
 * @param {Uint8Array} input
 * @param {number} width
 * @param {number} channels
 * @param {{ ksize: number, bounds: Int32Array, weights: Int32Array }} k
 * @param {number} outHeight
 */
function verticalPass(input, width, channels, k, outHeight) {
  const out = new Uint8Array(outHeight * width * channels);
  const stride = width * channels;
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = k.bounds[yy * 2];
    const ymax = k.bounds[yy * 2 + 1];
    const base = yy * k.ksize;
    for (let i = 0; i < stride; i++) {
      let sum = HALF;
      for (let y = 0; y < ymax; y++) sum += input[(y + ymin) * stride + i] * k.weights[base + y];
      out[yy * stride + i] = clip8(sum);
    }
  }
  return out;
}

/**
 * Resize a whole raster, as Pillow's `Image.resize((outWidth, outHeight), filter)`.
 * @param {Raster} image
 * @param {number} outWidth
 * @param {number} outHeight
 * @param {FilterName} name
 * @returns {Raster}
 */
export function resample(image, outWidth, outHeight, name) {
  const stride = image.width * image.channels;
  /** @type {RowReader} */
  const read = (top, bottom) => image.data.subarray(top * stride, bottom * stride);
  return resampleRows(read, image.width, image.height, image.channels, outWidth, outHeight, name, image.height);
}

/**
 * One axis of a JPEG decoder's DCT scaling by 1/factor in the pixel domain: each 8-pixel run's
 * 8-point DCT cut to its 8 / factor lowest frequencies and inverted at that size (what
 * libjpeg's scaled IDCT computes from the coefficients), as an (8 / factor) x 8 matrix.
 * @param {number} factor 2, 4 or 8
 * @returns {Float64Array[]}
 */
export function dctScaleMatrix(factor) {
  const n = 8 / factor;
  /** @param {number} size @param {number} u @param {number} k */
  const basis = (size, u, k) => (u === 0 ? Math.sqrt(1 / size) : Math.sqrt(2 / size)) * Math.cos(((2 * k + 1) * u * Math.PI) / (2 * size));
  return Array.from({ length: n }, (_, k) => Float64Array.from({ length: 8 }, (_, x) => {
    let sum = 0;
    for (let u = 0; u < n; u++) sum += basis(n, u, k) * basis(8, u, x);
    return Math.sqrt(n / 8) * sum;
  }));
}

/**
 * The image as a JPEG decoder scaling its DCT by 1/factor would give it, from the full-size
 * pixels: 8x8 blocks from the top left (the last ones padded by repeating the edge, as
 * encoders pad), each through `dctScaleMatrix` on both axes, rounded; ceil(width / factor) x
 * ceil(height / factor). Reads 8 rows at a time.
 * @param {RowReader} read
 * @param {number} width
 * @param {number} height
 * @param {number} channels
 * @param {number} factor
 * @returns {Raster}
 */
export function dctScaleRows(read, width, height, channels, factor) {
  const n = 8 / factor;
  const m = dctScaleMatrix(factor);
  const outWidth = Math.ceil(width / factor);
  const outHeight = Math.ceil(height / factor);
  const blocksWide = Math.ceil(width / 8);
  const data = new Uint8Array(outWidth * outHeight * channels);
  const rows = new Float64Array(n * blocksWide * 8 * channels); // vertical pass of one block row
  for (let top = 0; top < height; top += 8) {
    const count = Math.min(8, height - top);
    const strip = read(top, top + count);
    rows.fill(0);
    const span = width * channels;
    const padded = blocksWide * 8 * channels;
    for (let y = 0; y < 8; y++) {
      const row = Math.min(y, count - 1) * span;
      for (let k = 0; k < n; k++) {
        const w = m[k][y];
        const base = k * padded;
        for (let i = 0; i < span; i++) rows[base + i] += w * strip[row + i];
        for (let i = span; i < padded; i++) rows[base + i] += w * strip[row + span - channels + (i % channels)];
      }
    }
    for (let k = 0; k < n; k++) {
      const y = (top / 8) * n + k;
      if (y >= outHeight) break;
      const base = k * blocksWide * 8 * channels;
      for (let bx = 0; bx < blocksWide; bx++) {
        for (let j = 0; j < n; j++) {
          const x = bx * n + j;
          if (x >= outWidth) break;
          for (let c = 0; c < channels; c++) {
            let sum = 0;
            for (let i = 0; i < 8; i++) sum += m[j][i] * rows[base + (bx * 8 + i) * channels + c];
            data[(y * outWidth + x) * channels + c] = Math.min(255, Math.max(0, Math.round(sum)));
          }
        }
      }
    }
  }
  return { width: outWidth, height: outHeight, channels, data };
}
