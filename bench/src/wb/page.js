// Page side of the Workbox comparison. run.mjs calls window.wbBench.* through page.evaluate.

let registration = null;

async function init() {
  registration = await navigator.serviceWorker.register('/wb/sw.js', { scope: '/wb/' });
  await navigator.serviceWorker.ready;
  if (!registration.active) throw new Error('service worker not active');
  return ask({ type: 'info' });
}

function ask(msg) {
  return new Promise((resolve, reject) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = (e) => {
      ch.port1.close();
      if (e.data && e.data.error) reject(new Error(e.data.error));
      else resolve(e.data);
    };
    registration.active.postMessage(msg, [ch.port2]);
  });
}

// The same command envelope the shell sends (mfe-contract `Command`), with the same payload
// as the shell side, so both sides put the same bytes on the wire.
function command(seq, clientId, payload) {
  return {
    id: crypto.randomUUID(),
    client_id: clientId,
    seq,
    stream: 'bench',
    kind: 'bench.add',
    app: 'bench-list',
    payload,
    created_at: Date.now(),
  };
}

// Sequential: page builds the command, the SW stores it with pushRequest, the page gets the
// answer back. Timed twice: pushRequest alone (in the SW) and the page's round trip.
// (No eval under the page's CSP: the payload is written out here and, identically, in run.mjs.)
export const benchPayload = (i) => ({ title: 'Item ' + i, qty: 1 + (i % 5), note: 'x'.repeat(100) });

async function enqueue(n, regionUrl) {
  const payloadFor = benchPayload;
  const clientId = crypto.randomUUID();
  const url = regionUrl.replace(/\/$/, '') + '/commands';
  const roundTripMs = new Array(n);
  const pushMs = new Array(n);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const c = command(i + 1, clientId, payloadFor(i));
    const a = performance.now();
    const r = await ask({ type: 'push', url, key: c.id, body: JSON.stringify(c) });
    roundTripMs[i] = performance.now() - a;
    pushMs[i] = r.pushMs;
  }
  const totalMs = performance.now() - t0;
  const info = await ask({ type: 'info' });
  return { n, totalMs, roundTripMs, pushMs, queueSize: info.size, syncSupported: info.syncSupported, syncEvents: info.syncEvents };
}

// queue.replayRequests() in the SW: Workbox's own loop (IDB shift -> fetch -> next).
async function drainWorkbox() {
  const t0 = performance.now();
  const r = await ask({ type: 'replay' });
  return { drainMs: performance.now() - t0, swReplayMs: r.replayMs, queueSizeAfter: r.size };
}

window.wbBench = { init, enqueue, drainWorkbox, swInfo: () => ask({ type: 'info' }) };
document.getElementById('state').textContent = 'ready';
