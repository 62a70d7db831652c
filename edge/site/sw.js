/**
 * Offline use: the app's files are cached when it is installed, and whatever else the page
 * fetched from its own origin (LiteRT.js's wasm build) when the page says so; requests are
 * then answered from the cache first. Only same-origin GETs are ever handled.
 */
/// <reference lib="webworker" />

const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));
const CACHE = `lesion-edge-${__PRECACHE__.version}`;

sw.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(__PRECACHE__.files)).then(() => sw.skipWaiting()));
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key.startsWith('lesion-edge-') && key !== CACHE).map((key) => caches.delete(key))))
      .then(() => sw.clients.claim()),
  );
});

sw.addEventListener('message', (event) => {
  const urls = /** @type {{ type?: string, urls?: unknown }} */ (event.data).urls;
  if (!Array.isArray(urls)) return;
  const own = urls.filter((url) => typeof url === 'string' && new URL(url).origin === sw.location.origin);
  event.waitUntil(caches.open(CACHE).then(async (cache) => {
    for (const url of own) if (!(await cache.match(url))) await cache.add(url);
  }));
});

sw.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || new URL(request.url).origin !== sw.location.origin) return;
  event.respondWith(caches.match(request, { ignoreSearch: true }).then((hit) => hit ?? fetch(request)));
});
