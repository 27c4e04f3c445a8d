// Service worker of the shell: offline boot, app caching and delivery with no page open
// (DESIGN §4). A module worker: it imports the outbox drain (Rust, wasm-bindgen `--target web`).
//
// - The shell's own files (hashed by the build) are precached at install; the list below is
//   written by scripts/post-build.mjs after every trunk build, so a new shell build is a new
//   worker, which installs in the background and waits until the user chooses "Update".
//   Static routes send the page's requests for them straight to that cache (staticRoutes).
// - Micro-app assets live under immutable /apps/<name>/<version>/ URLs: cache-first, kept
//   across shell updates, verified against their integrity before being served from cache
//   (a corrupted entry is never handed to the page; a verified answer from the network
//   replaces it).
// - manifest.json and regions.json: network first, the last good copy when offline.
// - Navigations fall back to the cached index.html (raced against the network where the
//   browser has static routes).

import initDrain, { drain } from './sw/outbox-drain.js';

const PRECACHE = /* precache-list */ [] /* end */;
const BUILD = /* build-id */ 'dev' /* end */;

const SHELL_CACHE = `shell-${BUILD}`;
const APPS_CACHE = 'apps-v1';
const DATA_CACHE = 'data-v1';
const NETWORK_FIRST = new Set(['/manifest.json', '/regions.json']);
const NETWORK_TIMEOUT_MS = 4000;
// How long a navigation waits for the network before the cached page answers.
const NAVIGATION_TIMEOUT_MS = 3000;

/**
 * Static routes (the Service Worker Static Routing API, where the browser has it): the page's
 * requests for the shell's own hashed files are answered by the browser straight from this
 * build's cache, without waiting for this script to run; a file missing there goes to the
 * network. Navigations race the network against the fetch handler: online, the page does not
 * wait for this worker to start before its HTML is asked for; offline, the network fails and
 * the handler's cached index.html answers. The fetch handler below still answers all of these
 * where the API is missing.
 */
function staticRoutes() {
  const files = PRECACHE.filter(({ url }) => url !== '/' && url !== '/index.html' && !url.startsWith('/sw/')).map(
    ({ url }) => ({
      condition: { urlPattern: new URLPattern(url, self.location.origin), requestMethod: 'get' },
      source: { cacheName: SHELL_CACHE },
    }),
  );
  return [...files, { condition: { requestMode: 'navigate' }, source: 'race-network-and-fetch-handler' }];
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      for (const { url, integrity } of PRECACHE) {
        const response = await fetch(url, { integrity, cache: 'reload' });
        if (!response.ok) throw new Error(`precache ${url}: HTTP ${response.status}`);
        await cache.put(url, response);
      }
    })(),
  );
  // After the precache is registered: without routes the fetch handler answers the same files,
  // so nothing about them (a missing API, a path URLPattern refuses) may fail the install.
  if (typeof event.addRoutes === 'function' && typeof URLPattern === 'function') {
    try {
      event.waitUntil(event.addRoutes(staticRoutes()).catch((error) => console.warn('static routes', error)));
    } catch (error) {
      console.warn('static routes', error);
    }
  }
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith('shell-') && name !== SHELL_CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

/** `sha384-…` of a body, as Subresource Integrity writes it. */
async function sri(buffer, algorithm) {
  const names = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };
  const digest = await crypto.subtle.digest(names[algorithm], buffer);
  let binary = '';
  for (const byte of new Uint8Array(digest)) binary += String.fromCharCode(byte);
  return `${algorithm}-${btoa(binary)}`;
}

async function matchesIntegrity(body, integrity) {
  if (!integrity) return true;
  const [algorithm] = integrity.split('-', 1);
  return (await sri(body, algorithm)) === integrity;
}

/** Fetches `url` with its integrity and keeps it in the apps cache. */
async function cacheApp(cache, url, integrity) {
  const response = await fetch(url, { integrity, cache: 'no-cache' });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  await cache.put(url, response.clone());
  return response;
}

/**
 * Cache-first for an immutable app file. A cached copy is served only after its bytes match the
 * integrity the page asked for, and the page gets those very bytes (no second read from disk).
 * On a mismatch the file is asked of the network with that integrity, and only an answer the
 * browser verified replaces the cached copy: a request carrying a wrong integrity (a stale or
 * edited boot hint) cannot evict a good copy, and a corrupted copy is replaced once a verified
 * one comes. Writes happen after the answer (`waitUntil`): the page never waits for the disk.
 */
async function appAsset(event) {
  const { request } = event;
  const cache = await caches.open(APPS_CACHE);
  const url = new URL(request.url).pathname;
  const cached = await cache.match(url);
  if (cached) {
    const body = await cached.arrayBuffer();
    if (await matchesIntegrity(body, request.integrity)) {
      return new Response(body, { status: cached.status, statusText: cached.statusText, headers: cached.headers });
    }
  }
  const response = await fetch(request);
  if (response.ok) event.waitUntil(cache.put(url, response.clone()));
  return response;
}

/** Network first (bounded in time), the last good copy when offline; stored after the answer. */
async function networkFirst(event) {
  const { request } = event;
  const cache = await caches.open(DATA_CACHE);
  const path = new URL(request.url).pathname;
  try {
    const response = await Promise.race([
      fetch(request),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), NETWORK_TIMEOUT_MS)),
    ]);
    if (response.ok) event.waitUntil(cache.put(path, response.clone()));
    return response;
  } catch (error) {
    const cached = await cache.match(path);
    if (cached) return cached;
    throw error;
  }
}

async function shellFile(request) {
  const cache = await caches.open(SHELL_CACHE);
  const path = new URL(request.url).pathname;
  return (await cache.match(path)) ?? fetch(request);
}

/**
 * Network first for the page, bounded in time: a connection that is up but does not answer
 * (a stalled origin, a captive network) or an origin answering 5xx gets this build's cached
 * page after NAVIGATION_TIMEOUT_MS instead of a blank tab. Without a cached page, the network's
 * answer, late or not, is all there is.
 */
async function navigation(request) {
  const cache = await caches.open(SHELL_CACHE);
  const cachedPage = async () => (await cache.match('/index.html')) ?? (await cache.match('/'));
  const network = fetch(request);
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve(null), NAVIGATION_TIMEOUT_MS);
  });
  try {
    const response = await Promise.race([network, late]);
    if (response && response.status < 500) return response;
    return (await cachedPage()) ?? response ?? (await network);
  } catch (error) {
    const page = await cachedPage();
    if (page) return page;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (request.mode === 'navigate') {
    event.respondWith(navigation(request));
  } else if (url.pathname.startsWith('/apps/')) {
    event.respondWith(appAsset(event));
  } else if (NETWORK_FIRST.has(url.pathname)) {
    event.respondWith(networkFirst(event));
  } else if (PRECACHE.some((entry) => entry.url === url.pathname)) {
    event.respondWith(shellFile(request));
  }
});

/** Caches every listed app asset that is not cached yet; answers with what the cache holds. */
async function cacheApps(assets) {
  const cache = await caches.open(APPS_CACHE);
  const failed = [];
  // The page that registered the worker loaded these before the worker controlled it: keep a
  // copy now, so the next start works offline.
  const data = await caches.open(DATA_CACHE);
  for (const path of NETWORK_FIRST) {
    try {
      const response = await fetch(path, { cache: 'no-cache' });
      if (response.ok) await data.put(path, response);
    } catch (error) {
      failed.push(`${path}: ${error.message ?? error}`);
    }
  }
  for (const { url, integrity } of assets) {
    const cached = await cache.match(url);
    if (cached && (await matchesIntegrity(await cached.arrayBuffer(), integrity))) continue;
    try {
      await cacheApp(cache, url, integrity);
    } catch (error) {
      failed.push(`${url}: ${error.message ?? error}`);
    }
  }
  // Versions the manifest no longer lists (past its rollback targets) are of no use offline or
  // online: without this the cache would keep every version ever published.
  const listed = new Set(assets.map(({ url }) => url));
  for (const key of await cache.keys()) {
    if (!listed.has(new URL(key.url).pathname)) await cache.delete(key);
  }
  let bytes = 0;
  let entries = 0;
  for (const name of [SHELL_CACHE, APPS_CACHE, DATA_CACHE]) {
    const c = await caches.open(name);
    for (const response of await c.matchAll()) {
      bytes += await bodySize(response);
      entries += 1;
    }
  }
  return { entries, bytes, failed, build: BUILD };
}

/** A cached answer's size: its `Content-Length` when it has one, else its body read once. */
async function bodySize(response) {
  const length = Number(response.headers.get('content-length'));
  if (response.headers.has('content-length') && Number.isSafeInteger(length) && length >= 0) return length;
  return (await response.arrayBuffer()).byteLength;
}

self.addEventListener('message', (event) => {
  const message = event.data ?? {};
  if (message.type === 'SKIP_WAITING') {
    self.skipWaiting();
  } else if (message.type === 'PREFERRED_REGION') {
    event.waitUntil(rememberPreferredRegion(message.region));
  } else if (message.type === 'CACHE_APPS' && Array.isArray(message.assets)) {
    const reply = event.ports[0];
    event.waitUntil(
      cacheApps(message.assets).then(
        (result) => reply?.postMessage(result),
        (error) => reply?.postMessage({ error: String(error) }),
      ),
    );
  }
});

// ------------------------------------------------------------------ delivery with no page open
//
// A page that saves a command while offline registers the sync tag below; the browser wakes
// this worker when the network is back, even with every page of the shell closed. The drain is
// the outbox's own Rust code (crates/sw-drain over crates/outbox-web): same IndexedDB store,
// same drain lock as the pages (so a page and the worker never send the same command twice),
// same transport and outbox core. A wake-up that leaves commands waiting fails, which asks the
// browser to try the sync again later; the pages deliver them at their next start otherwise.

const SYNC_TAG = 'mfe-outbox';
const DRAIN_WASM = '/sw/outbox-drain_bg.wasm';
let drainModule = null;

async function regionsFile() {
  const data = await caches.open(DATA_CACHE);
  try {
    const response = await fetch('/regions.json', { cache: 'no-cache' });
    if (response.ok) {
      await data.put('/regions.json', response.clone());
      return response.text();
    }
  } catch (_) {
    // fall back to the copy the pages last read
  }
  const cached = await data.match('/regions.json');
  if (!cached) throw new Error('no regions known yet');
  return cached.text();
}

// The region the pages chose last (they measure latency; this worker does not): tried first.
const PREFERRED_REGION = '/__mfe/preferred-region';
const REGION_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

async function rememberPreferredRegion(region) {
  if (typeof region !== 'string' || !REGION_NAME.test(region)) return;
  const data = await caches.open(DATA_CACHE);
  await data.put(PREFERRED_REGION, new Response(region, { headers: { 'content-type': 'text/plain' } }));
}

async function preferredRegion() {
  const stored = await (await caches.open(DATA_CACHE)).match(PREFERRED_REGION);
  const region = stored ? await stored.text() : '';
  return REGION_NAME.test(region) ? region : undefined;
}

// The name `tabs::DRAIN_LOCK` gives the lock in crates/outbox-web.
const DRAIN_LOCK = 'mfe-outbox-drain';

// How long a wake-up waits for a page that is delivering (a drain of 1,000 commands takes
// about 0.3 s here; a region that does not answer holds a round for its send timeout).
const DRAIN_LOCK_WAIT_MS = 10_000;

// Waits until no page holds the drain lock, looking every 100 ms. Looking, not queueing: a
// request in the lock's queue would be granted the moment the page lets go and could refuse
// the page's next pass, the overlap this wait is for. Loading the drain meanwhile would
// compile it and read the regions on the cores the delivering page is using, only to find
// the lock taken. False if it is still held after `ms`.
async function drainLockFree(ms) {
  if (!navigator.locks || typeof navigator.locks.query !== 'function') return true;
  const until = Date.now() + ms;
  for (;;) {
    const { held } = await navigator.locks.query();
    if (!held.some((lock) => lock.name === DRAIN_LOCK)) return true;
    if (Date.now() >= until) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function drainInWorker() {
  // Still held: a page is delivering. Failing asks the browser to wake this worker again
  // later, in case that page closes before it is done.
  if (!(await drainLockFree(DRAIN_LOCK_WAIT_MS))) throw new Error('a page is still delivering');
  drainModule ??= (async () => {
    const shell = await caches.open(SHELL_CACHE);
    const wasm = (await shell.match(DRAIN_WASM)) ?? (await fetch(DRAIN_WASM));
    await initDrain({ module_or_path: wasm });
  })().catch((error) => {
    drainModule = null;
    throw error;
  });
  await drainModule;
  const report = await drain(await regionsFile(), await preferredRegion());
  if (report.error) throw new Error(report.error);
  // Not run: a page took the lock between the look above and the drain's own request for it.
  // Failing asks the browser to wake this worker again, as above.
  if (!report.ran) throw new Error('a page is delivering');
  if (report.waiting > 0) throw new Error(`${report.waiting} command(s) still waiting`);
  return report;
}

self.addEventListener('sync', (event) => {
  if (event.tag !== SYNC_TAG) return;
  event.waitUntil(drainInWorker());
});
