// Ponder's service worker, served as /sw.js (scope: the whole site) by chat.installable,
// which puts `self.ponderOffline` before this file: { version, page, precache }.
//
// It keeps ONE thing: the offline page and the stylesheets it needs, cached at install.
// A page navigation that cannot reach the server gets that page; the precached files are
// fetched from the network first and from the cache only when that fails. Every other
// request (the API, conversations, /jsi18n/, uploads, other static files) is left alone:
// the browser sends it to the network as if there were no service worker, and nothing
// the server answers is ever stored.

const { version, page, precache } = self.ponderOffline;
const CACHE = `ponder-offline-${version}`;
const PRECACHED = new Set(precache.map((path) => new URL(path, self.location.origin).href));

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(precache);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("ponder-") && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

async function networkOr(request, fallback) {
  try {
    return await fetch(request);
  } catch (error) {
    const cached = await caches.match(fallback, { cacheName: CACHE });
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  if (request.mode === "navigate") {
    event.respondWith(networkOr(request, page));
  } else if (PRECACHED.has(request.url)) {
    event.respondWith(networkOr(request, request.url));
  }
});
