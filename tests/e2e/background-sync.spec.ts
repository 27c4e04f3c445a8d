/**
 * Delivery with the tab closed: a command saved offline registers a Background Sync; with every
 * page of the shell closed and the network back, the service worker runs the outbox's Rust
 * drain and the command reaches the regions exactly once. Reopening shows it delivered, and no
 * page sends it again.
 */
import type { CDPSession } from '@playwright/test';
import type { BrowserContext, Page } from '@playwright/test';
import { test, expect, regions, waitForRegions, addTask, servingRegion } from './fixtures';
import type { RegionName } from './fixtures/stack';
import { readOutbox } from './fixtures/outbox';
import { STACK } from './fixtures/stack';

/** The shell's service worker registration id, as the DevTools protocol names it. */
async function registrationId(cdp: CDPSession): Promise<string> {
  const found = new Promise<string>((resolve) => {
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const ours = registrations.find((r: { scopeURL: string }) => r.scopeURL.startsWith(STACK.baseURL));
      if (ours) resolve(ours.registrationId);
    });
  });
  await cdp.send('ServiceWorker.enable');
  return found;
}

/** Opens the tasks app under the shell's service worker (the first visit installs it). */
async function openControlled(page: Page) {
  await page.goto('/tasks');
  await waitForRegions(page);
  await expect(page.getByTestId('offline-status')).toHaveAttribute('data-ready', 'true', {
    timeout: 30_000,
  });
  await page.reload();
  await expect(page.getByTestId('tasks-app')).toBeVisible();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
}

/** Saves a task offline and waits until the page has asked for a Background Sync. */
async function saveOffline(page: Page, context: BrowserContext, title: string): Promise<string> {
  await context.setOffline(true);
  const id = await addTask(page, title);
  expect((await readOutbox(page)).find((r) => r.id === id)?.status).toBe('pending');
  await expect
    .poll(() =>
      page.evaluate(async () => (await (await navigator.serviceWorker.ready).sync.getTags()).join(',')),
    )
    .toContain('mfe-outbox');
  return id;
}

/**
 * Closes the shell's page, brings the network back and fires the sync event through the
 * DevTools protocol (from a blank page, so no page of the shell is open). `beforeSync` runs
 * with the network back, just before the event. Returns when the event was dispatched.
 */
async function syncWithNoPageOpen(page: Page, context: BrowserContext, beforeSync = async () => {}) {
  const blank = await context.newPage();
  const cdp = await context.newCDPSession(blank);
  const registration = registrationId(cdp);
  await page.close();
  await context.setOffline(false);
  await beforeSync();
  const started = Date.now();
  await cdp.send('ServiceWorker.dispatchSyncEvent', {
    origin: STACK.baseURL,
    registrationId: await registration,
    tag: 'mfe-outbox',
    lastChance: false,
  });
  return started;
}

test('a command saved offline is delivered by the service worker with no page open', async ({
  page,
  context,
}) => {
  await openControlled(page);
  const id = await saveOffline(page, context, 'sent with the tab closed');
  const started = await syncWithNoPageOpen(page, context);
  for (const name of regions.names) {
    const stored = await regions.waitFor(name, (cmds) => cmds.some((c) => c.id === id), 30_000);
    expect(stored.filter((c) => c.id === id)).toHaveLength(1);
  }
  console.log(`background delivery: ${Date.now() - started} ms from the sync event to every region`);

  // Reopened: shown as delivered, and not sent again.
  const again = await context.newPage();
  await again.goto('/tasks');
  await expect(again.getByTestId('outbox-pending')).toHaveAttribute('data-count', '0');
  await expect
    .poll(async () => (await readOutbox(again)).find((r) => r.id === id)?.status ?? 'pruned')
    .toMatch(/delivered|pruned/);
  await again.waitForTimeout(2_000);
  for (const name of regions.names) {
    const stored = await regions.commands(name);
    expect(stored.filter((c) => c.id === id)).toHaveLength(1);
  }
});

test('the service worker delivers to the region the page chose, not the first one listed', async ({
  page,
  context,
}) => {
  await openControlled(page);
  // The first listed region goes away: the page moves to another one and remembers it.
  const first = regions.names[0];
  await regions.down(first);
  await expect(page.getByTestId('current-region')).not.toHaveAttribute('data-region', first, {
    timeout: 15_000,
  });
  const chosen = (await servingRegion(page)) as RegionName;
  const id = await saveOffline(page, context, 'sent where the page would send it');
  await expect
    .poll(() =>
      page.evaluate(async () => {
        const stored = await (await caches.open('data-v1')).match('/__mfe/preferred-region');
        return stored ? stored.text() : '';
      }),
    )
    .toBe(chosen);

  // The first listed region is back and healthy: only the page's choice makes the worker skip it.
  await syncWithNoPageOpen(page, context, () => regions.up(first));
  const stored = await regions.waitFor(chosen, (cmds) => cmds.some((c) => c.id === id), 30_000);
  const command = stored.find((c) => c.id === id);
  expect(command?.region).toBe(chosen);
  for (const name of regions.names) {
    const held = await regions.waitFor(name, (cmds) => cmds.some((c) => c.id === id), 30_000);
    expect(held.filter((c) => c.id === id)).toHaveLength(1);
  }
});

test('the sync is registered once per stretch offline, and again once the page was back online', async ({
  page,
  context,
}) => {
  // Count the page's Background Sync registrations: the browser stores each one, so a
  // registration per saved command would be a disk write per command.
  await page.addInitScript(() => {
    const w = window as unknown as { __syncRegisters: number };
    w.__syncRegisters = 0;
    const register = SyncManager.prototype.register;
    SyncManager.prototype.register = function (this: SyncManager, tag: string) {
      w.__syncRegisters += 1;
      return register.call(this, tag);
    };
  });
  // Registrations go through `navigator.serviceWorker.ready`: once it has resolved here and a
  // task has passed, every registration the saves asked for has been made.
  const registers = () =>
    page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      await new Promise((resolve) => setTimeout(resolve, 0));
      return (window as unknown as { __syncRegisters: number }).__syncRegisters;
    });
  await openControlled(page);

  await context.setOffline(true);
  for (const title of ['first offline', 'second offline', 'third offline']) await addTask(page, title);
  expect(await registers()).toBe(1);

  // Back online, the page delivers them itself.
  await context.setOffline(false);
  await expect
    .poll(async () => (await readOutbox(page)).filter((r) => r.status === 'delivered').length, { timeout: 15_000 })
    .toBe(3);

  // Offline again: the next saved command asks for a sync again.
  await context.setOffline(true);
  await addTask(page, 'offline again');
  expect(await registers()).toBe(2);
});

test('a worker woken while a page delivers waits for that page to let go before loading its drain, then delivers once', async ({
  page,
  context,
}) => {
  await openControlled(page);
  const id = await saveOffline(page, context, 'delivered once the lock is free');

  // Another page of the origin holds the drain lock, as a page delivering would.
  const holder = await context.newPage();
  await holder.goto('/regions.json');
  await holder.evaluate(
    () =>
      new Promise<void>((granted) => {
        void navigator.locks.request('mfe-outbox-drain', () => {
          granted();
          return new Promise<void>((release) => {
            (window as unknown as { __release: () => void }).__release = release;
          });
        });
      }),
  );
  // What the worker reads from the network once it loads its drain: the regions.
  const workerReads: string[] = [];
  context.on('request', (request) => {
    if (request.serviceWorker()) workerReads.push(new URL(request.url()).pathname);
  });

  await syncWithNoPageOpen(page, context);
  await holder.waitForTimeout(2_000);
  expect(workerReads).not.toContain('/regions.json');
  for (const name of regions.names) {
    expect((await regions.commands(name)).filter((c) => c.id === id)).toHaveLength(0);
  }

  // The lock is let go: the same wake-up goes on and delivers, once.
  await holder.evaluate(() => (window as unknown as { __release: () => void }).__release());
  for (const name of regions.names) {
    const stored = await regions.waitFor(name, (cmds) => cmds.some((c) => c.id === id), 30_000);
    expect(stored.filter((c) => c.id === id)).toHaveLength(1);
  }
  expect(workerReads).toContain('/regions.json');
});
