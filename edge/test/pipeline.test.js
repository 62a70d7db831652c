// The app's pipeline against segcore's own stages (edge/test/vectors.json.gz).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { dctScaleRows, resample } from '../site/js/resample.js';
import { cutMask, levels, preprocess, probabilities, probabilityMap, reduce, reductions, views } from '../site/js/pipeline.js';
import { bytes, differing, floats, pattern, pipeline, sha256, vectors } from './support.js';

const data = vectors();
const config = pipeline();
const size = config.model.input_size;

for (const r of data.resizes) {
  test(`resample ${r.width}x${r.height} -> ${r.out_width}x${r.out_height} ${r.filter} equals Pillow`, () => {
    const out = resample(pattern(r.width, r.height), r.out_width, r.out_height, r.filter);
    assert.equal(sha256(out.data), r.output_sha256);
  });
}

for (const r of data.reductions) {
  test(`reductions of a ${r.width}x${r.height} ${r.format} are segcore's`, () => {
    assert.deepEqual(reductions(r.format, r.width, r.height, config), r.steps);
  });
}

test('a PNG is box-reduced and resized to the same model input as segcore', () => {
  const { width, height, reduced, model_input } = data.png_path;
  const image = pattern(width, height);
  const steps = reductions('png', width, height, config);
  const stride = width * 3;
  const out = reduce((top, bottom) => image.data.subarray(top * stride, bottom * stride), width, height, steps);
  assert.deepEqual([out.width, out.height], [reduced.width, reduced.height]);
  assert.equal(differing(preprocess(out, size), bytes(model_input)), 0);
});

test('mirror views and their average are segcore.flips', () => {
  const m = data.mirrors;
  assert.equal(differing(views(bytes(m.pixels), m.size, 8), bytes(m.views)), 0);
  const p = probabilities(bytes(m.outputs), m.size, 8, config.output_quantization);
  assert.equal(differing(p, floats(m.probabilities)), 0);
  assert.equal(differing(levels(p), bytes(m.levels)), 0);
});

for (const image of data.images) {
  test(`${image.file}: model input, probabilities, levels and mask are segcore's, bit for bit`, () => {
    const steps = reductions('jpeg', image.stored[0], image.stored[1], config);
    const last = steps.at(-1) ?? { width: image.stored[0], height: image.stored[1] };
    assert.deepEqual([last.width, last.height], [image.decoded.width, image.decoded.height]);
    const decoded = { width: image.decoded.width, height: image.decoded.height, channels: 3, data: bytes(image.decoded_pixels) };
    const input = preprocess(decoded, size);
    assert.equal(differing(input, bytes(image.model_input)), 0);
    assert.equal(differing(views(input, size, config.flips), bytes(image.model_input)), 0, 'one view is the input');
    const p = probabilities(bytes(image.outputs), size, config.flips, config.output_quantization);
    assert.equal(differing(p, floats(image.probabilities)), 0);
    const l = levels(p);
    assert.equal(differing(l, bytes(image.levels)), 0);
    const map = probabilityMap(l, size, image.width, image.height);
    assert.equal(sha256(map), image.probability_sha256);
    assert.equal(differing(cutMask(map, config.threshold), bytes(image.mask)), 0);
  });
}

for (const d of data.dct_scaled) {
  test(`a 1/${d.factor} DCT scale of ${d.width}x${d.height} is the reference's`, () => {
    const image = pattern(d.width, d.height);
    const stride = d.width * 3;
    const out = dctScaleRows((top, bottom) => image.data.subarray(top * stride, bottom * stride), d.width, d.height, 3, d.factor);
    assert.equal(differing(out.data, bytes(d.output)), 0);
  });
}
