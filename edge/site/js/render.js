/**
 * Pictures of a result: the outline over the image (segcore.overlay's magenta, its width) and
 * the probability map in a colour map with its legend, at the display copy's size.
 * @module
 */

/** The outline's colour, as segcore.overlay draws it. */
export const OUTLINE = [255, 0, 255];
// Viridis at five stops, interpolated: dark blue (0, skin) to yellow (1, lesion).
const STOPS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

/**
 * The colour of probability level 0..255.
 * @param {number} level
 * @returns {number[]}
 */
export function colour(level) {
  const t = (level / 255) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(t));
  const f = t - i;
  return STOPS[i].map((a, c) => Math.round(a + (STOPS[i + 1][c] - a) * f));
}

/** CSS gradient of the colour map, for the legend. */
export function legendGradient() {
  return `linear-gradient(to right, ${STOPS.map((s) => `rgb(${s.join(',')})`).join(', ')})`;
}

/**
 * Nearest-neighbour resample of a one-channel map to a display size.
 * @param {Uint8Array} map
 * @param {number} width
 * @param {number} height
 * @param {number} outWidth
 * @param {number} outHeight
 */
export function shrink(map, width, height, outWidth, outHeight) {
  if (outWidth === width && outHeight === height) return map;
  const out = new Uint8Array(outWidth * outHeight);
  const columns = Int32Array.from({ length: outWidth }, (_, x) => Math.min(width - 1, Math.floor(((x + 0.5) * width) / outWidth)));
  for (let y = 0; y < outHeight; y++) {
    const row = Math.min(height - 1, Math.floor(((y + 0.5) * height) / outHeight)) * width;
    for (let x = 0; x < outWidth; x++) out[y * outWidth + x] = map[row + columns[x]];
  }
  return out;
}

/**
 * Lesion pixels within max(1, min(width, height) / 150) 4-neighbour steps of skin: what
 * segcore's repeated erosion leaves as the outline (the image's edge is not skin), found with a
 * two-pass city-block distance.
 * @param {Uint8Array} mask 0/255
 * @param {number} width
 * @param {number} height
 * @returns {Uint8Array} 1 on the outline
 */
export function outline(mask, width, height) {
  const radius = Math.max(1, Math.floor(Math.min(width, height) / 150));
  const far = width + height;
  const distance = new Int32Array(width * height);
  for (let i = 0; i < distance.length; i++) if (mask[i] > 128) distance[i] = far;
  for (let y = 0; y < height; y++) {
    for (let x = 0, i = y * width; x < width; x++, i++) {
      let d = distance[i];
      if (d === 0) continue;
      if (y > 0 && distance[i - width] + 1 < d) d = distance[i - width] + 1;
      if (x > 0 && distance[i - 1] + 1 < d) d = distance[i - 1] + 1;
      distance[i] = d;
    }
  }
  const edge = new Uint8Array(width * height);
  for (let y = height - 1; y >= 0; y--) {
    for (let x = width - 1, i = y * width + x; x >= 0; x--, i--) {
      let d = distance[i];
      if (d === 0) continue;
      if (y < height - 1 && distance[i + width] + 1 < d) d = distance[i + width] + 1;
      if (x < width - 1 && distance[i + 1] + 1 < d) d = distance[i + 1] + 1;
      distance[i] = d;
      if (d <= radius) edge[i] = 1;
    }
  }
  return edge;
}

/**
 * A canvas of an ImageData's pixels.
 * @param {ImageData} pixels
 */
function canvasOf(pixels) {
  const canvas = document.createElement('canvas');
  canvas.width = pixels.width;
  canvas.height = pixels.height;
  /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d')).putImageData(pixels, 0, 0);
  return canvas;
}

/** The colour map as 256 packed RGBA words (little-endian, as ImageData's bytes). */
const PACKED = Uint32Array.from({ length: 256 }, (_, level) => {
  const [r, g, b] = colour(level);
  return (255 << 24) | (b << 16) | (g << 8) | r;
});

/**
 * The outline over the display copy and the coloured probability map, at its size.
 * @param {ImageBitmap} display
 * @param {Uint8Array} mask width x height
 * @param {Uint8Array} probability at the display copy's size
 * @param {number} width
 * @param {number} height
 * @returns {{ overlay: HTMLCanvasElement, probability: HTMLCanvasElement }}
 */
export function pictures(display, mask, probability, width, height) {
  const w = display.width;
  const h = display.height;
  const edge = outline(shrink(mask, width, height, w, h), w, h);
  const scratch = new OffscreenCanvas(w, h);
  const context = /** @type {OffscreenCanvasRenderingContext2D} */ (scratch.getContext('2d'));
  context.drawImage(display, 0, 0);
  const image = context.getImageData(0, 0, w, h);
  for (let i = 0; i < edge.length; i++) if (edge[i]) image.data.set(OUTLINE, i * 4);
  const coloured = new ImageData(w, h);
  const words = new Uint32Array(coloured.data.buffer);
  for (let i = 0; i < words.length; i++) words[i] = PACKED[probability[i]];
  return { overlay: canvasOf(image), probability: canvasOf(coloured) };
}
