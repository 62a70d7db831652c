/**
 * The served prediction's arithmetic, as segcore does it (segcore.decoding, .processing, .flips,
 * .predictor): how far an image is reduced before the model, the model input, the probability
 * levels from the model's output, and the mask at the image's own size. Pure functions on typed
 * arrays; the constants come from pipeline.json, which is generated from segcore.
 * @module
 */

import { dctScaleRows, resample, resampleRows } from './resample.js';

/**
 * What segcore serves, generated from it (devtools/edge_vectors.py writes pipeline.json).
 * @typedef {{
 *   model: { file: string, sha256: string, flavour: string, input_size: number, name: string },
 *   output_quantization: { scale: number, zero_point: number },
 *   flips: number, threshold: number, oversampling: number,
 *   max_image_pixels: number, min_side: number,
 *   quality: import('./quality.js').QualityModel
 * }} Pipeline
 */

/** @typedef {import('./resample.js').Raster} Raster */
/** @typedef {import('./resample.js').RowReader} RowReader */

/**
 * One step of reducing a decoded image before the model's own resize: a JPEG's DCT scale
 * (`factor`), or a box filter.
 * @typedef {{ width: number, height: number, why: 'jpeg-scale' | 'box', factor?: number }} Reduction
 */

/**
 * The reductions segcore applies to an image of `format` and stored size: a JPEG's DCT scale
 * (Pillow's draft: 1/8, 1/4 or 1/2 while both sides keep OVERSAMPLING x the model input), then
 * a box reduction by a whole factor while that still holds.
 * @param {'jpeg' | 'png'} format
 * @param {number} width
 * @param {number} height
 * @param {Pipeline} pipeline
 * @returns {Reduction[]}
 */
export function reductions(format, width, height, pipeline) {
  const side = pipeline.oversampling * pipeline.model.input_size;
  /** @type {Reduction[]} */
  const steps = [];
  let w = width;
  let h = height;
  if (format === 'jpeg') {
    const fit = Math.min(Math.floor(w / side), Math.floor(h / side));
    const scale = [8, 4, 2, 1].find((s) => fit >= s) ?? 1;
    if (scale > 1) {
      w = Math.ceil(w / scale);
      h = Math.ceil(h / scale);
      steps.push({ width: w, height: h, why: 'jpeg-scale', factor: scale });
    }
  }
  const factor = Math.floor(Math.min(w, h) / side);
  if (factor >= 2) steps.push({ width: Math.floor(w / factor), height: Math.floor(h / factor), why: 'box' });
  return steps;
}

/**
 * Apply `reductions` to an image read row by row (the first step streams; the image is never
 * held whole), giving the pixels the model input is resized from. The browser has decoded a
 * JPEG at full size where the server's decoder scaled its DCT; `dctScaleRows` redoes that
 * scaling on the decoded pixels, which comes close (not to the bit: the decoder scales before
 * its colour conversion and chroma upsampling, and from the quantized coefficients).
 * @param {RowReader} read
 * @param {number} width
 * @param {number} height
 * @param {Reduction[]} steps
 * @returns {Raster}
 */
export function reduce(read, width, height, steps) {
  if (steps.length === 0) return { width, height, channels: 3, data: read(0, height).slice() };
  const [first] = steps;
  let image = first.factor
    ? dctScaleRows(read, width, height, 3, first.factor)
    : resampleRows(read, width, height, 3, first.width, first.height, 'box');
  for (const step of steps.slice(1)) image = resample(image, step.width, step.height, 'box');
  return image;
}

/**
 * The model input: the whole field squashed to size x size, bilinear as Pillow resizes.
 * @param {Raster} image RGB
 * @param {number} size
 * @returns {Uint8Array} size x size x 3
 */
export function preprocess(image, size) {
  return resample(image, size, size, 'bilinear').data;
}

/** The eight views of a square: [transpose first, mirror left-right, mirror up-down]. */
const SYMMETRIES = [false, true].flatMap((t) => [[t, false, false], [t, true, false], [t, false, true], [t, true, true]]);

/**
 * The `flips` views of a model input (size x size x 3) in one batch, in segcore.flips' order.
 * @param {Uint8Array} pixels
 * @param {number} size
 * @param {number} flips
 * @returns {Uint8Array} flips x size x size x 3
 */
export function views(pixels, size, flips) {
  const out = new Uint8Array(flips * size * size * 3);
  for (let v = 0; v < flips; v++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const [sy, sx] = source(v, y, x, size);
        out.set(pixels.subarray((sy * size + sx) * 3, (sy * size + sx) * 3 + 3), ((v * size + y) * size + x) * 3);
      }
    }
  }
  return out;
}

/**
 * Where view `v`'s pixel (y, x) comes from in the image: its map's value goes back there.
 * @param {number} v
 * @param {number} y
 * @param {number} x
 * @param {number} size
 * @returns {[number, number]}
 */
function source(v, y, x, size) {
  const [transpose, leftRight, upDown] = SYMMETRIES[v];
  const yy = upDown ? size - 1 - y : y;
  const xx = leftRight ? size - 1 - x : x;
  return transpose ? [xx, yy] : [yy, xx];
}

/**
 * The lesion probabilities on the model grid from the model's quantized outputs of `views`:
 * dequantized, mapped back and averaged in float32, in segcore's order.
 * @param {Uint8Array} outputs flips x size x size
 * @param {number} size
 * @param {number} flips
 * @param {{ scale: number, zero_point: number }} quantization
 * @returns {Float32Array} size x size
 */
export function probabilities(outputs, size, flips, quantization) {
  const f = Math.fround;
  const scale = f(quantization.scale);
  const total = new Float32Array(size * size);
  for (let v = 0; v < flips; v++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const [sy, sx] = source(v, y, x, size);
        const p = f(f(outputs[(v * size + y) * size + x] - quantization.zero_point) * scale);
        total[sy * size + sx] = f(total[sy * size + sx] + p);
      }
    }
  }
  return total.map((sum) => f(sum / flips));
}

/**
 * The 8-bit levels round(p x 255) of probabilities (segcore.processing.probability_image).
 * @param {Float32Array} probabilities
 * @returns {Uint8Array}
 */
export function levels(probabilities) {
  return Uint8Array.from(probabilities, (p) => roundHalfEven(Math.fround(p * 255)));
}

/**
 * numpy's round (half to even), clipped to 0..255.
 * @param {number} value
 */
function roundHalfEven(value) {
  const floor = Math.floor(value);
  const diff = value - floor;
  const rounded = diff > 0.5 || (diff === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
  return Math.min(255, Math.max(0, rounded));
}

/**
 * The probability levels resized to width x height (bilinear, as Pillow): the map the mask is
 * cut from at the image's size, or a smaller copy to show.
 * @param {Uint8Array} levels size x size
 * @param {number} size
 * @param {number} width
 * @param {number} height
 * @returns {Uint8Array} width x height
 */
export function probabilityMap(levels, size, width, height) {
  return resample({ width: size, height: size, channels: 1, data: levels }, width, height, 'bilinear').data;
}

/**
 * The mask of a probability map, in its place: 255 where the level is above threshold x 255.
 * @param {Uint8Array} map
 * @param {number} threshold
 * @returns {Uint8Array} the same array, now the mask
 */
export function cutMask(map, threshold) {
  const cut = threshold * 255;
  for (let i = 0; i < map.length; i++) map[i] = map[i] > cut ? 255 : 0;
  return map;
}
