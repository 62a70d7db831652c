// The batch CSV and the download names.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { CSV_COLUMNS, csvRow, stem, toCsv } from '../site/js/report.js';

/** @type {import('../site/js/report.js').Report} */
const report = {
  file: 'a,"b".jpg',
  model: { name: 'unet.tflite', flavour: 'int8', sha256: 'ab', input_size: 128, source: 'model/unet.tflite' },
  runtime: { name: 'litert.js', version: '2.5.3', build: 'plain' },
  image: { width: 10, height: 20 },
  measurements: {
    lesion_found: true, area_px: 5, area_fraction: 0.025, bounding_box: { x: 1, y: 2, width: 3, height: 4 },
    equivalent_diameter_px: 2.5, perimeter_px: 8, asymmetry: 0.1, border_irregularity: 1.2,
    pixel_spacing_mm: null, area_mm2: null, equivalent_diameter_mm: null, perimeter_mm: null,
  },
  confidence: { mean_certainty: 0.9, lesion_mean_probability: 0.8, uncertain_fraction: 0.01 },
  quality: { predicted_dice: 0.6645, needs_review: true, reasons: ['a wide uncertain margin around the lesion', "the lesion touches the image's edge"] },
  timings_ms: { decode_ms: 1, inference_ms: 2, postprocess_ms: 3, total_ms: 6 },
};

test('the quality estimate has the API\'s names in the CSV, after the confidence figures', () => {
  const at = CSV_COLUMNS.indexOf('uncertain_fraction');
  assert.deepEqual(CSV_COLUMNS.slice(at + 1, at + 4), ['predicted_dice', 'needs_review', 'reasons']);
});

test('one CSV row per image, quoted as RFC 4180, errors with their reason', () => {
  const text = toCsv([csvRow({ file: report.file, report }), csvRow({ file: 'bad.png', error: 'the file is not a readable image' })]);
  const lines = text.split('\r\n');
  assert.equal(lines[0], CSV_COLUMNS.join(','));
  assert.equal(lines[1], `"a,""b"".jpg",ok,10,20,true,5,0.025,1,2,3,4,2.5,8,0.1,1.2,,,,,0.9,0.8,0.01,0.6645,true,a wide uncertain margin around the lesion; the lesion touches the image's edge,ab,`);
  const fine = csvRow({ file: 'x.jpg', report: { ...report, quality: { predicted_dice: 0.9, needs_review: false, reasons: [] } } });
  assert.deepEqual([fine.predicted_dice, fine.needs_review, fine.reasons], [0.9, false, '']);
  assert.equal(lines[2], `bad.png,error${','.repeat(CSV_COLUMNS.length - 3)},the file is not a readable image`);
  assert.equal(lines.length, 4);
});

test('download names keep the file name but its folder and suffix', () => {
  assert.equal(stem('ISIC_0000012.jpg'), 'ISIC_0000012');
  assert.equal(stem('C:\\photos\\x.y.png'), 'x.y');
  assert.equal(stem('.hidden'), '.hidden');
});
