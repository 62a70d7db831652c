/**
 * What the app offers for download besides pictures: a JSON report per image (the API's
 * result, less the PNGs) and one CSV row per image, with the API's field names.
 * @module
 */

/**
 * @typedef {import('./measure.js').Measurements} Measurements
 * @typedef {import('./measure.js').Confidence} Confidence
 * @typedef {import('./quality.js').Quality} Quality
 * @typedef {{ name: string, flavour: string, sha256: string, input_size: number, source: string }} ModelInfo
 * @typedef {{ name: string, version: string, build: string }} RuntimeInfo
 * @typedef {{ decode_ms: number, inference_ms: number, postprocess_ms: number, total_ms: number }} Timings
 * @typedef {{
 *   file: string, model: ModelInfo, runtime: RuntimeInfo, image: { width: number, height: number },
 *   measurements: Measurements, confidence: Confidence, quality: Quality, timings_ms: Timings
 * }} Report
 */

/** The CSV's columns, in order: the report's fields, flattened (a result's reasons in one
 * cell, joined with "; " as the batch CSV has them). */
export const CSV_COLUMNS = [
  'file', 'status', 'width', 'height', 'lesion_found', 'area_px', 'area_fraction',
  'bounding_box_x', 'bounding_box_y', 'bounding_box_width', 'bounding_box_height',
  'equivalent_diameter_px', 'perimeter_px', 'asymmetry', 'border_irregularity',
  'pixel_spacing_mm', 'area_mm2', 'equivalent_diameter_mm', 'perimeter_mm',
  'mean_certainty', 'lesion_mean_probability', 'uncertain_fraction',
  'predicted_dice', 'needs_review', 'reasons', 'model_sha256', 'error',
];

/**
 * One CSV row: a report, or a file that could not be segmented and why.
 * @param {{ file: string, report?: Report, error?: string }} entry
 * @returns {Record<string, string | number | boolean | null>}
 */
export function csvRow({ file, report, error }) {
  if (!report) return { file, status: 'error', error: error ?? 'unknown error' };
  const m = report.measurements;
  const box = m.bounding_box;
  return {
    file,
    status: 'ok',
    width: report.image.width,
    height: report.image.height,
    lesion_found: m.lesion_found,
    area_px: m.area_px,
    area_fraction: m.area_fraction,
    bounding_box_x: box?.x ?? null,
    bounding_box_y: box?.y ?? null,
    bounding_box_width: box?.width ?? null,
    bounding_box_height: box?.height ?? null,
    equivalent_diameter_px: m.equivalent_diameter_px,
    perimeter_px: m.perimeter_px,
    asymmetry: m.asymmetry,
    border_irregularity: m.border_irregularity,
    pixel_spacing_mm: m.pixel_spacing_mm,
    area_mm2: m.area_mm2,
    equivalent_diameter_mm: m.equivalent_diameter_mm,
    perimeter_mm: m.perimeter_mm,
    mean_certainty: report.confidence.mean_certainty,
    lesion_mean_probability: report.confidence.lesion_mean_probability,
    uncertain_fraction: report.confidence.uncertain_fraction,
    predicted_dice: report.quality.predicted_dice,
    needs_review: report.quality.needs_review,
    reasons: report.quality.reasons.join('; '),
    model_sha256: report.model.sha256,
    error: null,
  };
}

/**
 * RFC 4180 CSV of rows (missing and null cells empty), with a header line.
 * @param {Record<string, string | number | boolean | null>[]} rows
 */
export function toCsv(rows) {
  /** @param {string | number | boolean | null | undefined} value */
  const cell = (value) => {
    const text = value === null || value === undefined ? '' : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const lines = [CSV_COLUMNS.join(','), ...rows.map((row) => CSV_COLUMNS.map((c) => cell(row[c])).join(','))];
  return lines.join('\r\n') + '\r\n';
}

/**
 * A file name's stem for the downloads (the folder part and the suffix dropped).
 * @param {string} name
 */
export function stem(name) {
  const base = name.split(/[\\/]/).pop() ?? name;
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base || 'image';
}
