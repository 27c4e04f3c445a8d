/**
 * Offline boot and updates: the service worker precaches the shell and every app of the
 * manifest, serves them with no network at all, refuses corrupted cache entries, and offers a
 * new shell build as an explicit "Update" that keeps the outbox.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect, regions, waitForRegions, addTask } from './fixtures';
import { STACK } from './fixtures/stack';
import { cdn } from './fixtures/cdn';

/** Where the page's own HTML came from: the static route it matched, and what answered. */
async function navigationSource(page: Page) {
  return page.evaluate(() => {
    const entry = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming & {
      workerMatchedSourceType?: string;
      workerFinalSourceType?: string;
    };
    return [entry.workerMatchedSourceType, entry.workerFinalSourceType];
  });
}

/**
 * Runs `body` with `deploy` at hand, which "deploys" a new shell build (a different worker
 * script), and puts the original worker back afterwards.
 */
async function withNextShellBuild(body: (deploy: () => void) => Promise<void>) {
  const swPath = join(process.env.E2E_SHELL_DIR ?? 'dist', 'sw.js');
  const original = readFileSync(swPath, 'utf8');
  try {
    await body(() => writeFileSync(swPath, `${original}\n// next build ${Date.now()}\n`));
  } finally {
    writeFileSync(swPath, original);
  }
}

async function waitOfflineReady(page: Page) {
  await expect(page.getByTestId('offline-status')).toHaveAttribute('data-ready', 'true', {
    timeout: 30_000,
  });
}

test('after one online visit the shell and every app boot with no network at all', async ({
  page,
  context,
}) => {
  await page.goto('/tasks');
  await expect(page.getByTestId('tasks-app')).toBeVisible();
  await waitForRegions(page);
  await waitOfflineReady(page);
  const bytes = await page.getByTestId('offline-status').getAttribute('data-cached-bytes');
  console.log(`cached for offline use: ${bytes} bytes`);
  // Online, a navigation races the network against the worker and the network answers, so the
  // HTML never waits for the worker to start.
  await page.reload();
  await expect(page.getByTestId('tasks-app')).toBeVisible();
  expect(await navigationSource(page)).toEqual(['race-network-and-fetch-handler', 'network']);

  await context.setOffline(true);
  const started = Date.now();
  await page.reload();
  await expect(page.getByTestId('tasks-app')).toBeVisible();
  console.log(`offline boot: ${Date.now() - started} ms to the first app`);
  await expect(page.getByTestId('current-region')).toContainText('Offline');
  // The shell's own files came from the worker's cache by its static routes (the browser
  // answers them without running the worker's script).
  const shellSources = await page.evaluate(() =>
    (performance.getEntriesByType('resource') as (PerformanceResourceTiming & { workerFinalSourceType?: string })[])
      .filter((e) => /\/mfe-shell-[0-9a-f]+(_bg\.wasm|\.js)$/.test(new URL(e.name).pathname))
      .map((e) => e.workerFinalSourceType),
  );
  expect(shellSources).toEqual(['cache', 'cache']);
  // Offline, the network loses the race and the worker's cached index.html answers.
  expect(await navigationSource(page)).toEqual(['race-network-and-fetch-handler', 'fetch-event']);
  // An app never opened before going offline.
  await page.getByTestId('nav-notes').click();
  await expect(page.getByTestId('notes-app')).toBeVisible();
  await page.getByTestId('nav-tasks').click();
  const id = await addTask(page, 'written offline');
  await expect(page.getByTestId('outbox-pending')).toHaveAttribute('data-count', '1');

  await context.setOffline(false);
  await expect(page.getByTestId('outbox-pending')).toHaveAttribute('data-count', '0', {
    timeout: 30_000,
  });
  for (const name of regions.names) {
    const stored = await regions.waitFor(name, (cmds) => cmds.some((c) => c.id === id));
    expect(stored.filter((c) => c.id === id)).toHaveLength(1);
  }
});

test('app files the manifest no longer lists leave the worker\'s cache, and the listed ones stay', async ({
  page,
}) => {
  const cachedApps = () =>
    page.evaluate(async () => {
      const cache = await caches.open('apps-v1');
      return (await cache.keys()).map((r) => new URL(r.url).pathname);
    });
  await page.goto('/tasks');
  await expect(page.getByTestId('tasks-app')).toBeVisible();
  await waitOfflineReady(page);
  const listed = await cachedApps();
  expect(listed.length).toBeGreaterThan(0);
  // A version retired from the manifest long ago (past its rollback targets).
  await page.evaluate(async () => {
    const cache = await caches.open('apps-v1');
    await cache.put('/apps/retired/0.1.0/retired.js', new Response('export default {};'));
  });
  expect(await cachedApps()).toContain('/apps/retired/0.1.0/retired.js');

  // Every page start hands the worker the manifest's list again.
  await page.reload();
  await expect(page.getByTestId('tasks-app')).toBeVisible();
  await expect.poll(cachedApps, { timeout: 30_000 }).not.toContain('/apps/retired/0.1.0/retired.js');
  expect((await cachedApps()).sort()).toEqual([...listed].sort());
});

test('a corrupted cached app file is fetched again, never executed', async ({ page }) => {
  await page.goto('/notes');
  await expect(page.getByTestId('notes-app')).toBeVisible();
  await waitOfflineReady(page);
  const manifest = await (await page.request.get('/manifest.json')).json();
  const entry: string = manifest.apps.notes.current.entry;
  await page.evaluate(async (url) => {
    const cache = await caches.open('apps-v1');
    await cache.put(
      url,
      new Response('throw new Error("tampered");', {
        headers: { 'content-type': 'text/javascript' },
      }),
    );
  }, entry);
  await page.reload();
  await expect(page.getByTestId('notes-app')).toBeVisible();
  const text = await page.evaluate(async (url) => {
    const cached = await (await caches.open('apps-v1')).match(url);
    return cached ? cached.text() : '';
  }, entry);
  expect(text).not.toContain('tampered');
  expect(text).toContain('export async function mount');
});

test('a request with a wrong integrity is refused and leaves the good cached copy in place', async ({ page }) => {
  // E.g. a stale or edited boot hint: the worker asks the network with that integrity, the
  // browser refuses the answer, and the verified copy in the cache stays.
  await page.goto('/notes');
  await expect(page.getByTestId('notes-app')).toBeVisible();
  await waitOfflineReady(page);
  const manifest = await (await page.request.get('/manifest.json')).json();
  const entry: string = manifest.apps.notes.current.entry;
  const refused = await page.evaluate(async (url) => {
    const wrong = 'sha384-' + btoa('x'.repeat(48));
    return fetch(url, { integrity: wrong }).then(
      () => false,
      () => true,
    );
  }, entry);
  expect(refused).toBe(true);
  const text = await page.evaluate(async (url) => {
    const cached = await (await caches.open('apps-v1')).match(url);
    return cached ? cached.text() : '';
  }, entry);
  expect(text).toContain('export async function mount');
});

test('a new shell build waits for "Update", which reloads into it with pending commands kept', async ({
  page,
}) => {
  await withNextShellBuild(async (deploy) => {
    await page.goto('/tasks');
    await waitForRegions(page);
    await waitOfflineReady(page);
    for (const name of regions.names) await regions.down(name);
    await addTask(page, 'survives the update');
    await expect(page.getByTestId('outbox-pending')).toHaveAttribute('data-count', '1');

    deploy();
    await page.getByTestId('nav-notes').click(); // a navigation looks for updates
    await expect(page.getByTestId('update-available')).toBeVisible({ timeout: 20_000 });
    await expect(page.getByTestId('outbox-pending')).toHaveAttribute('data-count', '1');
    const reloaded = page.waitForEvent('load');
    await page.getByTestId('update-apply').click();
    await reloaded;
    await expect(page.getByTestId('update-available')).toHaveCount(0);
    await expect(page.getByTestId('outbox-pending')).toHaveAttribute('data-count', '1');
    for (const name of regions.names) await regions.up(name);
    await expect(page.getByTestId('outbox-pending')).toHaveAttribute('data-count', '0', {
      timeout: 30_000,
    });
  });
});

test('an update applied in one tab: "Update" in another tab reloads it into the new build', async ({
  page,
  context,
}) => {
  await withNextShellBuild(async (deploy) => {
    await page.goto('/tasks');
    await waitForRegions(page);
    await waitOfflineReady(page);
    const other = await context.newPage();
    await other.goto('/notes');
    await expect(other.getByTestId('notes-app')).toBeVisible();

    deploy();
    await page.getByTestId('nav-notes').click(); // a navigation looks for updates
    await expect(page.getByTestId('update-available')).toBeVisible({ timeout: 20_000 });
    await expect(other.getByTestId('update-available')).toBeVisible({ timeout: 20_000 });

    const reloaded = page.waitForEvent('load');
    await page.getByTestId('update-apply').click();
    await reloaded;
    // The other tab is now controlled by the new worker but still runs the old build: its
    // button must still do what it says.
    const otherReloaded = other.waitForEvent('load', { timeout: 10_000 });
    await other.getByTestId('update-apply').click();
    await otherReloaded;
    await expect(other.getByTestId('notes-app')).toBeVisible();
    await expect(other.getByTestId('update-available')).toHaveCount(0);
  });
});

test('a version published while the page is open is used on the next navigation, opens offline, and a rollback is honoured', async ({
  page,
  context,
}) => {
  const manifest = cdn.snapshot();
  const version = (v: string) =>
    expect(page.getByTestId('faulty-app')).toHaveAttribute('data-version', v, { timeout: 20_000 });
  const openFaulty = async () => {
    await page.getByRole('link', { name: 'Home' }).click();
    await page.getByTestId('nav-faulty').click();
  };
  try {
    await page.goto('/faulty');
    await version('1.0.0');
    await waitOfflineReady(page);

    cdn.publish('tests/apps/faulty', 'faulty', '1.8.0');
    // The shell reads the manifest again on navigation, at most every 3 s.
    await page.waitForTimeout(3_100);
    await openFaulty();
    await version('1.8.0');
    // The worker keeps the new version's files, so it opens with no network.
    await expect
      .poll(() =>
        page.evaluate(async () => {
          const cache = await caches.open('apps-v1');
          const keys = (await cache.keys()).map((r) => new URL(r.url).pathname);
          return keys.filter((k) => k.startsWith('/apps/faulty/1.8.0/')).length;
        }),
      )
      .toBe(2);
    await context.setOffline(true);
    await page.reload();
    await version('1.8.0');

    await context.setOffline(false);
    cdn.rollback('faulty');
    await page.waitForTimeout(3_100);
    await openFaulty();
    await version('1.0.0');
    await expect(page.getByTestId('app-slot-main')).toHaveAttribute('data-rolled-back', 'false');
  } finally {
    cdn.restore(manifest);
  }
});
