/**
 * Idle preload: while the browser is idle, apps that are not on screen are fetched and
 * compiled, so their first visit needs no network. Counted from the page's own requests
 * (the service worker's caching requests are its own and not counted).
 */
import type { Request } from '@playwright/test';
import { test, expect } from './fixtures';

/** `tasks.js` / `tasks_bg.wasm` requested by the page (not by the service worker). */
function tasksAsset(request: Request): string | undefined {
  if (request.serviceWorker()) return undefined;
  const match = /^\/apps\/tasks\/[^/]+\/([^/]+\.(?:js|wasm))$/.exec(new URL(request.url()).pathname);
  return match?.[1];
}

test('apps not on screen are fetched and compiled while idle, so their first visit fetches nothing', async ({
  page,
  consoleErrors,
}) => {
  const fetched: string[] = [];
  page.on('request', (request) => {
    const asset = tasksAsset(request);
    if (asset) fetched.push(asset);
  });
  const started = Date.now();
  await page.goto('/');
  await expect(page.getByTestId('home')).toBeVisible();
  await expect(page.getByTestId('tasks-app')).toHaveCount(0);

  // Without any navigation to /tasks, its glue and wasm are fetched…
  await expect.poll(() => [...fetched].sort(), { timeout: 15_000 }).toEqual(['tasks.js', 'tasks_bg.wasm']);
  // …and compiled (the inspector lists versions once prepared).
  await page.getByTestId('nav-inspector').click();
  await expect(page.getByTestId('inspector-preloaded')).toContainText('tasks@1.0.0');
  console.log(`tasks preloaded ${Date.now() - started} ms after the page was opened`);

  // The first visit mounts from the preloaded bytes: no request for its files at all.
  const clicked = Date.now();
  await page.getByTestId('nav-tasks').click();
  await expect(page.getByTestId('tasks-app')).toBeVisible();
  console.log(`first visit to tasks after preload: ${Date.now() - clicked} ms to visible (Playwright round trips included)`);
  expect(fetched).toHaveLength(2);
  expect(consoleErrors).toEqual([]);
});

test('a deep link asks for the manifest, the regions and each file of its app once, all before the app is drawn', async ({
  page,
  consoleErrors,
}) => {
  // index.html asks for manifest.json and regions.json while the shell's code downloads; the
  // shell takes those answers instead of asking again, and starts the app's glue and wasm
  // together as soon as the manifest is read.
  const asked = new Map<string, number>();
  page.on('request', (request) => {
    if (request.serviceWorker()) return;
    const path = new URL(request.url()).pathname;
    const key = /^\/(manifest|regions)\.json$/.test(path) ? path : tasksAsset(request);
    if (key) asked.set(key, (asked.get(key) ?? 0) + 1);
  });
  await page.goto('/tasks');
  await expect(page.getByTestId('tasks-app')).toBeVisible();
  expect(Object.fromEntries(asked)).toEqual({
    '/manifest.json': 1,
    '/regions.json': 1,
    'tasks.js': 1,
    'tasks_bg.wasm': 1,
  });
  // Asked for by index.html itself, before the shell ran: the shell starts from a module
  // script, which runs only once the document is parsed (domInteractive), while the early read
  // is made during parsing. (Comparing with the shell's wasm arriving raced on a loaded machine:
  // the preloaded wasm could arrive before the parser reached the inline script.)
  const { manifestAsked, parsed } = await page.evaluate(() => {
    const entries = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
    const manifest = entries.find((e) => new URL(e.name).pathname === '/manifest.json');
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    return { manifestAsked: manifest?.startTime ?? NaN, parsed: nav?.domInteractive ?? NaN };
  });
  expect(manifestAsked).toBeLessThan(parsed);
  // No console errors: the CSP allows the inline script by its hash, and the reads succeeded.
  expect(consoleErrors).toEqual([]);
});

test('a reload asks for the files of the apps it shows while the shell is still loading, once each', async ({
  page,
  consoleErrors,
}) => {
  // The first start at /tasks leaves a boot hint (the files it asked for first); on the next
  // load index.html asks for them during parsing, and the shell takes those answers.
  await page.goto('/tasks');
  await expect(page.getByTestId('tasks-app')).toBeVisible();
  const hinted = await page.evaluate(() => localStorage.getItem('mfe.boot.files') ?? '');
  expect(hinted).toContain('/apps/tasks/');

  const asked = new Map<string, number>();
  page.on('request', (request) => {
    const asset = tasksAsset(request);
    if (asset) asked.set(asset, (asked.get(asset) ?? 0) + 1);
  });
  await page.reload();
  await expect(page.getByTestId('tasks-app')).toBeVisible();
  expect(Object.fromEntries(asked)).toEqual({ 'tasks.js': 1, 'tasks_bg.wasm': 1 });
  const { wasmAsked, parsed } = await page.evaluate(() => {
    const entries = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
    const wasm = entries.filter((e) => /\/apps\/tasks\/[^/]+\/tasks_bg\.wasm$/.test(new URL(e.name).pathname));
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    return { wasmAsked: wasm.length === 1 ? wasm[0].startTime : NaN, parsed: nav?.domInteractive ?? NaN };
  });
  // Before the document was parsed, so before the shell's code ran and read the manifest.
  expect(wasmAsked).toBeLessThan(parsed);
  // Nothing left waiting for a taker once the page's first loads started.
  expect(await page.evaluate(() => (window as unknown as { __mfeEarlyFiles?: unknown }).__mfeEarlyFiles)).toBeUndefined();
  expect(consoleErrors).toEqual([]);
});
