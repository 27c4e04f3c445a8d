// The bench driver (scripts/bench runs it after the release builds): starts the region
// simulator on its own ports, serving the shell's release build, the published micro apps and
// the two comparison systems (Workbox background-sync, single-spa + React) from the same
// server, drives headless Debian Chromium through playwright-core, prints one table and writes
// bench/results/<date>.json.
//
//   node run.mjs --sim BIN --dist DIR --cdn DIR --data DIR [options]
//
// Options (all optional):
//   --port-base N     static server port; regions on N+1..N+3, admin on N+10 (default 38080)
//   --n N             commands per drain/enqueue run (default 1000)
//   --drain-runs N    drain/enqueue runs per side, sides alternating (default 5)
//   --mount-runs N    time-to-mount runs per side, fresh contexts, alternating (default 20)
//   --failover-trials N  trials per fault (default 10)
//   --faults a,b      failover faults to run: refused,blackhole,killswitch,busy,spent (default all)
//   --cycles N        mount/unmount cycles for the heap row (default 1000)
//   --wrk-seconds N   duration of each wrk run (default 10)
//   --only a,b        rows to run: drain,online,failover,mount,memory,bytes,throughput
//   --quick           small numbers everywhere (smoke test, not for the record)
//   --out FILE        results file (default results/<date>.json)
//
// Environment: BENCH_TRACE=PREFIX writes Chrome traces of our side: each enqueue run
// (PREFIX.enqueue.<ms>.json), each drain (PREFIX.drain.<ms>.json) and each reload under the worker
// (PREFIX.mount.<ms>.json). Tracing slows our side: for finding where time goes, not for the record.
// BENCH_HEAP=PREFIX writes heap snapshots of each side's memory row, after GC, halfway through
// the cycles and at the end (PREFIX.<side>.half.heapsnapshot, PREFIX.<side>.end.heapsnapshot):
// what the second half added is what the app and the shell keep per cycle
// (bench/heapdiff.mjs compares two of them).

import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, rm, readFile, writeFile, mkdir, readdir, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { build as buildAnchors, SPA_BASE } from './build.mjs';
import { summary, median, round, roundDeep, table } from './lib/stats.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

// ---------------------------------------------------------------- options
function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const [k, v] = a.slice(2).split('=');
    if (v !== undefined) out[k] = v;
    else if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) out[k] = argv[++i];
    else out[k] = true;
  }
  return out;
}
const args = parseArgs(process.argv.slice(2));
const quick = Boolean(args.quick);
const portBase = Number(args['port-base'] ?? 38080);
const opt = {
  sim: path.resolve(args.sim || 'target/release/region-sim'),
  dist: path.resolve(args.dist || 'var/bench/dist'),
  cdn: path.resolve(args.cdn || 'var/bench/cdn'),
  data: path.resolve(args.data || 'var/bench/regions'),
  n: Number(args.n ?? (quick ? 200 : 1000)),
  drainRuns: Number(args['drain-runs'] ?? (quick ? 1 : 5)),
  mountRuns: Number(args['mount-runs'] ?? (quick ? 3 : 20)),
  warmCycles: 3,
  failoverTrials: Number(args['failover-trials'] ?? (quick ? 2 : 10)),
  faults: args.faults ? String(args.faults).split(',') : null,
  cycles: Number(args.cycles ?? (quick ? 50 : 1000)),
  wrkSeconds: Number(args['wrk-seconds'] ?? (quick ? 3 : 10)),
  only: args.only ? String(args.only).split(',') : null,
};
const rows = (name) => !opt.only || opt.only.includes(name);
const REGIONS = ['us-east', 'eu-west', 'ap-south'];
const HOST = '127.0.0.1';
const STATIC = `http://${HOST}:${portBase}`;
const ADMIN = `http://${HOST}:${portBase + 10}`;
const regionUrl = (name) => `http://${HOST}:${portBase + 1 + REGIONS.indexOf(name)}`;
for (const p of [portBase, portBase + 1, portBase + 3, portBase + 10]) {
  if ((p >= 8080 && p <= 8090) || (p >= 18080 && p <= 18090) || (p >= 28080 && p <= 28090)) {
    throw new Error(`port ${p} belongs to the dev or test stacks; pick another --port-base`);
  }
}

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const LAUNCH = { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS };
const log = (...a) => console.log(...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The command payload, written out identically in src/wb/page.js (no eval under the CSP).
const PAYLOAD_SRC = "(i) => ({ title: 'Item ' + i, qty: 1 + (i % 5), note: 'x'.repeat(100) })";

// ---------------------------------------------------------------- region simulator
let simProc = null;
// 38080… lies inside Linux's ephemeral port range (32768–60999): an outgoing connection of any
// process on the machine may hold one of our ports for a moment, so a failed bind is retried.
async function startSim() {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startSimOnce();
    } catch (e) {
      if (attempt >= 5 || !/binding/.test(String(e.message))) throw e;
      log(`region-sim could not bind (attempt ${attempt}): ${String(e.message).split('\n')[0]}; retrying in 3 s`);
      stopSim();
      await sleep(3000);
    }
  }
}

async function startSimOnce() {
  await mkdir(opt.data, { recursive: true });
  const argv = [
    '--regions', REGIONS.join(','),
    '--host', HOST,
    '--static-port', String(portBase),
    '--base-port', String(portBase + 1),
    '--admin', '--admin-port', String(portBase + 10),
    '--shell-dir', opt.dist,
    '--cdn-dir', opt.cdn,
    '--data-dir', opt.data,
    '--origin', STATIC,
    '--reset',
    // Both sides send 1,000 commands from one client as fast as they can; the per-client
    // write limit would answer 429 (which Workbox counts as "replayed" and drops).
    '--rate-limit-per-s', '0',
  ];
  simProc = spawn(opt.sim, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: 'warn' } });
  simProc.stdout.resume();
  let stderr = '';
  simProc.stderr.setEncoding('utf8');
  simProc.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    if (simProc.exitCode !== null) throw new Error('region-sim exited: ' + stderr);
    try {
      const r = await fetch(ADMIN + '/admin/regions', { signal: AbortSignal.timeout(1000) });
      if (r.ok) {
        const h = await fetch(regionUrl('us-east') + '/health', { signal: AbortSignal.timeout(1000) });
        if (h.ok) return { pid: simProc.pid, argv };
      }
    } catch {}
    await sleep(200);
  }
  throw new Error('region-sim did not come up within 30 s: ' + stderr);
}
function stopSim() {
  if (simProc && simProc.exitCode === null) {
    try {
      process.kill(simProc.pid, 'SIGTERM');
    } catch {}
  }
  simProc = null;
}

async function admin(method, p, body) {
  const r = await fetch(ADMIN + p, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10000),
  });
  if (!r.ok) throw new Error(`${method} ${p}: HTTP ${r.status} ${await r.text()}`);
  return r.json();
}

/** Every `bench` command all regions hold: distinct ids, client requests (sum of `received`). */
async function serverCount(stream = 'bench') {
  const ids = new Set();
  let received = 0;
  const perRegion = {};
  for (const name of REGIONS) {
    const r = await fetch(`${regionUrl(name)}/commands?stream=${stream}&limit=10000`, { signal: AbortSignal.timeout(10000) });
    if (!r.ok) throw new Error(`${name} GET /commands: HTTP ${r.status}`);
    const body = await r.json();
    let got = 0;
    for (const c of body.commands) {
      ids.add(c.id);
      received += c.received || 0;
      got += c.received || 0;
    }
    perRegion[name] = { held: body.commands.length, received: got };
  }
  return { distinct: ids.size, received, duplicates: received - ids.size, perRegion };
}

// ---------------------------------------------------------------- machine facts
async function cpuTimes() {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n').find((l) => l.startsWith('cpu '));
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { total, idle: f[3] + f[4], steal: f[7] || 0 };
  } catch {
    return null;
  }
}
function cpuShare(a, b) {
  if (!a || !b || b.total <= a.total) return null;
  const d = b.total - a.total;
  return { busyPct: round((100 * (d - (b.idle - a.idle))) / d, 1), stealPct: round((100 * (b.steal - a.steal)) / d, 2) };
}
function sh(cmd, argv) {
  try {
    return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}
function pkgVersion(name) {
  try {
    return require(`${name}/package.json`).version;
  } catch {
    return null;
  }
}
async function machineFacts(browserVersion) {
  let osRelease = null;
  try {
    const t = await readFile('/etc/os-release', 'utf8');
    osRelease = (t.match(/^PRETTY_NAME="?([^"\n]*)"?/m) || [])[1] || null;
  } catch {}
  return {
    nproc: Number(sh('nproc', [])) || os.availableParallelism(),
    cpuModel: os.cpus()[0] && os.cpus()[0].model,
    memTotalGiB: round(os.totalmem() / 2 ** 30, 1),
    os: osRelease,
    kernel: os.release(),
    node: process.version,
    chromiumVersion: browserVersion,
    chromiumArgs: CHROMIUM_ARGS,
    headless: true,
    loadavgAtStart: os.loadavg().map((x) => round(x, 2)),
  };
}

// ---------------------------------------------------------------- page helpers
/** The DOM probe, installed identically on both sides before any page script runs: records
 *  when `#bench-app` enters / leaves the document (page clock, 0 = navigation start). */
function probeScript() {
  const b = (window.__bench = { mounts: [], unmounts: [], rowsAtMount: [], waiters: [] });
  let present = false;
  const settle = (kind, t) => {
    const keep = [];
    for (const w of b.waiters) (w.kind === kind ? w.resolve(t) : keep.push(w));
    b.waiters = keep;
  };
  const check = () => {
    const el = document.getElementById('bench-app');
    const now = performance.now();
    if (el && !present) {
      present = true;
      b.mounts.push(now);
      b.rowsAtMount.push(el.querySelectorAll('li.row').length);
      settle('mount', now);
    } else if (!el && present) {
      present = false;
      b.unmounts.push(now);
      settle('unmount', now);
    }
  };
  b.wait = (kind, timeoutMs = 10000) =>
    new Promise((resolve, reject) => {
      const w = { kind, resolve };
      b.waiters.push(w);
      setTimeout(() => reject(new Error(`no ${kind} within ${timeoutMs} ms`)), timeoutMs);
    });
  b.isPresent = () => present;
  new MutationObserver(check).observe(document, { childList: true, subtree: true });
}

const SIDES = {
  ours: {
    label: 'shell + bench-list (Leptos/wasm)',
    // route away: the shell's Home link; back: the app's nav link (client-side, see CYCLE)
    url: STATIC + '/bench',
  },
  spa: {
    label: 'single-spa 6 + React 19',
    // route away and back with single-spa's navigateToUrl (see CYCLE)
    url: STATIC + '/spa/app/',
  },
};

async function waitMounted(page, timeout = 30000) {
  await page.waitForFunction(() => window.__bench && window.__bench.mounts.length >= 1, null, { timeout });
}

// One route-away-and-back cycle inside the page, per side (page.evaluate takes no closures,
// so each side's navigation is written out): time from the route change to #bench-app in the
// DOM, after `settleFrames` idle frames on the other route.
const CYCLE = {
  ours: (settleFrames) =>
    (async (settleFrames) => {
      const b = window.__bench;
      const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      const gone = b.wait('unmount');
      const t0 = performance.now();
      document.querySelector('a[href="/"]').click();
      const tGone = await gone;
      for (let i = 0; i < settleFrames; i++) await frame();
      const mounted = b.wait('mount');
      const t1 = performance.now();
      document.querySelector('a[href="/bench"]').click();
      const tMount = await mounted;
      return { unmountMs: tGone - t0, mountMs: tMount - t1, rows: b.rowsAtMount[b.rowsAtMount.length - 1] };
    })(settleFrames),
  spa: (settleFrames) =>
    (async (settleFrames) => {
      const b = window.__bench;
      const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      const gone = b.wait('unmount');
      const t0 = performance.now();
      window.__spa.navigateToUrl('/spa/blank/');
      const tGone = await gone;
      for (let i = 0; i < settleFrames; i++) await frame();
      const mounted = b.wait('mount');
      const t1 = performance.now();
      window.__spa.navigateToUrl('/spa/app/');
      const tMount = await mounted;
      return { unmountMs: tGone - t0, mountMs: tMount - t1, rows: b.rowsAtMount[b.rowsAtMount.length - 1] };
    })(settleFrames),
};

function collectLoadInPage() {
  const b = window.__bench;
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance
    .getEntriesByType('resource')
    .filter((e) => /\.(m?js|wasm)$/.test(new URL(e.name).pathname))
    .map((e) => ({ path: new URL(e.name).pathname, transferSize: e.transferSize, decodedBodySize: e.decodedBodySize }));
  const controlled = Boolean(navigator.serviceWorker && navigator.serviceWorker.controller);
  const fromWorker = performance.getEntriesByType('resource').filter((e) => e.workerStart > 0).length;
  return { navType: nav.type, htmlResponseEnd: nav.responseEnd, domMs: b.mounts[0], rows: b.rowsAtMount[0], controlled, fromWorker, resources };
}

// ---------------------------------------------------------------- rows 1-2: drain + enqueue
async function withProfile(fn) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mfe-bench-profile-'));
  const ctx = await chromium.launchPersistentContext(dir, LAUNCH);
  try {
    return await fn(ctx);
  } finally {
    await ctx.close().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

/** Regions reset, then the shell's bench page in a fresh context, booted with its regions up. */
async function openOursFresh(browser) {
  await admin('POST', '/admin/reset');
  const ctx = await browser.newContext();
  try {
    const page = await ctx.newPage();
    await page.goto(SIDES.ours.url);
    await waitForShell(page);
    return { ctx, page };
  } catch (e) {
    await ctx.close().catch(() => {});
    throw e;
  }
}

async function waitForShell(page, { regionsUp = true } = {}) {
  await page.waitForFunction(() => window.__mfeBench && window.__mfeBench.host, null, { timeout: 30000 });
  if (regionsUp) {
    await page.waitForFunction(
      (names) => {
        const cur = document.querySelector('[data-testid=current-region]');
        return (
          cur &&
          cur.getAttribute('data-region') &&
          names.every((n) => {
            const el = document.querySelector(`[data-testid=region-${n}]`);
            return el && el.getAttribute('data-state') === 'up';
          })
        );
      },
      REGIONS,
      { timeout: 30000 },
    );
  }
}

/** The 20 slowest samples as [index, ms]: where in a run the tail sits (kept in the JSON). */
function slowest(ms) {
  return ms.map((m, i) => [i, +m.toFixed(2)]).sort((a, b) => b[1] - a[1]).slice(0, 20);
}

/**
 * With BENCH_TRACE set, records a Chrome trace of `page` until the returned function is called
 * with a name; without it, does nothing. See the top of this file.
 */
async function traceIfAsked(ctx, page) {
  if (!process.env.BENCH_TRACE) return async () => {};
  const cdp = await ctx.newCDPSession(page);
  const events = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
  const categories = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'v8.execute', 'blink', 'IndexedDB', 'toplevel', 'loading'];
  await cdp.send('Tracing.start', { traceConfig: { includedCategories: categories } });
  return async (name) => {
    const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
    await cdp.send('Tracing.end');
    await done;
    await writeFile(`${process.env.BENCH_TRACE}.${name}.${Date.now()}.json`, JSON.stringify({ traceEvents: events }));
  };
}

async function drainOurs(n) {
  return withProfile(async (ctx) => {
    const page = ctx.pages()[0] || (await ctx.newPage());
    let regionPosts = 0;
    let batchPosts = 0;
    const batchTimes = [];
    page.on('request', (r) => {
      if (r.method() !== 'POST') return;
      if (/\/commands:batch$/.test(r.url())) batchPosts += 1;
      else if (/\/commands$/.test(r.url())) regionPosts += 1;
    });
    // request start -> response end of each batch POST (network + server), for the breakdown
    page.on('requestfinished', (r) => {
      if (r.method() === 'POST' && /\/commands:batch$/.test(r.url())) {
        const t = r.timing();
        if (t.responseEnd > 0) batchTimes.push(t.responseEnd);
      }
    });
    await page.goto(SIDES.ours.url);
    await waitForShell(page);
    await ctx.setOffline(true);
    await page.waitForFunction(() => document.querySelector('[data-testid=current-region]').getAttribute('data-online') === 'false', null, { timeout: 10000 });
    const postsBefore = regionPosts + batchPosts;
    const endEnqueueTrace = await traceIfAsked(ctx, page);
    // 1,000 sequential host.dispatch calls: each resolves once the command is committed in
    // IndexedDB (the shell's contract), so each sample is dispatch -> durable.
    const enq = await page.evaluate(
      async ([n, payloadSrc]) => {
        // = PAYLOAD_SRC, written out (page.evaluate takes no closures, the CSP allows no eval)
        const payloadFor = (i) => ({ title: 'Item ' + i, qty: 1 + (i % 5), note: 'x'.repeat(100) });
        void payloadSrc;
        const host = window.__mfeBench.host;
        const ms = new Array(n);
        const t0 = performance.now();
        for (let i = 0; i < n; i++) {
          const a = performance.now();
          await host.dispatch('bench.add', 'bench', payloadFor(i));
          ms[i] = performance.now() - a;
        }
        return { totalMs: performance.now() - t0, ms };
      },
      [n, PAYLOAD_SRC],
    );
    await endEnqueueTrace('enqueue');
    // the status bar shows what the outbox holds (published after each commit)
    await page.waitForFunction((n) => document.querySelector('[data-testid=outbox-pending]').getAttribute('data-count') === String(n), n, { timeout: 30000 });
    const before = await serverCount();
    if (before.distinct !== 0 || regionPosts + batchPosts !== postsBefore) throw new Error('commands left the page while offline');
    // Arm the clock on the page's own `online` event (what triggers the drain), stop it when
    // the outbox shows nothing pending or in flight (published after the IndexedDB commit).
    await page.evaluate(() => {
      const el = document.querySelector('[data-testid=outbox-pending]');
      window.__drain = new Promise((resolve, reject) => {
        let t0 = null;
        window.addEventListener('online', () => (t0 = performance.now()), { once: true });
        const done = () => {
          if (t0 !== null && el.getAttribute('data-count') === '0') {
            obs.disconnect();
            resolve({ drainMs: performance.now() - t0 });
          }
        };
        const obs = new MutationObserver(done);
        obs.observe(el, { attributes: true, attributeFilter: ['data-count'] });
        setTimeout(() => reject(new Error('drain did not finish in 120 s; count ' + el.getAttribute('data-count'))), 120000);
      });
    });
    const endDrainTrace = await traceIfAsked(ctx, page);
    await ctx.setOffline(false);
    const drain = await page.evaluate(() => window.__drain);
    await endDrainTrace('drain');
    const statuses = await page.evaluate(
      () =>
        new Promise((resolve, reject) => {
          const open = indexedDB.open('mfe-shell');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const req = open.result.transaction('outbox').objectStore('outbox').getAll();
            req.onsuccess = () => {
              const out = {};
              for (const r of req.result) out[r.status] = (out[r.status] || 0) + 1;
              open.result.close();
              resolve(out);
            };
            req.onerror = () => reject(req.error);
          };
        }),
    );
    const server = await serverCount();
    const tenths = [];
    for (let i = 0; i < 10; i++) tenths.push(median(enq.ms.slice((i * n) / 10, ((i + 1) * n) / 10)));
    return {
      drainMs: drain.drainMs,
      batchRequestMs: { sum: batchTimes.reduce((a, b) => a + b, 0), ...summary(batchTimes) },
      enqueue: { totalMs: enq.totalMs, dispatchMs: summary(enq.ms), medianByTenthOfQueue: tenths, slowest: slowest(enq.ms) },
      idbStatuses: statuses,
      requests: { single: regionPosts, batch: batchPosts },
      server,
    };
  });
}

async function drainWorkbox(n) {
  return withProfile(async (ctx) => {
    const page = ctx.pages()[0] || (await ctx.newPage());
    await page.goto(STATIC + '/wb/');
    await page.waitForFunction(() => window.wbBench);
    await page.evaluate(() => window.wbBench.init());
    await ctx.setOffline(true);
    const enq = await page.evaluate(([n, url]) => window.wbBench.enqueue(n, url), [n, regionUrl('us-east')]);
    await ctx.setOffline(false);
    if (enq.queueSize !== n) throw new Error(`Workbox queue holds ${enq.queueSize}, expected ${n}`);
    const before = await serverCount();
    if (before.distinct !== 0) throw new Error('Workbox commands reached the server during the offline enqueue');
    const drain = await page.evaluate(() => window.wbBench.drainWorkbox());
    const info = await page.evaluate(() => window.wbBench.swInfo());
    const server = await serverCount();
    return {
      drainMs: drain.drainMs,
      swReplayMs: drain.swReplayMs,
      queueSizeAfter: drain.queueSizeAfter,
      enqueue: { totalMs: enq.totalMs, pushRequestMs: summary(enq.pushMs), pageRoundTripMs: summary(enq.roundTripMs), slowest: slowest(enq.pushMs) },
      syncEventsWhileOffline: enq.syncEvents,
      syncEventsAfter: info.syncEvents,
      server,
    };
  });
}

async function benchDrain() {
  const n = opt.n;
  log(`\n[drain] ${opt.drainRuns} runs per side, ${n} commands each, fresh on-disk profile per run, sides alternating`);
  const runs = { ours: [], workbox: [] };
  for (let rep = 0; rep < opt.drainRuns; rep++) {
    const order = rep % 2 === 0 ? ['ours', 'workbox'] : ['workbox', 'ours'];
    for (const side of order) {
      await admin('POST', '/admin/reset');
      const rec = side === 'ours' ? await drainOurs(n) : await drainWorkbox(n);
      rec.rep = rep;
      runs[side].push(rec);
      const enqP50 = side === 'ours' ? rec.enqueue.dispatchMs.p50 : rec.enqueue.pushRequestMs.p50;
      const enqP99 = side === 'ours' ? rec.enqueue.dispatchMs.p99 : rec.enqueue.pushRequestMs.p99;
      log(
        `  run ${rep + 1} ${side.padEnd(8)} drain ${rec.drainMs.toFixed(0).padStart(6)} ms  enqueue p50 ${enqP50.toFixed(2)} p99 ${enqP99.toFixed(2)} ms` +
          `  server distinct ${rec.server.distinct} dups ${rec.server.duplicates}` +
          (side === 'ours' ? `  requests ${rec.requests.batch} batch + ${rec.requests.single} single  idb ${JSON.stringify(rec.idbStatuses)}` : ''),
      );
    }
  }
  const agg = (rs, pick) => median(rs.map(pick));
  return {
    n,
    runs,
    ours: {
      drainMsMedian: agg(runs.ours, (r) => r.drainMs),
      drainMsMin: Math.min(...runs.ours.map((r) => r.drainMs)),
      drainMsMax: Math.max(...runs.ours.map((r) => r.drainMs)),
      enqueueP50: agg(runs.ours, (r) => r.enqueue.dispatchMs.p50),
      enqueueP99: agg(runs.ours, (r) => r.enqueue.dispatchMs.p99),
      enqueueTotalMs: agg(runs.ours, (r) => r.enqueue.totalMs),
      distinctOk: runs.ours.every((r) => r.server.distinct === n),
      duplicates: runs.ours.reduce((a, r) => a + r.server.duplicates, 0),
      allDeliveredInIdb: runs.ours.every((r) => r.idbStatuses.delivered === n),
      batchPostsMedian: agg(runs.ours, (r) => r.requests.batch),
      batchRequestSumMs: agg(runs.ours, (r) => r.batchRequestMs.sum),
      enqueueMedianFirstTenth: agg(runs.ours, (r) => r.enqueue.medianByTenthOfQueue[0]),
      enqueueMedianLastTenth: agg(runs.ours, (r) => r.enqueue.medianByTenthOfQueue[9]),
      singlePostsMedian: agg(runs.ours, (r) => r.requests.single),
    },
    workbox: {
      drainMsMedian: agg(runs.workbox, (r) => r.drainMs),
      drainMsMin: Math.min(...runs.workbox.map((r) => r.drainMs)),
      drainMsMax: Math.max(...runs.workbox.map((r) => r.drainMs)),
      enqueueP50: agg(runs.workbox, (r) => r.enqueue.pushRequestMs.p50),
      enqueueP99: agg(runs.workbox, (r) => r.enqueue.pushRequestMs.p99),
      roundTripP50: agg(runs.workbox, (r) => r.enqueue.pageRoundTripMs.p50),
      roundTripP99: agg(runs.workbox, (r) => r.enqueue.pageRoundTripMs.p99),
      enqueueTotalMs: agg(runs.workbox, (r) => r.enqueue.totalMs),
      distinctOk: runs.workbox.every((r) => r.server.distinct === n),
      duplicates: runs.workbox.reduce((a, r) => a + r.server.duplicates, 0),
      queueEmptyAfter: runs.workbox.every((r) => r.queueSizeAfter === 0),
    },
  };
}

// ---------------------------------------------------------------- row 3: failover
const blackhole = (region) => admin('POST', `/admin/regions/${region}/faults`, { blackhole: true });
const FAULTS = {
  refused: (region) => admin('POST', `/admin/regions/${region}/down`),
  blackhole,
  killswitch: (region) => admin('POST', `/admin/regions/${region}/faults`, { kill_switch: true }),
  // A black hole on a busy page far from its regions: every region answers 60 ms late (a
  // continent away), the main thread runs a 200 ms task every 400 ms from before the first
  // command (an app rendering a large view on a slow device), and 10 commands are delivered
  // first, so the hedge delay is the p95 of measured requests, not of the probes.
  busy: (region) => admin('POST', `/admin/regions/${region}/faults`, { blackhole: true, latency_ms: BUSY.latencyMs }),
};
const BUSY = { taskMs: 200, everyMs: 400, latencyMs: 60, warmCommands: 10 };
// A black hole right after a slow spell: 10 quick commands, then the user's network gets
// worse with every command (every region 150 ms late, then 200, … 500 ms), so each one is
// slower than the p95 it is hedged at and the hedges spend the retry budget (one token a
// hedge, a tenth back a success); then the spell ends and the serving region stops answering.
// Each trial counts the hedges of the spell.
FAULTS.spent = blackhole;
const SPENT = { warmCommands: 10, slowMs: [150, 200, 250, 300, 350, 400, 450, 500] };
for (const f of opt.faults ?? []) {
  if (!FAULTS[f]) throw new Error(`--faults: no fault named "${f}" (known: ${Object.keys(FAULTS).join(', ')})`);
}

async function failoverTrial(browser, fault) {
  const { ctx, page } = await openOursFresh(browser);
  try {
    if (fault === 'busy') {
      for (const region of REGIONS) {
        await admin('POST', `/admin/regions/${region}/faults`, { latency_ms: BUSY.latencyMs });
      }
      await page.evaluate(({ taskMs, everyMs }) => {
        window.__benchBusy = setInterval(() => {
          const until = performance.now() + taskMs;
          while (performance.now() < until) {}
        }, everyMs);
      }, BUSY);
    }
    const keys = new Map();
    page.on('request', (r) => {
      const key = r.headers()['idempotency-key'];
      if (r.method() === 'POST' && key) keys.set(key, (keys.get(key) ?? new Set()).add(new URL(r.url()).port));
    });
    const hedged = () => [...keys.values()].filter((ports) => ports.size > 1).length;
    // delivered commands first, one at a time: CORS preflight cached, the serving region has
    // latency samples
    const deliverOneByOne = (count) => page.evaluate(async (count) => {
      const host = window.__mfeBench.host;
      const one = (i) =>
        new Promise((resolve, reject) => {
          let id = null;
          const seen = new Map();
          const off = host.onCommandStatus((u) => {
            seen.set(u.id, u);
            if (id && seen.get(id) && seen.get(id).status === 'delivered') {
              off();
              resolve(seen.get(id).region);
            }
          });
          host.dispatch('bench.add', 'bench', { title: 'warm-up ' + i }).then((x) => (id = x), reject);
          setTimeout(() => reject(new Error('warm-up command not delivered in 15 s')), 15000);
        });
      let region = null;
      for (let i = 0; i < count; i++) region = await one(i);
      return region;
    }, count);
    let warm = await deliverOneByOne(fault === 'busy' ? BUSY.warmCommands : fault === 'spent' ? SPENT.warmCommands : 1);
    let spellHedges = null;
    if (fault === 'spent') {
      const before = hedged();
      for (const latency_ms of SPENT.slowMs) {
        for (const region of REGIONS) await admin('POST', `/admin/regions/${region}/faults`, { latency_ms });
        warm = await deliverOneByOne(1);
      }
      for (const region of REGIONS) await admin('POST', `/admin/regions/${region}/faults`, { latency_ms: 0 });
      spellHedges = hedged() - before;
    }
    const serving = await page.getByTestId('current-region').getAttribute('data-region');
    await FAULTS[fault](serving);
    // refused / black hole: one command, dispatch -> acked by another region. Kill switch: the
    // region keeps accepting commands (its /health says 503 and its answers say
    // `Region-Health: unhealthy`), so traffic moves once an answer or a probe tells the shell:
    // a command every 250 ms, and one more after each ack by the switched-off region, until
    // one is acked by another region (bounded).
    const res = await page.evaluate(
      async ([serving, repeatMs, limitMs]) => {
        const host = window.__mfeBench.host;
        return new Promise((resolve) => {
          const t0 = performance.now();
          const seen = new Map();
          const mine = new Set();
          let sent = 0;
          let ackedByServing = 0;
          let timer = null;
          const finish = (r) => {
            clearInterval(timer);
            off();
            resolve({ ...r, sent, ackedByServing });
          };
          const off = host.onCommandStatus((u) => {
            seen.set(u.id, u);
            if (!mine.has(u.id)) return;
            if (u.status === 'delivered') {
              if (u.region !== serving) finish({ ms: performance.now() - t0, region: u.region, attempts: u.attempts });
              else {
                // Its answer says whether it is switched off: the next command tells where
                // traffic went, without waiting for the next tick.
                ackedByServing += 1;
                if (repeatMs) send();
              }
            } else if (u.status === 'dead') finish({ ms: null, error: 'dead: ' + u.lastError });
          });
          const send = () => {
            sent += 1;
            host.dispatch('bench.add', 'bench', { title: 'after the fault ' + sent }).then((id) => {
              mine.add(id);
              const u = seen.get(id);
              if (u && u.status === 'delivered' && u.region !== serving) finish({ ms: performance.now() - t0, region: u.region, attempts: u.attempts });
            });
          };
          send();
          if (repeatMs) timer = setInterval(send, repeatMs);
          setTimeout(() => finish({ ms: null, error: `not acked by another region within ${limitMs / 1000} s` }), limitMs);
        });
      },
      [serving, fault === 'killswitch' ? 250 : 0, fault === 'killswitch' ? 75000 : 20000],
    );
    return { fault, serving, warmRegion: warm, spellHedges, ...res, otherRegion: res.region ? res.region !== serving : false };
  } finally {
    await ctx.close().catch(() => {});
  }
}

async function benchFailover(browser) {
  log(`\n[failover] ${opt.failoverTrials} trials per fault: fault the serving region, time until a command is acked by another region`);
  const out = {};
  for (const fault of Object.keys(FAULTS).filter((f) => !opt.faults || opt.faults.includes(f))) {
    const trials = [];
    for (let i = 0; i < opt.failoverTrials; i++) {
      let t;
      try {
        t = await failoverTrial(browser, fault);
      } catch (e) {
        t = { fault, ms: null, error: String(e.message || e) };
      }
      trials.push(t);
      log(`  ${fault.padEnd(10)} trial ${String(i + 1).padStart(2)}: ${t.ms === null ? 'FAILED ' + t.error : t.ms.toFixed(1) + ' ms'}  ${t.serving || ''} -> ${t.region || ''}${t.spellHedges == null ? '' : `  (${t.spellHedges} hedges in the slow spell)`}`);
    }
    const ok = trials.filter((t) => t.ms !== null && t.otherRegion).map((t) => t.ms);
    out[fault] = { trials, ok: ok.length, median: median(ok), max: ok.length ? Math.max(...ok) : null };
  }
  await admin('POST', '/admin/reset');
  return out;
}

// ---------------------------------------------------------------- row 2b: online click → delivered
// What an online user waits for: host.dispatch() until the command's status says delivered,
// one at a time, first with an empty outbox, then with 1,000 delivered commands kept in it
// (the outbox keeps delivered commands for a day). Ours only: Workbox queues only what failed.
async function benchOnline(browser) {
  const samples = 15;
  log(`\n[online] click → delivered, ${samples} commands one after another, with 0 and with 1,000 delivered in the outbox`);
  const { ctx, page } = await openOursFresh(browser);
  try {
    const out = await page.evaluate(async (samples) => {
      const host = window.__mfeBench.host;
      const one = () =>
        new Promise((resolve, reject) => {
          const t0 = performance.now();
          const delivered = new Set();
          let id = null;
          const finish = () => (off(), clearTimeout(timer), resolve(performance.now() - t0));
          const off = host.onCommandStatus((u) => {
            if (u.status !== 'delivered') return;
            delivered.add(u.id);
            if (u.id === id) finish();
          });
          const timer = setTimeout(() => (off(), reject(new Error('not delivered within 10 s'))), 10000);
          host.dispatch('bench.add', 'bench', { title: 'online' }).then((v) => {
            id = v;
            if (delivered.has(v)) finish();
          });
        });
      const settle = () => new Promise((r) => setTimeout(r, 1500));
      const measure = async () => {
        const ms = [];
        for (let k = 0; k < samples; k++) {
          ms.push(await one());
          await new Promise((r) => setTimeout(r, 50));
        }
        return ms;
      };
      await settle();
      const empty = await measure();
      for (let k = 0; k < 10; k++) await Promise.all(Array.from({ length: 100 }, (_, i) => host.dispatch('bench.add', 'bench', { title: 'history ' + (k * 100 + i) })));
      await settle();
      const history = await measure();
      return { empty, history };
    }, samples);
    const r = { empty: summary(out.empty), history: summary(out.history), historySize: 1000 };
    log(`  empty outbox: median ${r.empty.p50.toFixed(1)} ms (max ${r.empty.max.toFixed(1)}); with ${r.historySize} delivered: median ${r.history.p50.toFixed(1)} ms (max ${r.history.max.toFixed(1)})`);
    return r;
  } finally {
    await ctx.close().catch(() => {});
    await admin('POST', '/admin/reset');
  }
}

// ---------------------------------------------------------------- row 4: time to mount
async function mountRun(browser, side) {
  const s = SIDES[side];
  const ctx = await browser.newContext();
  try {
    await ctx.addInitScript(probeScript);
    const page = await ctx.newPage();
    await page.goto(s.url, { waitUntil: 'load' });
    await waitMounted(page);
    const cold = await page.evaluate(collectLoadInPage);
    // let the page finish booting (probes, manifest) before the warm cycles
    await page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
    const warm = [];
    for (let c = 0; c < opt.warmCycles; c++) warm.push(await page.evaluate(CYCLE[side], 2));
    await page.reload({ waitUntil: 'load' });
    await waitMounted(page);
    const reload = await page.evaluate(collectLoadInPage);
    // Warm from the service worker's cache: once the shell's worker has precached and claimed
    // the page, reload again. single-spa has no worker, so its second reload is the same HTTP
    // cache reload (the comparison a team would get without writing a worker).
    const controlled =
      side === 'ours' &&
      (await page
        .waitForFunction(() => Boolean(navigator.serviceWorker && navigator.serviceWorker.controller), null, { timeout: 20000 })
        .then(() => true, () => false));
    const endMountTrace = side === 'ours' ? await traceIfAsked(ctx, page) : async () => {};
    await page.reload({ waitUntil: 'load' });
    await waitMounted(page);
    const swReload = { ...(await page.evaluate(collectLoadInPage)), workerClaimed: controlled };
    await endMountTrace('mount');
    return { cold, warm, reload, swReload };
  } finally {
    await ctx.close().catch(() => {});
  }
}

async function benchMount(browser) {
  log(`\n[mount] 1 warm-up + ${opt.mountRuns} fresh contexts per side, alternating: cold, ${opt.warmCycles} route-away-and-back cycles, reload`);
  for (const side of ['ours', 'spa']) await mountRun(browser, side);
  const runs = { ours: [], spa: [] };
  for (let i = 0; i < opt.mountRuns; i++) {
    const order = i % 2 === 0 ? ['ours', 'spa'] : ['spa', 'ours'];
    for (const side of order) {
      const r = await mountRun(browser, side);
      runs[side].push(r);
      if (r.cold.rows !== 100 || r.reload.rows !== 100 || r.swReload.rows !== 100 || r.warm.some((w) => w.rows !== 100)) {
        throw new Error(`${side}: expected 100 rows at mount, saw ${r.cold.rows}/${r.reload.rows}/${r.swReload.rows}`);
      }
    }
    const o = runs.ours[i];
    const p = runs.spa[i];
    log(
      `  run ${String(i + 1).padStart(2)} ours cold ${o.cold.domMs.toFixed(1).padStart(6)} warm ${o.warm[0].mountMs.toFixed(1).padStart(5)} reload ${o.reload.domMs.toFixed(1).padStart(6)} sw ${o.swReload.domMs.toFixed(1).padStart(6)}` +
        ` | spa cold ${p.cold.domMs.toFixed(1).padStart(6)} warm ${p.warm[0].mountMs.toFixed(1).padStart(5)} reload ${p.reload.domMs.toFixed(1).padStart(6)} 2nd ${p.swReload.domMs.toFixed(1).padStart(6)}`,
    );
  }
  const m = (rs, side) => ({
    cold: summary(rs.map((r) => r.cold.domMs)),
    warm: summary(rs.map((r) => r.warm[0].mountMs)),
    warmLater: summary(rs.flatMap((r) => r.warm.slice(1).map((w) => w.mountMs))),
    unmount: summary(rs.map((r) => r.warm[0].unmountMs)),
    reload: summary(rs.map((r) => r.reload.domMs)),
    reloadFromCache: rs.map((r) => `${r.reload.resources.filter((x) => x.transferSize === 0).length}/${r.reload.resources.length}`),
    reloadControlledBySw: rs.filter((r) => r.reload.controlled).length,
    // ours: only reloads under the worker count as warm from its cache; single-spa has none
    swReload: summary(rs.filter((r) => side !== 'ours' || r.swReload.controlled).map((r) => r.swReload.domMs)),
    swReloadControlled: rs.filter((r) => r.swReload.controlled).length,
    swReloadFromWorker: rs.map((r) => `${r.swReload.fromWorker}/${r.swReload.resources.length}`),
    coldControlledBySw: rs.filter((r) => r.cold.controlled).length,
  });
  return {
    runs: opt.mountRuns,
    ours: m(runs.ours, 'ours'),
    spa: m(runs.spa, 'spa'),
    coldResources: { ours: runs.ours[0].cold.resources, spa: runs.spa[0].cold.resources },
    samples: runs,
  };
}

// ---------------------------------------------------------------- row 6: heap after cycles
/** Installed before any page script on both sides of the memory row: keeps every wasm
 *  instance's exported memory, so the row can report linear memory (which the JS heap figures
 *  leave out) before and after the cycles. */
function wasmMemoryProbe() {
  const memories = (window.__wasmMemories = []);
  const keep = (instance) => {
    const m = instance && instance.exports && instance.exports.memory;
    if (m instanceof WebAssembly.Memory && !memories.includes(m)) memories.push(m);
    return instance;
  };
  const instantiate = WebAssembly.instantiate;
  WebAssembly.instantiate = function (...args) {
    return instantiate.apply(this, args).then((r) => (keep(r.instance || r), r));
  };
  const streaming = WebAssembly.instantiateStreaming;
  if (streaming) {
    WebAssembly.instantiateStreaming = function (...args) {
      return streaming.apply(this, args).then((r) => (keep(r.instance), r));
    };
  }
  const Instance = WebAssembly.Instance;
  WebAssembly.Instance = new Proxy(Instance, {
    construct(target, args) {
      return keep(Reflect.construct(target, args));
    },
  });
}
/** Linear memory of every wasm instance the page created so far, in bytes (sum and largest). */
function wasmMemoryBytes() {
  const sizes = (window.__wasmMemories || []).map((m) => m.buffer.byteLength);
  return { instances: sizes.length, total: sizes.reduce((a, b) => a + b, 0), sizes };
}
async function heapRun(browser, side, cycles) {
  const ctx = await browser.newContext();
  try {
    await ctx.addInitScript(probeScript);
    await ctx.addInitScript(wasmMemoryProbe);
    const page = await ctx.newPage();
    await page.goto(SIDES[side].url, { waitUntil: 'load' });
    await waitMounted(page);
    await page.evaluate(() => new Promise((r) => setTimeout(r, 500)));
    const cdp = await ctx.newCDPSession(page);
    const heap = async () => {
      for (let i = 0; i < 3; i++) await cdp.send('HeapProfiler.collectGarbage');
      const u = await cdp.send('Runtime.getHeapUsage');
      const m = await cdp.send('Performance.getMetrics').catch(() => ({ metrics: [] }));
      const metric = (name) => (m.metrics.find((x) => x.name === name) || {}).value ?? null;
      const wasm = await page.evaluate(wasmMemoryBytes);
      return { ...u, jsHeapUsed: metric('JSHeapUsedSize'), nodes: metric('Nodes'), listeners: metric('JSEventListeners'), wasm };
    };
    await cdp.send('Performance.enable');
    const snapshot = async (name) => {
      if (!process.env.BENCH_HEAP) return;
      for (let i = 0; i < 3; i++) await cdp.send('HeapProfiler.collectGarbage');
      const chunks = [];
      const take = (e) => chunks.push(e.chunk);
      cdp.on('HeapProfiler.addHeapSnapshotChunk', take);
      await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
      cdp.off('HeapProfiler.addHeapSnapshotChunk', take);
      await writeFile(`${process.env.BENCH_HEAP}.${side}.${name}.heapsnapshot`, chunks.join(''));
    };
    const before = await heap();
    const t0 = Date.now();
    let done = 0;
    let halfTaken = false;
    // bounded: at most `cycles`, at most 150 s
    while (done < cycles && Date.now() - t0 < 150000) {
      if (!halfTaken && done >= cycles / 2) {
        halfTaken = true;
        await snapshot('half');
      }
      const batch = Math.min(50, cycles - done);
      await page.evaluate(
        async ([side, k]) => {
          const b = window.__bench;
          for (let i = 0; i < k; i++) {
            const gone = b.wait('unmount');
            if (side === 'ours') document.querySelector('a[href="/"]').click();
            else window.__spa.navigateToUrl('/spa/blank/');
            await gone;
            const mounted = b.wait('mount');
            if (side === 'ours') document.querySelector('a[href="/bench"]').click();
            else window.__spa.navigateToUrl('/spa/app/');
            await mounted;
          }
        },
        [side, batch],
      );
      done += batch;
    }
    const seconds = (Date.now() - t0) / 1000;
    await page.evaluate(() => new Promise((r) => setTimeout(r, 500)));
    const after = await heap();
    await snapshot('end');
    return { side, cycles: done, seconds, before, after };
  } finally {
    await ctx.close().catch(() => {});
  }
}

const kib = (sizes) => sizes.map((b) => (b / 1024).toFixed(0)).join(' / ') || '–';
async function benchMemory(browser) {
  log(`\n[memory] ${opt.cycles} unmount/mount cycles per side, heap after GC (CDP)`);
  const out = {};
  for (const side of ['ours', 'spa']) {
    out[side] = await heapRun(browser, side, opt.cycles);
    const r = out[side];
    log(
      `  ${side.padEnd(5)} ${r.cycles} cycles in ${r.seconds.toFixed(1)} s: JS heap used ${(r.before.usedSize / 1024).toFixed(0)} -> ${(r.after.usedSize / 1024).toFixed(0)} KiB` +
        `, backing stores ${((r.before.backingStorageSize || 0) / 1024).toFixed(0)} -> ${((r.after.backingStorageSize || 0) / 1024).toFixed(0)} KiB, nodes ${r.before.nodes} -> ${r.after.nodes}` +
        `, wasm linear memory ${(r.before.wasm.total / 1024).toFixed(0)} -> ${(r.after.wasm.total / 1024).toFixed(0)} KiB` +
        ` (per instance ${kib(r.before.wasm.sizes)} -> ${kib(r.after.wasm.sizes)} KiB)`,
    );
  }
  return out;
}

// ---------------------------------------------------------------- row 5: bytes
async function fileBytes(abs) {
  const body = await readFile(abs);
  return { raw: body.length, gzip: zlib.gzipSync(body, { level: 9 }).length, brotli: zlib.brotliCompressSync(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length };
}
const addBytes = (list) => list.reduce((a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli }), { raw: 0, gzip: 0, brotli: 0 });

async function walk(dir) {
  const out = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

async function benchBytes() {
  const items = [];
  // the shell: the build's output (wasm + JS glue + snippets + sw.js), counted whole and in its
  // two modules: the boot module (/boot/, all the page runs before its app is on screen) and
  // the shell's own module (the rest). The worker's outbox drain (/sw/) is counted apart: only
  // the service worker fetches it, never the page.
  const shellFiles = (await walk(opt.dist)).filter((f) => /\.(js|wasm)$/.test(f));
  const shellParts = [];
  const workerParts = [];
  for (const f of shellFiles) {
    const file = '/' + path.relative(opt.dist, f).split(path.sep).join('/');
    (file.startsWith('/sw/') ? workerParts : shellParts).push({ file, ...(await fileBytes(f)) });
  }
  items.push({ what: 'shell (wasm + JS)', files: shellParts, ...addBytes(shellParts) });
  const bootParts = shellParts.filter((p) => p.file.startsWith('/boot/'));
  const moduleParts = shellParts.filter((p) => !p.file.startsWith('/boot/'));
  items.push({ what: 'boot module (/boot/)', files: bootParts, ...addBytes(bootParts) });
  items.push({ what: "shell's module (the rest)", files: moduleParts, ...addBytes(moduleParts) });
  items.push({ what: "service worker's outbox drain (/sw/, not loaded by the page)", files: workerParts, ...addBytes(workerParts) });
  // every published app (current version): entry + wasm + snippets
  const manifest = JSON.parse(await readFile(path.join(opt.cdn, 'manifest.json'), 'utf8'));
  for (const [name, versions] of Object.entries(manifest.apps)) {
    const cur = versions.current;
    const dir = path.join(opt.cdn, 'apps', name, cur.version);
    const files = (await walk(dir)).filter((f) => /\.(js|wasm)$/.test(f));
    const parts = [];
    for (const f of files) parts.push({ file: '/' + path.relative(opt.cdn, f), ...(await fileBytes(f)) });
    items.push({ what: `app ${name} ${cur.version}`, files: parts, ...addBytes(parts) });
  }
  // single-spa + React: everything the page loads
  const spaDir = path.join(opt.cdn, ...SPA_BASE.split('/').filter(Boolean));
  const spaParts = [];
  for (const f of (await walk(spaDir)).filter((f) => f.endsWith('.js'))) spaParts.push({ file: '/' + path.relative(opt.cdn, f), ...(await fileBytes(f)) });
  const spaLib = spaParts.filter((p) => !p.file.includes('/apps/orders.js'));
  const spaApp = spaParts.filter((p) => p.file.includes('/apps/orders.js'));
  items.push({ what: 'single-spa + React runtime (root config, single-spa, react, react-dom)', files: spaLib, ...addBytes(spaLib) });
  items.push({ what: 'single-spa React app (orders.js, single-spa-react inside)', files: spaApp, ...addBytes(spaApp) });
  const wb = await fileBytes(path.join(opt.cdn, 'wb', 'sw.js'));
  items.push({ what: 'Workbox SW bundle (Queue + idb + workbox-core)', files: [{ file: '/wb/sw.js', ...wb }], ...wb });
  return items;
}

// ---------------------------------------------------------------- row 7: throughput (wrk)
async function benchThroughput() {
  const out = {};
  const wrk = sh('sh', ['-c', 'command -v wrk']);
  if (!wrk) return { error: 'wrk not installed' };
  for (const kind of ['fresh', 'pool', 'repeat']) {
    await admin('POST', '/admin/reset');
    const script = path.join(HERE, 'wrk', `commands-${kind}.lua`);
    const argv = ['-t2', '-c32', `-d${opt.wrkSeconds}s`, '--timeout', '5s', '--latency', '-s', script, regionUrl('us-east') + '/commands'];
    log(`\n[throughput] wrk ${argv.join(' ')}`);
    const text = await new Promise((resolve, reject) => {
      const p = spawn('wrk', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      let o = '';
      p.stdout.on('data', (d) => (o += d));
      p.stderr.on('data', (d) => (o += d));
      const killer = setTimeout(() => p.kill('SIGKILL'), (opt.wrkSeconds + 30) * 1000);
      p.on('exit', () => {
        clearTimeout(killer);
        resolve(o);
      });
      p.on('error', reject);
    });
    const num = (re) => {
      const m = text.match(re);
      return m ? Number(m[1]) : null;
    };
    const lat = (q) => {
      const m = text.match(new RegExp(`\\s${q}%\\s+([0-9.]+)(us|ms|s)`));
      if (!m) return null;
      return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
    };
    const repl = await admin('GET', '/admin/replication');
    const stored = (repl.regions.find((x) => x.name === 'us-east') || {}).commands ?? null;
    out[kind] = {
      reqPerS: num(/Requests\/sec:\s+([0-9.]+)/),
      requests: num(/(\d+) requests in/),
      non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/) || 0,
      socketErrors: (text.match(/Socket errors:.*/) || [null])[0],
      statuses: Object.fromEntries(((text.match(/statuses: (.*)/) || [])[1] || '').split(' ').filter(Boolean).map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)])),
      latencyMs: { p50: lat(50), p90: lat(90), p99: lat(99) },
      stored,
      output: text,
    };
    log(text.trim().split('\n').map((l) => '    ' + l).join('\n'));
  }
  await admin('POST', '/admin/reset');
  return out;
}

// ---------------------------------------------------------------- report
function fmt(x, d = 1) {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d);
}
const kb = (b) => (b / 1000).toFixed(1);
const ratio = (a, b, d = 2) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? (a / b).toFixed(d) + '×' : '–');

function report(r) {
  const t = [];
  const NOT_YET = (why) => `not yet: ${why}`;
  if (r.drain) {
    const o = r.drain.ours;
    const w = r.drain.workbox;
    t.push([
      `1. Drain ${r.drain.n} queued offline → all acked (median of ${r.drain.runs.ours.length}; min–max)`,
      `${fmt(o.drainMsMedian, 0)} ms (${fmt(o.drainMsMin, 0)}–${fmt(o.drainMsMax, 0)})`,
      `Workbox replayRequests ${fmt(w.drainMsMedian, 0)} ms (${fmt(w.drainMsMin, 0)}–${fmt(w.drainMsMax, 0)})`,
      `${ratio(w.drainMsMedian, o.drainMsMedian, 1)} faster`,
      '≥ 20× faster',
      `server: ours ${o.distinctOk ? r.drain.n + ' distinct' : 'MISSING'}, ${o.duplicates} dups, IDB all delivered ${o.allDeliveredInIdb}, ${o.batchPostsMedian} batch + ${o.singlePostsMedian} single POSTs (one stream, sequential; ${fmt(o.batchRequestSumMs, 0)} ms of it inside the batch requests); Workbox ${w.distinctOk ? r.drain.n + ' distinct' : 'MISSING'}, ${w.duplicates} dups`,
    ]);
    t.push([
      `2. Enqueue → durable in IndexedDB, p50 / p99 (${r.drain.n} sequential, offline)`,
      `${fmt(o.enqueueP50, 2)} / ${fmt(o.enqueueP99, 2)} ms`,
      `pushRequest ${fmt(w.enqueueP50, 2)} / ${fmt(w.enqueueP99, 2)} ms (page round trip ${fmt(w.roundTripP50, 2)} / ${fmt(w.roundTripP99, 2)})`,
      `${ratio(o.enqueueP50, w.enqueueP50)} / ${ratio(o.enqueueP99, w.enqueueP99)}`,
      '≤ 1.0× at both',
      `ours: host.dispatch() from page JS until its promise resolves (after the commit); median ${fmt(o.enqueueMedianFirstTenth, 2)} ms for the first 100, ${fmt(o.enqueueMedianLastTenth, 2)} ms for the last 100 (${o.enqueueMedianLastTenth > 1.5 * o.enqueueMedianFirstTenth ? 'grows with the queue' : 'flat'}); all ${r.drain.n} take ${fmt(o.enqueueTotalMs, 0)} ms vs ${fmt(w.enqueueTotalMs, 0)} ms`,
    ]);
  }
  if (r.online) {
    const o = r.online;
    t.push([
      `2b. Online: dispatch → delivered, one at a time (median; max of ${o.empty.n})`,
      `${fmt(o.empty.p50, 1)} ms (${fmt(o.empty.max, 1)}); with ${o.historySize} delivered kept: ${fmt(o.history.p50, 1)} ms (${fmt(o.history.max, 1)})`,
      '–',
      '–',
      '–',
      'ours only (Workbox queues only what failed); a delivered history must not slow the next command down',
    ]);
  }
  if (r.failover) {
    const f = r.failover;
    const row = (k, label, goal) => {
      const x = f[k];
      return [
        `3. Failover, ${label}: next command acked by another region (median / max of ${x.trials.length})`,
        x.ok ? `${fmt(x.median, 0)} / ${fmt(x.max, 0)} ms` : 'failed',
        '–',
        '–',
        goal,
        `${x.ok}/${x.trials.length} acked elsewhere` +
          (k === 'spent' ? `; hedges in the slow spell: median ${fmt(median(x.trials.map((t) => t.spellHedges ?? 0)), 0)}, min ${Math.min(...x.trials.map((t) => t.spellHedges ?? 0))}` : '') +
          (k === 'killswitch' ? `; a command every 250 ms from the flip and one after each ack by the switched-off region; median ${fmt(median(x.trials.map((t) => t.ackedByServing)), 0)} still acked by the switched-off region first` : '') +
          (x.trials.find((t) => t.error) ? `; ${x.trials.find((t) => t.error).error}` : ''),
      ];
    };
    const rowIf = (k, label, goal) => f[k] && t.push(row(k, label, goal));
    rowIf('refused', 'region refused (listener down)', '< 100 ms');
    rowIf('blackhole', 'region black-holed', 'p95 + 100 ms (hedging)');
    rowIf('killswitch', 'region kill switch (/health 503, answers marked Region-Health: unhealthy)', '–');
    rowIf('spent', `region black-holed right after a slow spell spent the hedges (every region ${SPENT.slowMs[0]}, then ${SPENT.slowMs[1]}, … ${SPENT.slowMs.at(-1)} ms late, one command each)`, 'p95 + 100 ms (hedging)');
    rowIf('busy', `region black-holed on a busy page (regions ${BUSY.latencyMs} ms away, a ${BUSY.taskMs} ms task every ${BUSY.everyMs} ms, ${BUSY.warmCommands} commands delivered first)`, 'p95 + 100 ms (hedging)');
  }
  if (r.mount) {
    const o = r.mount.ours;
    const s = r.mount.spa;
    const row = (k, label) => [
      `4. Time to mount, ${label} (median of ${o[k].n}; p90)`,
      `${fmt(o[k].p50)} ms (${fmt(o[k].p90)})`,
      `single-spa+React ${fmt(s[k].p50)} ms (${fmt(s[k].p90)})`,
      ratio(o[k].p50, s[k].p50),
      '≤ 1.0×',
      '',
    ];
    t.push(row('cold', 'cold: fresh context, navigation → app DOM'));
    t.push(row('warm', 'warm: route away and back, 1st cycle'));
    t.push(row('warmLater', 'warm: later cycles'));
    const rl = row('reload', 'reload: navigation → app DOM');
    rl[5] = `ours: page under its service worker in ${o.reloadControlledBySw}/${o.reload.n} reloads; single-spa: HTTP cache (no SW)`;
    t.push(rl);
    if (o.swReloadControlled) {
      const sw = row('swReload', 'warm from the service-worker cache: reload under the worker → app DOM');
      sw[2] = `single-spa+React (HTTP cache, no worker) ${fmt(s.swReload.p50)} ms (${fmt(s.swReload.p90)})`;
      sw[5] = `ours: controlled by the shell's worker in ${o.swReloadControlled}/${o.swReload.n} reloads`;
      t.push(sw);
    } else {
      t.push(['4. Time to mount, warm from a service-worker cache', NOT_YET('no reload was controlled by the shell\'s service worker'), '–', '–', '≤ 1.0×', '']);
    }
  }
  if (r.bytes) {
    const find = (re) => r.bytes.find((b) => re.test(b.what));
    const shell = find(/^shell/);
    const spaLib = find(/^single-spa \+ React runtime/);
    const spaApp = find(/^single-spa React app/);
    t.push([`5. Bytes: shell (wasm + JS), raw / gzip -9`, `${kb(shell.raw)} / ${kb(shell.gzip)} KB`, `single-spa+React runtime ${kb(spaLib.raw)} / ${kb(spaLib.gzip)} KB`, ratio(shell.gzip, spaLib.gzip) + ' gzip', 'shell ≤ 150 KB gzip', '']);
    const boot = find(/^boot module/);
    const rest = find(/^shell's module/);
    if (boot && boot.files.length) {
      t.push([`5. Bytes: of which the boot module (runs before the app is on screen), raw / gzip -9`, `${kb(boot.raw)} / ${kb(boot.gzip)} KB`, `single-spa+React runtime ${kb(spaLib.raw)} / ${kb(spaLib.gzip)} KB`, ratio(boot.gzip, spaLib.gzip) + ' gzip', '≤ 150 KB gzip', '']);
      t.push([`5. Bytes: of which the shell's module (starts once the app is on screen), raw / gzip -9`, `${kb(rest.raw)} / ${kb(rest.gzip)} KB`, '–', '–', '–', '']);
    }
    const worker = find(/^service worker's outbox drain/);
    if (worker) {
      t.push([`5. Bytes: service worker's outbox drain (not loaded by the page), raw / gzip -9`, `${kb(worker.raw)} / ${kb(worker.gzip)} KB`, 'Workbox SW bundle', '–', '–', 'fetched once by the worker, precached; off the page\'s critical path']);
    }
    for (const app of r.bytes.filter((b) => b.what.startsWith('app '))) {
      t.push([`5. Bytes: ${app.what}, raw / gzip -9`, `${kb(app.raw)} / ${kb(app.gzip)} KB`, `React app ${kb(spaApp.raw)} / ${kb(spaApp.gzip)} KB`, ratio(app.gzip, spaApp.gzip) + ' gzip', 'app ≤ 80 KB gzip', '']);
    }
    const benchApp = find(/^app bench-list/);
    if (benchApp) {
      const ours = shell.gzip + benchApp.gzip;
      const theirs = spaLib.gzip + spaApp.gzip;
      t.push([`5. Bytes: total for the bench screen (shell + bench-list vs runtime + app), gzip`, `${kb(ours)} KB`, `${kb(theirs)} KB`, ratio(ours, theirs), '', '']);
    }
  }
  if (r.memory) {
    const o = r.memory.ours;
    const s = r.memory.spa;
    const mb = (x) => (x / 2 ** 20).toFixed(2);
    t.push([
      `6. JS heap used after ${o.cycles} mount/unmount cycles, after GC (before → after)`,
      `${mb(o.before.usedSize)} → ${mb(o.after.usedSize)} MiB`,
      `single-spa+React ${mb(s.before.usedSize)} → ${mb(s.after.usedSize)} MiB`,
      ratio(o.after.usedSize, s.after.usedSize),
      'no growth',
      `backing stores (wasm memories, ArrayBuffers): ours ${mb(o.before.backingStorageSize || 0)} → ${mb(o.after.backingStorageSize || 0)} MiB, spa ${mb(s.before.backingStorageSize || 0)} → ${mb(s.after.backingStorageSize || 0)} MiB; DOM nodes ours ${o.before.nodes} → ${o.after.nodes}, spa ${s.before.nodes} → ${s.after.nodes}`,
    ]);
    if (o.before.wasm && o.after.wasm) {
      t.push([
        `6b. wasm linear memory after the same cycles (every instance: shell, apps)`,
        `${mb(o.before.wasm.total)} → ${mb(o.after.wasm.total)} MiB`,
        'single-spa+React has none',
        '–',
        'no growth',
        `per instance, KiB: ${kib(o.before.wasm.sizes)} → ${kib(o.after.wasm.sizes)} (${o.after.wasm.instances} instances)`,
      ]);
    }
  }
  if (r.throughput) {
    const labels = {
      fresh: 'fresh keys',
      pool: 'repeats (200 stored keys per thread, cycled)',
      repeat: 'one key repeated on every connection',
    };
    for (const k of ['fresh', 'pool', 'repeat']) {
      const x = r.throughput[k];
      if (!x) continue;
      const st = Object.entries(x.statuses || {}).map(([c, v]) => `${c}: ${v}`).join(', ');
      t.push([
        `7. Region simulator POST /commands, ${labels[k]} (wrk -t2 -c32, ${opt.wrkSeconds} s, loopback)`,
        `${fmt(x.reqPerS, 0)} req/s`,
        '–',
        '–',
        '',
        `p50 ${fmt(x.latencyMs.p50, 2)} ms, p99 ${fmt(x.latencyMs.p99, 2)} ms; statuses ${st}${x.socketErrors ? '; ' + x.socketErrors : ''}${k === 'fresh' ? `; stored ${x.stored}` : ''}`,
      ]);
    }
  }
  return table(['row', 'ours', 'anchor', 'ours vs anchor', 'goal', 'notes'], t);
}

function bytesTable(items) {
  const rowsOut = [];
  for (const it of items) {
    rowsOut.push([it.what, it.raw, it.gzip, it.brotli]);
    if (it.files.length > 1) for (const f of it.files) rowsOut.push(['  ' + f.file, f.raw, f.gzip, f.brotli]);
  }
  return table(['artifact', 'raw B', 'gzip -9 B', 'brotli 11 B'], rowsOut);
}

// ---------------------------------------------------------------- main
async function main() {
  const t0 = performance.now();
  const cpu0 = await cpuTimes();
  const outputs = await buildAnchors(opt.cdn);
  log(`comparison systems built into ${opt.cdn} (${Object.keys(outputs).length} files)`);
  const sim = await startSim();
  log(`region-sim pid ${sim.pid}: static ${STATIC}, regions ${REGIONS.map(regionUrl).join(' ')}, admin ${ADMIN}`);
  const results = {
    schema: 'mfe-bench/1',
    date: new Date().toISOString(),
    config: { ...opt, quick, static: STATIC, regions: REGIONS.map(regionUrl), simArgs: sim.argv },
    versions: Object.fromEntries(['playwright-core', 'workbox-background-sync', 'single-spa', 'single-spa-react', 'react', 'react-dom', 'esbuild'].map((p) => [p, pkgVersion(p)])),
  };
  let browser = null;
  try {
    browser = await chromium.launch(LAUNCH);
    results.machine = await machineFacts(browser.version());
    results.machine.wrk = sh('sh', ['-c', 'wrk -v 2>&1 | head -1']);
    log(`chromium ${results.machine.chromiumVersion}, ${results.machine.nproc} CPUs`);
    // a row that fails is recorded as an error; the others still run
    const attempt = async (name, fn) => {
      if (!rows(name)) return;
      try {
        results[name] = await fn();
      } catch (e) {
        results.errors = { ...(results.errors || {}), [name]: String((e && e.stack) || e) };
        log(`\n[${name}] FAILED: ${e && e.message}`);
        await admin('POST', '/admin/reset').catch(() => {});
      }
    };
    await attempt('bytes', benchBytes);
    if (rows('drain')) {
      // each drain run launches its own browser on a fresh on-disk profile
      await browser.close();
      browser = null;
      await attempt('drain', benchDrain);
      browser = await chromium.launch(LAUNCH);
    }
    await attempt('online', () => benchOnline(browser));
    await attempt('failover', () => benchFailover(browser));
    await attempt('mount', () => benchMount(browser));
    await attempt('memory', () => benchMemory(browser));
    if (rows('throughput')) {
      await browser.close();
      browser = null;
      await attempt('throughput', benchThroughput);
    }
  } finally {
    if (browser) await browser.close().catch(() => {});
    stopSim();
  }
  results.durationS = (performance.now() - t0) / 1000;
  results.machine.loadavgAtEnd = os.loadavg().map((x) => round(x, 2));
  results.machine.cpuDuringRun = cpuShare(cpu0, await cpuTimes());
  const m = results.machine;
  const text = [
    '',
    report(results),
    results.errors ? '\nrows that failed: ' + Object.entries(results.errors).map(([k, v]) => `${k}: ${v.split('\n')[0]}`).join('; ') : '',
    results.bytes ? '\nBytes on disk (what the browser downloads, before HTTP compression)\n' + bytesTable(results.bytes) : '',
    `\nmachine: ${m.nproc} CPUs (${m.cpuModel}), ${m.memTotalGiB} GiB, ${m.os}, Node ${m.node}, Chromium ${m.chromiumVersion} headless; ` +
      `wall ${results.durationS.toFixed(0)} s; CPU busy ${m.cpuDuringRun ? m.cpuDuringRun.busyPct : '?'}%, steal ${m.cpuDuringRun ? m.cpuDuringRun.stealPct : '?'}%`,
  ].join('\n');
  results.table = text;
  log(text);
  const out = path.resolve(HERE, args.out || `results/${results.date.slice(0, 19).replace(/:/g, '-')}Z${quick ? '-quick' : ''}.json`);
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, JSON.stringify(roundDeep(results, 3), null, 2) + '\n');
  log(`\nwrote ${path.relative(process.cwd(), out)}`);
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    stopSim();
    process.exit(130);
  });
}

main().catch((err) => {
  console.error(err);
  stopSim();
  process.exit(1);
});
