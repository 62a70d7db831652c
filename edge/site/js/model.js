/**
 * The served model in the browser: LiteRT.js (wasm, on the CPU), its threaded build where the
 * page is cross-origin isolated, else the plain one; the model file is checked against the
 * sha256 segcore recorded (pipeline.json) before it is used.
 * @module
 */

import { Tensor, loadAndCompile, loadLiteRt, unloadLiteRt } from '@litertjs/core';

/** Where the build puts LiteRT.js's wasm files (edge/build.mjs). */
export const WASM_DIR = new URL(`../vendor/litertjs-${__LITERT_VERSION__}/wasm/`, import.meta.url).href;

/**
 * @typedef {{ run: (input: Uint8Array) => Promise<Uint8Array>, build: 'threaded' | 'plain',
 *   fallback: string | null, version: string, sha256: string }} LoadedModel
 */

/**
 * The hex sha256 of bytes.
 * @param {ArrayBuffer} bytes
 */
export async function sha256(bytes) {
  if (!globalThis.crypto?.subtle) throw new Error('this page needs a secure context (https:// or http://127.0.0.1) to check the model');
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Load LiteRT.js: threaded when the page may share memory with workers (and `threads` is not
 * false), else plain; says why when it falls back.
 * @param {boolean} threads
 * @returns {Promise<{ build: 'threaded' | 'plain', fallback: string | null }>}
 */
async function loadRuntime(threads) {
  if (!threads) {
    await loadLiteRt(WASM_DIR);
    return { build: 'plain', fallback: 'the single-thread build was asked for (?threads=0)' };
  }
  if (!globalThis.crossOriginIsolated) {
    await loadLiteRt(WASM_DIR);
    return { build: 'plain', fallback: 'the page is not cross-origin isolated (its host does not send COOP/COEP headers), so the single-thread build runs' };
  }
  try {
    await loadLiteRt(WASM_DIR, { threads: true });
    return { build: 'threaded', fallback: null };
  } catch (error) {
    unloadLiteRt();
    await loadLiteRt(WASM_DIR);
    return { build: 'plain', fallback: `the threaded build did not load (${String(error)}), so the single-thread build runs` };
  }
}

/**
 * Fetch, verify and compile the model of `pipeline`.
 * @param {import('./pipeline.js').Pipeline} pipeline
 * @param {URL | string} base the site's URL
 * @param {boolean} [threads] false: the single-thread build even where threads would work
 * @returns {Promise<LoadedModel>}
 */
export async function loadModel(pipeline, base, threads = true) {
  const response = await fetch(new URL(pipeline.model.file, base));
  if (!response.ok) throw new Error(`the model file could not be fetched (HTTP ${response.status})`);
  const bytes = await response.arrayBuffer();
  const digest = await sha256(bytes);
  if (digest !== pipeline.model.sha256) {
    throw new Error(`the model file's sha256 is ${digest}, not the ${pipeline.model.sha256} this app was built for; it will not be used`);
  }
  const runtime = await loadRuntime(threads);
  const compiled = await loadAndCompile(new Uint8Array(bytes), { accelerator: 'wasm' });
  const size = pipeline.model.input_size;
  /** @param {Uint8Array} input */
  const run = async (input) => {
    const tensor = new Tensor(new Uint8Array(input), [1, size, size, 3]);
    try {
      const outputs = await compiled.run(tensor);
      try {
        return new Uint8Array(/** @type {Uint8Array} */ (outputs[0].toTypedArray()));
      } finally {
        for (const output of outputs) output.delete();
      }
    } finally {
      tensor.delete();
    }
  };
  // One call now: the threaded build starts its workers (which fetch its script) on the first
  // run, so that happens while the page loads, not while an image is being segmented.
  await run(new Uint8Array(size * size * 3));
  return { run, ...runtime, version: __LITERT_VERSION__, sha256: digest };
}
