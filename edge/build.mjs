// Build the on-device app into build/edge/ (node edge/build.mjs; make edge runs it after npm ci):
// the pages, the app's modules bundled into one file (esbuild: no import map, so no inline
// script under the CSP), LiteRT.js's wasm builds under a versioned path, and the served model,
// refused unless its sha256 is the one pipeline.json (generated from segcore) names.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const site = join(here, 'site');
const out = join(root, 'build', 'edge');
const pipeline = JSON.parse(readFileSync(join(site, 'pipeline.json'), 'utf8'));
const litert = JSON.parse(readFileSync(join(here, 'node_modules', '@litertjs', 'core', 'package.json'), 'utf8')).version;
const model = readFileSync(join(root, 'models', pipeline.model.name));
const digest = createHash('sha256').update(model).digest('hex');
if (digest !== pipeline.model.sha256) {
  console.error(`models/${pipeline.model.name} has sha256 ${digest}, edge/site/pipeline.json says ${pipeline.model.sha256}: run python -m devtools.edge_vectors`);
  process.exit(1);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'model'), { recursive: true });
for (const name of ['index.html', 'app.css', 'manifest.webmanifest', 'icon.svg', 'pipeline.json']) cpSync(join(site, name), join(out, name));
writeFileSync(join(out, pipeline.model.file), model);
cpSync(join(here, 'node_modules', '@litertjs', 'core', 'wasm'), join(out, 'vendor', `litertjs-${litert}`, 'wasm'), { recursive: true });

/** @type {import('esbuild').BuildOptions} */
const common = { bundle: true, format: 'esm', target: 'es2022', legalComments: 'inline', logLevel: 'warning' };
await build({ ...common, entryPoints: [join(site, 'js', 'app.js')], outfile: join(out, 'js', 'app.js'), define: { __LITERT_VERSION__: JSON.stringify(litert) } });

/** @param {string} dir @returns {string[]} */
const files = (dir) => readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : [join(dir, name)]));
// The service worker installs the app shell and the model; the wasm build in use is cached when
// the page has loaded it (app.js), not all four of them.
const shell = files(out).map((f) => relative(out, f).split('\\').join('/')).filter((f) => !f.startsWith('vendor/')).sort();
const version = createHash('sha256');
for (const f of files(out).sort()) version.update(f).update(readFileSync(f));
const precache = { version: version.digest('hex').slice(0, 16), files: ['./', ...shell.filter((f) => f !== 'index.html')] };
await build({ ...common, entryPoints: [join(site, 'sw.js')], outfile: join(out, 'sw.js'), define: { __PRECACHE__: JSON.stringify(precache) } });
console.log(`built ${relative(root, out)}: ${files(out).length} files, LiteRT.js ${litert}, model sha256 ${digest.slice(0, 12)}…, cache ${precache.version}`);
