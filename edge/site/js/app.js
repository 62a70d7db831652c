/**
 * The page: load and verify the model, segment the picked images one after another, show and
 * offer each result (with its quality estimate: "Needs review" and why, or "Looks fine"), and
 * the batch CSV. Nothing leaves the device: the page only ever talks to its own origin (and its
 * Content-Security-Policy says so).
 * @module
 */

import { ImageRefused } from './header.js';
import { loadModel } from './model.js';
import { maskPng } from './png.js';
import { badge } from './quality.js';
import { pictures, legendGradient } from './render.js';
import { csvRow, stem, toCsv } from './report.js';
import { segmentFile } from './segment.js';

/**
 * @typedef {import('./pipeline.js').Pipeline} Pipeline
 * @typedef {import('./report.js').Report} Report
 * @typedef {{ file: string, report?: Report, error?: string }} Entry
 */

const MIN_SPACING_MM = 1e-4;
const MAX_SPACING_MM = 10;

/** @param {string} id */
function byId(id) {
  return /** @type {HTMLElement} */ (document.getElementById(id));
}

/**
 * @param {string} tag
 * @param {Record<string, string>} [attributes]
 * @param {(Node | string)[]} [children]
 */
function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

/**
 * A download link for a blob made on the device.
 * @param {Blob} blob
 * @param {string} name
 * @param {string} label
 */
function download(blob, name, label) {
  return element('a', { href: URL.createObjectURL(blob), download: name, class: 'download' }, [label]);
}

/**
 * @param {HTMLCanvasElement} canvas
 * @returns {Promise<Blob>}
 */
function canvasPng(canvas) {
  return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('PNG encoding failed'))), 'image/png'));
}

/**
 * Rows of the measurement table, worded as in the Streamlit UI.
 * @param {Report} report
 * @returns {[string, string][]}
 */
function rows(report) {
  const m = report.measurements;
  /** @type {[string, string][]} */
  const out = [
    ['lesion found', m.lesion_found ? 'yes' : 'no'],
    ['area (px)', m.area_px.toLocaleString('en')],
    ['area (% of image)', (100 * m.area_fraction).toFixed(1)],
    ['equivalent diameter (px)', m.equivalent_diameter_px.toFixed(1)],
    ['perimeter (px)', m.perimeter_px.toFixed(1)],
    ['asymmetry (0 = symmetric)', m.asymmetry.toFixed(3)],
    ['border irregularity (1 = disc)', m.border_irregularity.toFixed(3)],
  ];
  if (m.bounding_box) {
    const b = m.bounding_box;
    out.push(['bounding box (x, y, w, h)', `${b.x}, ${b.y}, ${b.width}, ${b.height}`]);
  }
  if (m.area_mm2 !== null && m.equivalent_diameter_mm !== null && m.perimeter_mm !== null) {
    out.push(['area (mm²)', m.area_mm2.toFixed(2)], ['equivalent diameter (mm)', m.equivalent_diameter_mm.toFixed(2)], ['perimeter (mm)', m.perimeter_mm.toFixed(2)]);
  }
  out.push(['model certainty (0..1)', report.confidence.mean_certainty.toFixed(3)]);
  return out;
}

/** The pixel spacing typed in, or null (empty or 0); an Error for a value out of range. */
function pixelSpacing() {
  const text = /** @type {HTMLInputElement} */ (byId('spacing')).value.trim();
  const value = text === '' ? 0 : Number(text);
  if (!Number.isFinite(value) || value < 0 || (value > 0 && (value < MIN_SPACING_MM || value > MAX_SPACING_MM))) {
    throw new ImageRefused(`the pixel spacing must be between ${MIN_SPACING_MM} and ${MAX_SPACING_MM} mm (or empty)`);
  }
  return value === 0 ? null : value;
}

async function main() {
  const status = byId('status');
  const results = byId('results');
  /** @type {Entry[]} */
  const entries = [];
  const pipeline = /** @type {Pipeline} */ (await (await fetch(new URL('pipeline.json', document.baseURI))).json());
  status.textContent = 'Loading the model…';
  const model = await loadModel(pipeline, document.baseURI, new URLSearchParams(location.search).get('threads') !== '0');
  byId('model').textContent = `${pipeline.model.name} (${pipeline.model.flavour}), sha256 ${model.sha256} — checked`;
  if (pipeline.quality.model_sha256 !== model.sha256) {
    // As the API does, the estimate is still given, with a word that it belongs to another model.
    byId('model').append(element('span', { class: 'notice' }, [`; the quality estimate was fitted for model ${pipeline.quality.model_sha256.slice(0, 12)}…, not this one`]));
  }
  byId('runtime').textContent = `LiteRT.js ${model.version}, ${model.build} build${model.fallback ? `: ${model.fallback}` : ''}`;
  byId('runtime').classList.toggle('notice', model.fallback !== null);
  byId('legend').style.background = legendGradient();
  status.textContent = 'Ready. Pick one or more images; they are segmented on this device.';
  for (const input of document.querySelectorAll('input[type=file]')) input.removeAttribute('disabled');
  cacheForOffline();

  const csvLink = byId('csv');
  const refreshCsv = () => {
    csvLink.replaceChildren(download(new Blob([toCsv(entries.map(csvRow))], { type: 'text/csv' }), 'segmentations.csv', `Download the CSV (${entries.length} image${entries.length === 1 ? '' : 's'})`));
  };

  /** @param {File} file */
  const segmentOne = async (file) => {
    const card = element('article', { class: 'result' }, [element('h2', {}, [file.name])]);
    results.append(card);
    try {
      const result = await segmentFile(file, pipeline, model, pixelSpacing());
      const { report, mask, probability, display } = result;
      const pics = pictures(display, mask, probability, report.image.width, report.image.height);
      display.close();
      // Shown as PNGs (the very files offered below), not canvases: a long batch then holds
      // compressed pictures, not three full RGBA rasters an image.
      const [overlayPng, maskFile, probabilityPng] = await Promise.all([
        canvasPng(pics.overlay),
        maskPng(mask, report.image.width, report.image.height),
        canvasPng(pics.probability),
      ]);
      const name = stem(file.name);
      const { label, detail } = badge(report.quality);
      const review = report.quality.needs_review;
      /** @param {Blob} png @param {string} caption */
      const figure = (png, caption) => element('figure', {}, [element('img', { src: URL.createObjectURL(png), alt: `${caption} of ${file.name}` }), element('figcaption', {}, [caption])]);
      card.dataset.review = String(review);
      card.append(
        element('p', { class: `quality ${review ? 'needs-review' : 'looks-fine'}` }, [element('strong', { class: 'badge' }, [label]), detail]),
        element('div', { class: 'pictures' }, [figure(overlayPng, 'lesion outline'), figure(maskFile, 'mask'), figure(probabilityPng, 'probability (confidence)')]),
        element('table', {}, rows(report).map(([k, v]) => element('tr', {}, [element('th', {}, [k]), element('td', {}, [v])]))),
        element('p', { class: 'caption' }, [`${report.image.width}x${report.image.height}, ${report.timings_ms.total_ms.toFixed(0)} ms on this device (${report.timings_ms.inference_ms.toFixed(0)} ms model and mask)`]),
        element('p', { class: 'downloads' }, [
          download(maskFile, `${name}_mask.png`, 'mask PNG'),
          download(overlayPng, `${name}_overlay.png`, 'overlay PNG'),
          download(new Blob([JSON.stringify(report, null, 2)], { type: 'application/json' }), `${name}_report.json`, 'JSON report'),
        ]),
      );
      card.dataset.state = 'done';
      entries.push({ file: file.name, report });
      api.results.push(report);
    } catch (error) {
      const message = error instanceof ImageRefused ? error.message : `the image could not be segmented: ${String(error)}`;
      card.append(element('p', { class: 'error', role: 'alert' }, [message]));
      card.dataset.state = 'error';
      entries.push({ file: file.name, error: message });
      api.results.push({ file: file.name, error: message });
    }
    refreshCsv();
  };

  let queue = Promise.resolve();
  for (const input of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('input[type=file]'))) {
    input.addEventListener('change', () => {
      const files = Array.from(input.files ?? []);
      input.value = '';
      for (const file of files) queue = queue.then(() => segmentOne(file));
      queue = queue.then(() => { status.textContent = `Done: ${entries.length} image${entries.length === 1 ? '' : 's'} segmented on this device.`; });
    });
  }
  return { pipeline, model };
}

/** Register the service worker and hand it what LiteRT.js fetched, so a reload works offline. */
function cacheForOffline() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register(new URL('sw.js', document.baseURI)).then(async () => {
    const worker = (await navigator.serviceWorker.ready).active;
    const fetched = performance.getEntriesByType('resource').map((e) => e.name).filter((url) => url.startsWith(location.origin));
    worker?.postMessage({ type: 'cache', urls: fetched });
  }).catch((error) => { byId('offline').textContent = `Offline use is not available: ${String(error)}`; });
}

/** What scripts (tests, benchmarks) may use: the ready promise and every result so far. */
const api = {
  /** @type {(Report | Entry)[]} */
  results: [],
  ready: main().catch((error) => {
    byId('status').textContent = `The model could not be loaded: ${error instanceof Error ? error.message : String(error)}`;
    byId('status').classList.add('error');
    throw error;
  }),
};
Object.assign(globalThis, { lesionEdge: api });
