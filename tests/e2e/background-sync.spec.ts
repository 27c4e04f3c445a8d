/**
 * Delivery with the tab closed: a command saved offline registers a Background Sync; with every
 * page of the shell closed and the network back, the service worker runs the outbox's Rust
 * drain and the command reaches the regions exactly once. Reopening shows it delivered, and no
 * page sends it again.
 */
import type { CDPSession } from '@playwright/test';
import { test, expect, regions, waitForRegions, addTask } from './fixtures';
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

test('a command saved offline is delivered by the service worker with no page open', async ({
  page,
  context,
}) => {
  await page.goto('/tasks');
  await waitForRegions(page);
  await expect(page.getByTestId('offline-status')).toHaveAttribute('data-ready', 'true', {
    timeout: 30_000,
  });
  // The worker must control the page (the first visit installs it).
  await page.reload();
  await expect(page.getByTestId('tasks-app')).toBeVisible();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);

  await context.setOffline(true);
  const id = await addTask(page, 'sent with the tab closed');
  expect((await readOutbox(page)).find((r) => r.id === id)?.status).toBe('pending');
  await expect
    .poll(() =>
      page.evaluate(async () => (await (await navigator.serviceWorker.ready).sync.getTags()).join(',')),
    )
    .toContain('mfe-outbox');

  // Every page of the shell closed; a blank page only to reach the DevTools protocol.
  const blank = await context.newPage();
  const cdp = await context.newCDPSession(blank);
  const registration = registrationId(cdp);
  await page.close();
  await context.setOffline(false);
  const started = Date.now();
  await cdp.send('ServiceWorker.dispatchSyncEvent', {
    origin: STACK.baseURL,
    registrationId: await registration,
    tag: 'mfe-outbox',
    lastChance: false,
  });
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
