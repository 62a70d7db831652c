// The app's measurements and confidence against the API's (segcore.measurements).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { confidence, measure } from '../site/js/measure.js';
import { bytes, floats, pipeline, vectors } from './support.js';

const data = vectors();
const config = pipeline();
// Exact but for the last bits of float sums (equal in every vector today; a rounding tie in
// asymmetry's mirrored coordinates could still move a pixel, and would show here).
const CLOSE = { area_fraction: 1e-12, equivalent_diameter_px: 1e-9, perimeter_px: 1e-9, border_irregularity: 1e-9, asymmetry: 1e-9, area_mm2: 1e-9, equivalent_diameter_mm: 1e-9, perimeter_mm: 1e-9 };

/**
 * @param {Record<string, any>} actual
 * @param {Record<string, any>} expected
 */
function assertMeasurements(actual, expected) {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort());
  for (const [key, want] of Object.entries(expected)) {
    const tolerance = /** @type {Record<string, number>} */ (CLOSE)[key];
    if (tolerance !== undefined && typeof want === 'number') {
      assert.ok(Math.abs(actual[key] - want) <= tolerance, `${key}: ${actual[key]} vs ${want}`);
    } else {
      assert.deepEqual(actual[key], want, key);
    }
  }
}

for (const m of data.masks) {
  test(`measurements of ${m.name} are the API's`, () => {
    assertMeasurements(measure(bytes(m.mask), m.width, m.height, null), m.measurements);
  });
}

for (const image of data.images) {
  test(`${image.file}: measurements (0.0125 mm a pixel) and confidence are the API's`, () => {
    assertMeasurements(measure(bytes(image.mask), image.width, image.height, 0.0125), image.measurements);
    const got = confidence(floats(image.probabilities), config.threshold);
    const want = image.confidence;
    assert.ok(Math.abs(got.mean_certainty - want.mean_certainty) < 1e-5);
    assert.ok(Math.abs(got.uncertain_fraction - want.uncertain_fraction) < 1e-12);
    if (want.lesion_mean_probability === null) assert.equal(got.lesion_mean_probability, null);
    else assert.ok(Math.abs(/** @type {number} */ (got.lesion_mean_probability) - want.lesion_mean_probability) < 1e-5);
  });
}
