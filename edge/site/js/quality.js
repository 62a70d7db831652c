/**
 * How far to trust a mask, as segcore.quality estimates it: the model's own signals on its
 * output grid, a linear estimate of the image's Dice from them (the fitted model in
 * pipeline.json, generated from segcore/quality.json), a "needs review" flag below its
 * threshold, and the two signals that lowered the estimate most, in segcore's words. The sums
 * segcore takes in float32 (numpy's pairwise summation) are taken here the same way, so the
 * signals are numpy's to the bit and the estimate, rounded, is the API's.
 * @module
 */

/**
 * The estimate's inputs, in the order of its coefficients (segcore.quality.SIGNALS).
 * @typedef {'lesion_mean_probability' | 'mean_certainty' | 'log_uncertain_to_lesion'
 *   | 'components' | 'log_lesion_share' | 'touches_border'} SignalName
 * @typedef {Record<SignalName, number>} Signals
 */

/**
 * segcore.quality's fitted model and constants (pipeline.json's `quality`).
 * @typedef {{
 *   signals: string[], means: number[], scales: number[], coefficients: number[],
 *   intercept: number, threshold: number, lesion_threshold: number,
 *   uncertain: [number, number], max_components: number, risky_when_low: string[],
 *   together: string, model_sha256: string
 * }} QualityModel
 */

/**
 * The estimate for one result, with the API's field names (lesion_api.schemas.Quality).
 * @typedef {{ predicted_dice: number, needs_review: boolean, reasons: string[] }} Quality
 */

/** @type {readonly SignalName[]} */
export const SIGNALS = ['lesion_mean_probability', 'mean_certainty', 'log_uncertain_to_lesion', 'components', 'log_lesion_share', 'touches_border'];

const f = Math.fround;
/** numpy's pairwise summation block (PW_BLOCKSIZE). */
const BLOCK = 128;

/**
 * numpy's float32 sum of values[start, start + n): pairwise in blocks of 128, eight
 * accumulators in a block (numpy's FLOAT_pairwise_sum), every step rounded to float32.
 * @param {Float32Array} values
 * @param {number} start
 * @param {number} n
 * @returns {number}
 */
function pairwiseSum(values, start, n) {
  if (n < 8) {
    let sum = 0;
    for (let i = start; i < start + n; i++) sum = f(sum + values[i]);
    return sum;
  }
  if (n <= BLOCK) {
    const r = Array.from(values.subarray(start, start + 8));
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] = f(r[j] + values[start + i + j]);
    let sum = f(f(f(r[0] + r[1]) + f(r[2] + r[3])) + f(f(r[4] + r[5]) + f(r[6] + r[7])));
    for (; i < n; i++) sum = f(sum + values[start + i]);
    return sum;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return f(pairwiseSum(values, start, half) + pairwiseSum(values, start + half, n - half));
}

/**
 * numpy's float32 mean of all the values (`np.mean` of a float32 array), as a number.
 * @param {Float32Array} values
 */
function mean32(values) {
  return f(pairwiseSum(values, 0, values.length) / values.length);
}

/**
 * The 8-connected components of a square grid (segcore.components): labels 0 (background) and
 * 1..count, numbered in the order of their first pixel (row by row).
 * @param {ArrayLike<number>} mask size x size, non-zero on the lesion
 * @param {number} size
 * @returns {{ labels: Int32Array, count: number }}
 */
export function components(mask, size) {
  const labels = new Int32Array(size * size);
  const stack = new Int32Array(size * size);
  let count = 0;
  for (let seed = 0; seed < labels.length; seed++) {
    if (!mask[seed] || labels[seed]) continue;
    count++;
    labels[seed] = count;
    let top = 0;
    stack[top++] = seed;
    while (top > 0) {
      const at = stack[--top];
      const y = Math.floor(at / size);
      const x = at - y * size;
      for (let yy = Math.max(0, y - 1); yy <= Math.min(size - 1, y + 1); yy++) {
        for (let xx = Math.max(0, x - 1); xx <= Math.min(size - 1, x + 1); xx++) {
          const next = yy * size + xx;
          if (mask[next] && !labels[next]) {
            labels[next] = count;
            stack[top++] = next;
          }
        }
      }
    }
  }
  return { labels, count };
}

/**
 * The model's signals on its own grid (segcore.quality.signals): how sure it is, how clean
 * the mask is.
 * @param {Float32Array} probabilities size x size, the model grid's
 * @param {number} size
 * @param {QualityModel} model its lesion threshold, uncertain band and component cap
 * @returns {Signals}
 */
export function signals(probabilities, size, model) {
  const n = size * size;
  if (probabilities.length !== n) throw new Error(`the probabilities are not ${size}x${size}`);
  const [low, high] = model.uncertain;
  const lesion = new Uint8Array(n);
  const lesionValues = new Float32Array(n);
  const certainty = new Float32Array(n);
  let lesionPx = 0;
  let uncertain = 0;
  for (let i = 0; i < n; i++) {
    const p = probabilities[i];
    if (p > model.lesion_threshold) {
      lesion[i] = 1;
      lesionValues[lesionPx++] = p;
    }
    if (p > low && p < high) uncertain++;
    certainty[i] = Math.abs(f(2 * p - 1));
  }
  let border = false;
  for (let k = 0; k < size && !border; k++) {
    border = Boolean(lesion[k] || lesion[(size - 1) * size + k] || lesion[k * size] || lesion[k * size + size - 1]);
  }
  const { count } = components(lesion, size);
  return {
    lesion_mean_probability: lesionPx ? mean32(lesionValues.subarray(0, lesionPx)) : 0,
    mean_certainty: mean32(certainty),
    log_uncertain_to_lesion: Math.log((uncertain + 1) / (lesionPx + 1)),
    components: Math.min(count, model.max_components),
    log_lesion_share: Math.log((lesionPx + 1) / n),
    touches_border: border ? 1 : 0,
  };
}

/**
 * A number as Python's f'{value:.{digits}f}' writes it: the exact binary value rounded half to
 * even (JavaScript's toFixed rounds a tie up: 0.125 is '0.13' there, '0.12' in Python).
 * @param {number} value
 * @param {number} digits 0..20
 */
export function formatFixed(value, digits) {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf';
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  if (Math.abs(value) >= 1e21) return `${sign}${BigInt(Math.abs(value))}${digits ? `.${'0'.repeat(digits)}` : ''}`;
  // Every digit of the binary value (exact for any |value| above 1e-80 or so, far past a tie).
  const [whole, fraction] = Math.abs(value).toFixed(100).split('.');
  const rest = fraction.slice(digits);
  let kept = BigInt(whole + fraction.slice(0, digits));
  if (rest[0] > '5' || (rest[0] === '5' && (/[1-9]/.test(rest.slice(1)) || kept % 2n === 1n))) kept += 1n;
  const text = kept.toString().padStart(digits + 1, '0');
  return digits === 0 ? sign + text : `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/**
 * A fraction as Python's f'{value:.{digits}%}' writes it (value x 100, then as formatFixed).
 * @param {number} value
 * @param {number} digits
 */
export function formatPercent(value, digits) {
  return `${formatFixed(value * 100, digits)}%`;
}

/**
 * Python's round(value, digits) of a float: the double nearest the value rounded half to even
 * at that decimal.
 * @param {number} value
 * @param {number} digits
 */
export function roundTo(value, digits) {
  return Number(formatFixed(value, digits));
}

/**
 * One signal's part in a low estimate, in segcore.quality.reason's words (said of it on its
 * risky side).
 * @param {SignalName} name
 * @param {Signals} values
 * @param {QualityModel} model
 */
export function reason(name, values, model) {
  const value = values[name];
  switch (name) {
    case 'lesion_mean_probability':
      return value === 0 ? 'no lesion found' : `the model is unsure of the lesion (mean probability ${formatFixed(value, 2)})`;
    case 'mean_certainty':
      return 'the model is unsure over much of the image';
    case 'log_uncertain_to_lesion':
      return 'a wide uncertain margin around the lesion';
    case 'components':
      return `the mask is in ${Math.trunc(value)}${value >= model.max_components ? '+' : ''} separate parts`;
    case 'log_lesion_share':
      return `the lesion is small in the field (${formatPercent(Math.exp(value), 1)})`;
    default:
      return "the lesion touches the image's edge";
  }
}

/**
 * Each signal's term of the estimate: standardised value x coefficient.
 * @param {Signals} values
 * @param {QualityModel} model
 * @returns {Signals}
 */
export function contributions(values, model) {
  checkModel(model);
  return /** @type {Signals} */ (Object.fromEntries(SIGNALS.map((name, i) => [name, ((values[name] - model.means[i]) / model.scales[i]) * model.coefficients[i]])));
}

/**
 * The predicted Dice of a result with these signals, in [0, 1] (not rounded).
 * @param {Signals} values
 * @param {QualityModel} model
 */
export function estimate(values, model) {
  const terms = contributions(values, model);
  let sum = 0; // Python's sum(): left to right from 0, then added to the intercept
  for (const name of SIGNALS) sum += terms[name];
  return Math.min(1, Math.max(0, model.intercept + sum));
}

/**
 * The estimate, the flag and (when flagged) the two signals on their risky side that lowered it most, as
 * segcore.quality.QualityModel.assess gives them (predicted_dice rounded to 4 decimals).
 * @param {Float32Array} probabilities size x size on the model's grid
 * @param {QualityModel} model
 * @returns {Quality}
 */
export function assess(probabilities, model) {
  const size = Math.round(Math.sqrt(probabilities.length));
  const values = signals(probabilities, size, model);
  const predicted = estimate(values, model);
  const flagged = predicted < model.threshold;
  /** @type {string[]} */
  let reasons = [];
  if (flagged) {
    const terms = contributions(values, model);
    // A signal is a reason only on its risky side (segcore.quality.RISKY_WHEN_LOW).
    /** @param {SignalName} name */
    const against = (name) => terms[name] < 0 && (values[name] < model.means[SIGNALS.indexOf(name)]) === model.risky_when_low.includes(name);
    /** @type {SignalName[]} */
    const worst = values.lesion_mean_probability === 0
      ? ['lesion_mean_probability']
      : [...SIGNALS].sort((a, b) => terms[a] - terms[b]).filter(against).slice(0, 2);
    reasons = worst.map((name) => reason(name, values, model));
    if (reasons.length === 0) reasons = [model.together];
  }
  return { predicted_dice: roundTo(predicted, 4), needs_review: flagged, reasons };
}

/**
 * Refuse a model for other signals than these (as segcore.quality.QualityModel.load does).
 * @param {QualityModel} model
 */
function checkModel(model) {
  if (model.signals.length !== SIGNALS.length || model.signals.some((name, i) => name !== SIGNALS[i])) {
    throw new Error(`the quality model is for signals ${model.signals.join(', ')}, not ${SIGNALS.join(', ')}`);
  }
}

/**
 * The result card's badge, worded as the Streamlit UI's (ui/lesion_ui/render.quality_badge):
 * "Needs review" with the estimated Dice and the reasons, or "Looks fine" with the estimate.
 * @param {Quality} quality
 * @returns {{ label: string, detail: string }}
 */
export function badge(quality) {
  const dice = `estimated Dice ${formatFixed(quality.predicted_dice, 2)}`;
  if (!quality.needs_review) return { label: 'Looks fine', detail: ` (${dice})` };
  return { label: 'Needs review', detail: ` (${dice}): ${quality.reasons.join('; ')}` };
}
