/**
 * Pictures of a result on canvases: the outline over the image (segcore.overlay's magenta),
 * the mask, and the probability map in a colour map with its legend.
 * @module
 */

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
  const out = new Uint8Array(outWidth * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const sy = Math.min(height - 1, Math.floor(((y + 0.5) * height) / outHeight));
    for (let x = 0; x < outWidth; x++) out[y * outWidth + x] = map[sy * width + Math.min(width - 1, Math.floor(((x + 0.5) * width) / outWidth))];
  }
  return out;
}

/**
 * Lesion pixels with a skin pixel within `radius` steps (4-neighbour erosion, as segcore).
 * @param {Uint8Array} mask
 * @param {number} width
 * @param {number} height
 */
export function outline(mask, width, height) {
  const radius = Math.max(1, Math.floor(Math.min(width, height) / 150));
  let eroded = Uint8Array.from(mask, (v) => (v > 128 ? 1 : 0));
  const lesion = eroded.slice();
  for (let r = 0; r < radius; r++) {
    const next = eroded.slice();
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        if (!eroded[i]) continue;
        if ((y > 0 && !eroded[i - width]) || (y < height - 1 && !eroded[i + width]) || (x > 0 && !eroded[i - 1]) || (x < width - 1 && !eroded[i + 1])) next[i] = 0;
      }
    }
    eroded = next;
  }
  return lesion.map((v, i) => (v && !eroded[i] ? 1 : 0));
}

/**
 * A canvas of width x height from a per-pixel RGB function.
 * @param {number} width
 * @param {number} height
 * @param {(i: number) => ArrayLike<number>} rgb
 */
function paint(width, height, rgb) {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  const image = context.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const [r, g, b] = /** @type {number[]} */ (Array.from(rgb(i)));
    image.data.set([r, g, b, 255], i * 4);
  }
  context.putImageData(image, 0, 0);
  return canvas;
}

/**
 * The three pictures of a result at the display copy's size.
 * @param {ImageBitmap} display
 * @param {Uint8Array} mask width x height
 * @param {Uint8Array} probability at the display copy's size
 * @param {number} width
 * @param {number} height
 * @returns {{ overlay: HTMLCanvasElement, mask: HTMLCanvasElement, probability: HTMLCanvasElement }}
 */
export function pictures(display, mask, probability, width, height) {
  const w = display.width;
  const h = display.height;
  const small = shrink(mask, width, height, w, h);
  const edge = outline(small, w, h);
  const overlay = document.createElement('canvas');
  overlay.width = w;
  overlay.height = h;
  const context = /** @type {CanvasRenderingContext2D} */ (overlay.getContext('2d'));
  context.drawImage(display, 0, 0);
  const pixels = context.getImageData(0, 0, w, h);
  for (let i = 0; i < w * h; i++) if (edge[i]) pixels.data.set(OUTLINE, i * 4);
  context.putImageData(pixels, 0, 0);
  return {
    overlay,
    mask: paint(w, h, (i) => (small[i] ? [255, 255, 255] : [0, 0, 0])),
    probability: paint(w, h, (i) => colour(probability[i])),
  };
}
