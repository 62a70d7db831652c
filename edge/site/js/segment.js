/**
 * One image segmented on the device, end to end: decode, model input, model, probabilities,
 * mask, measurements and the quality estimate, in the served order (segcore.predictor.segment,
 * lesion_api.segmentation).
 * @module
 */

import { decodeFile } from './decode.js';
import { confidence, measure } from './measure.js';
import { cutMask, levels, preprocess, probabilities, probabilityMap, views } from './pipeline.js';
import { assess } from './quality.js';

/**
 * @typedef {import('./pipeline.js').Pipeline} Pipeline
 * @typedef {import('./model.js').LoadedModel} LoadedModel
 * @typedef {import('./report.js').Report} Report
 * @typedef {{ report: Report, mask: Uint8Array, probability: Uint8Array, display: ImageBitmap }} Result
 *   `mask` at the image's size, `probability` (levels) at the display copy's.
 */

/**
 * Segment a picked file; ImageRefused for a file the pipeline refuses.
 * @param {File} file
 * @param {Pipeline} pipeline
 * @param {LoadedModel} model
 * @param {number | null} pixelSpacingMm
 * @returns {Promise<Result>}
 */
export async function segmentFile(file, pipeline, model, pixelSpacingMm) {
  const start = performance.now();
  const image = await decodeFile(file, pipeline);
  const decoded = performance.now();
  const size = pipeline.model.input_size;
  const batch = views(preprocess(image.pixels, size), size, pipeline.flips);
  const outputs = new Uint8Array(pipeline.flips * size * size);
  for (let v = 0; v < pipeline.flips; v++) {
    outputs.set(await model.run(batch.subarray(v * size * size * 3, (v + 1) * size * size * 3)), v * size * size);
  }
  const p = probabilities(outputs, size, pipeline.flips, pipeline.output_quantization);
  const l = levels(p);
  const mask = cutMask(probabilityMap(l, size, image.width, image.height), pipeline.threshold);
  const probability = probabilityMap(l, size, image.display.width, image.display.height);
  const inferred = performance.now();
  const measurements = measure(mask, image.width, image.height, pixelSpacingMm);
  const certainty = confidence(p, pipeline.threshold);
  const quality = assess(p, pipeline.quality);
  const done = performance.now();
  return {
    mask,
    probability,
    display: image.display,
    report: {
      file: file.name,
      model: { name: pipeline.model.name, flavour: pipeline.model.flavour, sha256: model.sha256, input_size: size, source: pipeline.model.file },
      runtime: { name: 'litert.js', version: model.version, build: model.build },
      image: { width: image.width, height: image.height },
      measurements,
      confidence: certainty,
      quality,
      timings_ms: { decode_ms: decoded - start, inference_ms: inferred - decoded, postprocess_ms: done - inferred, total_ms: done - start },
    },
  };
}
