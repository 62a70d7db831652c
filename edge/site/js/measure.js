/**
 * Lesion measurements of a mask and confidence figures of the probabilities, as the API
 * computes them (segcore.measurements), with the API's field names.
 * @module
 */

const ASYMMETRY_MAX_SIDE = 256;

/**
 * @typedef {{ x: number, y: number, width: number, height: number }} BoundingBox
 * @typedef {{
 *   lesion_found: boolean, area_px: number, area_fraction: number,
 *   bounding_box: BoundingBox | null, equivalent_diameter_px: number, perimeter_px: number,
 *   asymmetry: number, border_irregularity: number, pixel_spacing_mm: number | null,
 *   area_mm2: number | null, equivalent_diameter_mm: number | null, perimeter_mm: number | null
 * }} Measurements
 * @typedef {{ mean_certainty: number, lesion_mean_probability: number | null,
 *   uncertain_fraction: number }} Confidence
 */

/**
 * Area, bounding box, equivalent diameter, perimeter (4-neighbour transitions, the border
 * counting as skin, x pi/4), asymmetry and border irregularity (perimeter^2 / (4 pi area)) of a
 * 0/255 mask; lengths and areas in mm too when a pixel spacing is given.
 * @param {Uint8Array} mask width x height, 0 or 255
 * @param {number} width
 * @param {number} height
 * @param {number | null} pixelSpacingMm
 * @returns {Measurements}
 */
export function measure(mask, width, height, pixelSpacingMm = null) {
  let area = 0;
  let transitions = 0;
  let left = width;
  let top = height;
  let right = -1;
  let bottom = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const lesion = mask[row + x] !== 0;
      if (!lesion) {
        if (x > 0 && mask[row + x - 1] !== 0) transitions++;
        if (y > 0 && mask[row - width + x] !== 0) transitions++;
        continue;
      }
      area++;
      if (x < left) left = x;
      if (x > right) right = x;
      if (y < top) top = y;
      bottom = y;
      if (x === 0 || mask[row + x - 1] === 0) transitions++;
      if (y === 0 || mask[row - width + x] === 0) transitions++;
      if (x === width - 1) transitions++;
      if (y === height - 1) transitions++;
    }
  }
  const spacing = pixelSpacingMm || null;
  if (area === 0) {
    return {
      lesion_found: false, area_px: 0, area_fraction: 0, bounding_box: null,
      equivalent_diameter_px: 0, perimeter_px: 0, asymmetry: 0, border_irregularity: 0,
      pixel_spacing_mm: pixelSpacingMm, area_mm2: null, equivalent_diameter_mm: null, perimeter_mm: null,
    };
  }
  const diameter = Math.sqrt((4 * area) / Math.PI);
  const perimeter = (transitions * Math.PI) / 4;
  return {
    lesion_found: true,
    area_px: area,
    area_fraction: area / (height * width),
    bounding_box: { x: left, y: top, width: right + 1 - left, height: bottom + 1 - top },
    equivalent_diameter_px: diameter,
    perimeter_px: perimeter,
    asymmetry: asymmetry(subsampled(mask, width, height)),
    border_irregularity: perimeter ** 2 / (4 * Math.PI * area),
    pixel_spacing_mm: pixelSpacingMm,
    area_mm2: spacing ? area * spacing ** 2 : null,
    equivalent_diameter_mm: spacing ? diameter * spacing : null,
    perimeter_mm: spacing ? perimeter * spacing : null,
  };
}

/**
 * The mask at most ASYMMETRY_MAX_SIDE px a side, nearest neighbour as Pillow resizes.
 * @param {Uint8Array} mask
 * @param {number} width
 * @param {number} height
 * @returns {{ data: Uint8Array, width: number, height: number }}
 */
function subsampled(mask, width, height) {
  const step = Math.max(1, Math.ceil(Math.max(width, height) / ASYMMETRY_MAX_SIDE));
  if (step === 1) return { data: mask, width, height };
  const w = Math.ceil(width / step);
  const h = Math.ceil(height / step);
  const columns = nearest(width, w);
  const rows = nearest(height, h);
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = mask[rows[y] * width + columns[x]];
  return { data, width: w, height: h };
}

/**
 * Pillow's ImagingScaleAffine source index of each output pixel (accumulated as it does).
 * @param {number} inSize
 * @param {number} outSize
 */
function nearest(inSize, outSize) {
  const step = inSize / outSize;
  const index = new Int32Array(outSize);
  let at = step * 0.5;
  for (let i = 0; i < outSize; i++) {
    index[i] = Math.min(inSize - 1, Math.trunc(at));
    at += step;
  }
  return index;
}

/**
 * numpy's rint (half to even).
 * @param {number} v
 */
function rint(v) {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Mean non-overlap of the lesion with its mirror images about its two principal axes: 0 for a
 * shape symmetric about both (an ellipse), towards 1 as it gets lopsided.
 * @param {{ data: Uint8Array, width: number, height: number }} mask
 */
function asymmetry({ data, width, height }) {
  /** @type {number[]} */
  const xs = [];
  /** @type {number[]} */
  const ys = [];
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if (data[y * width + x]) { xs.push(x); ys.push(y); }
  const n = xs.length;
  if (n < 3) return 0;
  const cx = xs.reduce((a, b) => a + b, 0) / n;
  const cy = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i] - cx;
    const dy = ys[i] - cy;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  const axes = principalAxes(sxx / (n - 1), sxy / (n - 1), syy / (n - 1));
  let total = 0;
  for (const [vx, vy] of axes) {
    let overlap = 0;
    for (let i = 0; i < n; i++) {
      const dx = xs[i] - cx;
      const dy = ys[i] - cy;
      const along = dx * vx + dy * vy;
      const bx = rint(cx + dx - 2 * along * vx);
      const by = rint(cy + dy - 2 * along * vy);
      if (bx >= 0 && bx < width && by >= 0 && by < height && data[by * width + bx]) overlap++;
    }
    total += 1 - overlap / n;
  }
  return total / 2;
}

/**
 * Unit eigenvectors of the symmetric matrix [[a, b], [b, c]].
 * @param {number} a
 * @param {number} b
 * @param {number} c
 * @returns {[number, number][]}
 */
function principalAxes(a, b, c) {
  if (b === 0) return [[1, 0], [0, 1]];
  const lambda = (a + c) / 2 - Math.hypot((a - c) / 2, b);
  const [ux, uy] = Math.abs(lambda - c) > Math.abs(lambda - a) ? [lambda - c, b] : [b, lambda - a];
  const norm = Math.hypot(ux, uy);
  return [[ux / norm, uy / norm], [-uy / norm, ux / norm]];
}

/**
 * Mean certainty |2p - 1|, mean lesion probability (p > threshold) and the fraction with
 * 0.25 < p < 0.75, on the model's grid, which covers the whole image.
 * @param {Float32Array} probabilities
 * @param {number} threshold
 * @returns {Confidence}
 */
export function confidence(probabilities, threshold) {
  let certainty = 0;
  let lesion = 0;
  let lesionSum = 0;
  let uncertain = 0;
  for (const p of probabilities) {
    certainty += Math.abs(2 * p - 1);
    if (p > threshold) { lesion++; lesionSum += p; }
    if (p > 0.25 && p < 0.75) uncertain++;
  }
  const n = probabilities.length;
  return {
    mean_certainty: certainty / n,
    lesion_mean_probability: lesion ? lesionSum / lesion : null,
    uncertain_fraction: uncertain / n,
  };
}
