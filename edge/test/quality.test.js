// The quality estimate against segcore.quality's (devtools/edge_vectors.py): the signals, the
// rounded estimate, the flag and the reasons' words, on made-up maps and the fixtures' own.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { SIGNALS, assess, badge, components, formatFixed, formatPercent, reason, roundTo, signals } from '../site/js/quality.js';
import { floats, pipeline, vectors } from './support.js';

const data = vectors();
const model = pipeline().quality;

/** @param {string} text base64 of little-endian int32 */
function ints(text) {
  const raw = Buffer.from(text, 'base64');
  return new Int32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

/**
 * @param {Float32Array} probabilities
 * @param {any} want segcore's signals, predicted_dice, needs_review and reasons
 */
function assertQuality(probabilities, want) {
  const size = Math.round(Math.sqrt(probabilities.length));
  const got = signals(probabilities, size, model);
  assert.deepEqual(Object.keys(got), [...SIGNALS]);
  for (const name of SIGNALS) assert.ok(Math.abs(got[name] - want.signals[name]) <= 1e-6, `${name}: ${got[name]} vs ${want.signals[name]}`);
  assert.deepEqual(assess(probabilities, model), { predicted_dice: want.predicted_dice, needs_review: want.needs_review, reasons: want.reasons });
}

test('the pipeline carries the fitted model for these signals', () => {
  assert.deepEqual(model.signals, [...SIGNALS]);
  for (const key of /** @type {const} */ (['means', 'scales', 'coefficients'])) assert.equal(model[key].length, SIGNALS.length);
  assert.equal(model.lesion_threshold, pipeline().threshold);
  assert.equal(model.model_sha256, pipeline().model.sha256, 'the estimate was fitted for the model the app runs');
});

for (const map of data.quality.maps) {
  test(`quality of a made-up map (${map.name}) is segcore's`, () => {
    const probabilities = floats(map.probabilities);
    const { labels, count } = components(probabilities.map((p) => (p > model.lesion_threshold ? 1 : 0)), map.size);
    assert.equal(count, map.count);
    assert.deepEqual(labels, ints(map.labels));
    assertQuality(probabilities, map);
  });
}

for (const image of data.images) {
  test(`${image.file}: quality of the model's map is the API's`, () => {
    assertQuality(floats(image.probabilities), image.quality);
  });
}

test("every signal's reason is worded as segcore words it", () => {
  for (const { name, values, reason: words } of data.quality.words) {
    assert.equal(reason(name, values, model), words, name);
  }
  const reasons = new Set(data.quality.maps.flatMap((/** @type {any} */ m) => m.reasons));
  assert.ok(reasons.size >= 4, 'the made-up maps give several reasons');
});

test("numbers are written and rounded as Python's f-strings and round() do", () => {
  for (const { value, fixed_2, percent_1, round_4 } of data.quality.formats) {
    assert.equal(formatFixed(value, 2), fixed_2, `${value}:.2f`);
    assert.equal(formatPercent(value, 1), percent_1, `${value}:.1%`);
    assert.equal(roundTo(value, 4), round_4, `round(${value}, 4)`);
  }
  assert.equal(formatFixed(0.125, 2), '0.12');
  assert.equal(formatFixed(0.375, 2), '0.38');
  assert.equal(formatFixed(2.5, 0), '2');
  assert.equal(formatFixed(-0.001, 2), '-0.00');
});

test('components are 8-connected: diagonal neighbours join, a gap does not', () => {
  const mask = [
    1, 0, 0, 1,
    0, 1, 0, 0,
    0, 0, 0, 1,
    1, 1, 0, 1,
  ];
  const { labels, count } = components(mask, 4);
  assert.equal(count, 4);
  assert.deepEqual([...labels], [1, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 3, 4, 4, 0, 3]);
  assert.equal(components(new Uint8Array(9), 3).count, 0);
});

test('a model for other signals is refused', () => {
  assert.throws(() => assess(new Float32Array(4), { ...model, signals: [...model.signals].reverse() }), /not lesion_mean_probability/);
});

test("the card's badge is worded as the Streamlit UI's", () => {
  assert.deepEqual(badge({ predicted_dice: 0.6645, needs_review: true, reasons: ['no lesion found'] }), { label: 'Needs review', detail: ' (estimated Dice 0.66): no lesion found' });
  assert.deepEqual(badge({ predicted_dice: 0.8125, needs_review: false, reasons: [] }), { label: 'Looks fine', detail: ' (estimated Dice 0.81)' });
});
