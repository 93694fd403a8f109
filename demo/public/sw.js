// Keeps the demo's own files for offline use: network first (fresh when online), the cached copy when offline.
const CACHE = 'juncture-demo-v1';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

// The sync endpoint beside the page (demo/server) is never cached: its live stream never ends, and a stale answer
// is worse than a failed one.
const SYNC = new URL('sync/', self.registration.scope).pathname;

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith(SYNC)) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(request, copy)));
        }
        return response;
      })
      // Vite's server varies responses on Origin: ignore that, the files are the same.
      .catch(async () => (await caches.match(request, { ignoreVary: true })) ?? (await caches.match('./', { ignoreVary: true })) ?? Response.error()),
  );
});
