// Service worker of the Workbox side (adapted from the anchors harness). Bundled with esbuild
// (NODE_ENV=production: Workbox's dev-only logging and assertions stripped, as in production).
//
// The page drives it with postMessage + MessageChannel:
//   {type:'push', url, key, body} -> queue.pushRequest({request}) ; replies {pushMs}
//   {type:'replay'}               -> queue.replayRequests()       ; replies {replayMs, size}
//   {type:'info'}                 -> {size, syncSupported, syncEvents}
//
// `url` is a region's POST /commands on the region simulator (cross-origin, CORS, the same
// endpoint the shell delivers to). The Queue's onSync only counts sync events: Chromium fires
// Background Sync as soon as a tag is registered while online, and the default callback would
// start replaying during the enqueue phase; the benchmark calls replayRequests() itself (what
// the default callback does).

import { Queue } from 'workbox-background-sync';

const QUEUE_NAME = 'bench-commands';

let syncEvents = 0;
const queue = new Queue(QUEUE_NAME, {
  maxRetentionTime: 24 * 60,
  onSync: async () => {
    syncEvents += 1;
  },
});

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

async function handle(msg) {
  switch (msg && msg.type) {
    case 'push': {
      const request = new Request(msg.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': msg.key },
        body: msg.body,
      });
      const t0 = performance.now();
      await queue.pushRequest({ request });
      return { pushMs: performance.now() - t0 };
    }
    case 'replay': {
      const t0 = performance.now();
      await queue.replayRequests();
      const replayMs = performance.now() - t0;
      return { replayMs, size: await queue.size() };
    }
    case 'info':
      return { size: await queue.size(), syncSupported: 'sync' in self.registration, syncEvents };
    default:
      throw new Error('unknown message ' + JSON.stringify(msg));
  }
}

self.addEventListener('message', (event) => {
  const port = event.ports && event.ports[0];
  const done = handle(event.data).then(
    (result) => port && port.postMessage(result),
    (err) => port && port.postMessage({ error: String((err && err.stack) || err) }),
  );
  event.waitUntil(done);
});
