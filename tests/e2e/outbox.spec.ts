/**
 * The durable outbox as a user meets it: commands issued offline, across reloads and tabs,
 * against failing regions, rejected ones, and a full disk. Every assertion reads the regions'
 * stores (what really took effect) or the page's IndexedDB.
 */
import type { Page } from '@playwright/test';
import { test, expect, regions, waitForRegions, addTask } from './fixtures';
import { installDiskFullSwitch, readOutbox, setDiskFull } from './fixtures/outbox';
import type { StoredCommand } from './fixtures/regions';
import { everywhere, expectDrainedOnceInOrder, expectOncePerId } from './fixtures/delivery';

async function addNote(page: Page, text: string): Promise<string> {
  await page.getByTestId('note-text').fill(text);
  await page.getByTestId('note-add').click();
  const item = page.getByTestId('note-item').filter({ hasText: text });
  await expect(item).toHaveCount(1);
  return (await item.getAttribute('data-command-id'))!;
}

/** Every region answers commands and /health with `faults` (e.g. a 500 on every request). */
async function everyRegion(faults: Record<string, unknown>) {
  for (const name of regions.names) await regions.faults(name, faults);
}

test('offline: 20 commands from two apps survive two reloads and arrive once each, in order', async ({
  page,
  context,
}) => {
  await page.goto('/tasks');
  await waitForRegions(page);
  // The service worker has cached the shell and every app: the page can reload offline.
  await expect(page.getByTestId('offline-status')).toHaveAttribute('data-ready', 'true', {
    timeout: 30_000,
  });
  await context.setOffline(true);
  await expect(page.getByTestId('current-region')).toContainText('Offline');

  const ids: string[] = [];
  for (let i = 0; i < 10; i++) ids.push(await addTask(page, `task ${i}`));
  await page.getByTestId('nav-notes').click();
  for (let i = 0; i < 10; i++) ids.push(await addNote(page, `note ${i}`));
  await expect(page.getByTestId('outbox-pending')).toHaveAttribute('data-count', '20');
  await expect(page.getByTestId('announcer')).toContainText('Saved on this device');
  expect((await readOutbox(page)).filter((r) => r.status === 'pending')).toHaveLength(20);

  for (let reload = 0; reload < 2; reload++) {
    await page.reload();
    await expect(page.getByTestId('notes-app')).toBeVisible();
    await expect(page.getByTestId('outbox-pending')).toHaveAttribute('data-count', '20');
  }
  for (const name of regions.names) expect(await regions.commands(name)).toHaveLength(0);
  await context.setOffline(false);

  await expectDrainedOnceInOrder(page, ids);
  const records = await readOutbox(page);
  expect(records.filter((r) => ids.includes(r.id)).every((r) => r.status === 'delivered')).toBe(
    true,
  );
});

test('two tabs enqueue offline; back online each command is sent exactly once', async ({
  context,
}) => {
  const [a, b] = [await context.newPage(), await context.newPage()];
  await a.goto('/tasks');
  await b.goto('/tasks');
  await waitForRegions(a);
  await waitForRegions(b);
  await context.setOffline(true);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    ids.push(await addTask(a, `from a ${i}`));
    ids.push(await addTask(b, `from b ${i}`));
  }
  await context.setOffline(false);
  const stored = await everywhere(ids);
  expectOncePerId(stored, ids);
  // Counted at the server: every key arrived in exactly one request.
  const accepting = new Map<string, StoredCommand[]>();
  for (const name of regions.names) accepting.set(name, await regions.commands(name));
  for (const id of ids) {
    const firsts = [...accepting.values()].flat().filter((c) => c.id === id && c.received);
    const received = firsts.reduce((sum, c) => sum + (c.received ?? 0), 0);
    expect(received, `requests carrying ${id}`).toBe(1);
  }
  await expect(a.getByTestId('outbox-pending')).toHaveAttribute('data-count', '0');
  await expect(b.getByTestId('outbox-pending')).toHaveAttribute('data-count', '0');
});

test('a region answering 500 is retried, not dropped, and delivers once it recovers', async ({
  page,
}) => {
  await page.goto('/tasks');
  await waitForRegions(page);
  await everyRegion({ error_rate: 1, error_status: 500 });
  const id = await addTask(page, 'survives a 500');
  // The attempt failed with the server's 500 and the command waits for another one.
  await expect
    .poll(async () => (await readOutbox(page)).find((r) => r.id === id)?.last_error ?? '')
    .toContain('500');
  const record = (await readOutbox(page)).find((r) => r.id === id)!;
  expect(record.attempts).toBeGreaterThanOrEqual(1);
  expect(record.status).not.toBe('dead');

  await everyRegion({});
  const stored = await everywhere([id]);
  expectOncePerId(stored, [id]);
  await expect(page.getByTestId('task-item').filter({ hasText: 'survives a 500' })).toHaveAttribute(
    'data-status',
    'delivered',
    { timeout: 20_000 },
  );
});

test('a region that takes smaller batches gets smaller ones: nothing dead, each command once, in order', async ({
  page,
  context,
}) => {
  await page.goto('/tasks');
  await waitForRegions(page);
  await everyRegion({ batch_limit: 2 });
  let refused = 0;
  page.on('response', (response) => {
    if (/\/commands:batch$/.test(response.url()) && response.status() === 413) refused += 1;
  });
  await context.setOffline(true);
  await expect(page.getByTestId('current-region')).toContainText('Offline');
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push(await addTask(page, `small batches ${i}`));
  await context.setOffline(false);

  await expectDrainedOnceInOrder(page, ids);
  // The five went out as one batch, were refused whole, and went again in batches of two.
  expect(refused).toBeGreaterThanOrEqual(1);
  const records = (await readOutbox(page)).filter((r) => ids.includes(r.id));
  expect(records.map((r) => r.status)).toEqual(Array(5).fill('delivered'));
  await expect(page.getByTestId('outbox-failed')).toHaveCount(0);
});

test('a rejected command becomes a visible dead letter; Retry after a fix delivers it, Discard removes it', async ({
  page,
}) => {
  await page.goto('/tasks');
  await waitForRegions(page);
  await everyRegion({ error_rate: 1, error_status: 422 });
  const id = await addTask(page, 'rejected once');
  await expect(page.getByTestId('outbox-failed')).toHaveAttribute('data-count', '1');
  await page.getByTestId('outbox-toggle').click();
  const item = page.locator(`[data-testid="outbox-item"][data-command-id="${id}"]`);
  await expect(item).toHaveAttribute('data-status', 'failed');
  await expect(item.getByTestId('outbox-reason')).toContainText('422');
  await expect(page.getByTestId('task-item').filter({ hasText: 'rejected once' })).toHaveAttribute(
    'data-status',
    'failed',
  );

  await everyRegion({});
  await item.getByTestId('dead-retry').click();
  expectOncePerId(await everywhere([id]), [id]);
  await expect(item).toHaveCount(0);

  await everyRegion({ error_rate: 1, error_status: 422 });
  const doomed = await addTask(page, 'to be discarded');
  const doomedItem = page.locator(`[data-testid="outbox-item"][data-command-id="${doomed}"]`);
  await expect(doomedItem).toHaveAttribute('data-status', 'failed');
  await doomedItem.getByTestId('dead-discard').click();
  await expect(doomedItem).toHaveCount(0);
  expect((await readOutbox(page)).some((r) => r.id === doomed)).toBe(false);
  await everyRegion({});
});

test('Retry-After is honoured: no new attempt before it expires', async ({ page }) => {
  await page.goto('/tasks');
  await waitForRegions(page);
  const posts: number[] = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && /\/commands(:batch)?$/.test(request.url())) {
      posts.push(Date.now());
    }
  });
  await everyRegion({ error_rate: 1, error_status: 503, retry_after_s: 3 });
  await addTask(page, 'wait for me');
  await expect.poll(() => posts.length).toBeGreaterThanOrEqual(1);
  // The first burst (one try per region) ends quickly; then silence until Retry-After passes.
  await page.waitForTimeout(1_000);
  const burstEnd = posts[posts.length - 1];
  const burst = posts.length;
  await page.waitForTimeout(1_500);
  expect(posts.length, 'no request during Retry-After').toBe(burst);
  await everyRegion({});
  await expect.poll(() => posts.length, { timeout: 20_000 }).toBeGreaterThan(burst);
  // Times are when the test process saw each request, a few ms after the page sent it.
  expect(posts[burst] - burstEnd).toBeGreaterThanOrEqual(3_000 - 1_100);
  expect(posts[burst] - posts[0]).toBeGreaterThanOrEqual(3_000 - 50);
});

test('a full disk gives a clear error and keeps what the user typed', async ({ page }) => {
  await installDiskFullSwitch(page);
  await page.goto('/tasks');
  await expect(page.getByTestId('tasks-app')).toBeVisible();
  await setDiskFull(page, true);
  await page.getByTestId('task-title').fill('important thought');
  await page.getByTestId('task-add').click();
  await expect(page.getByTestId('task-error')).toContainText('storage is full');
  await expect(page.getByTestId('task-title')).toHaveValue('important thought');
  await expect(page.getByTestId('task-item')).toHaveCount(0);

  await setDiskFull(page, false);
  await page.getByTestId('task-add').click();
  await expect(page.getByTestId('task-item').filter({ hasText: 'important thought' })).toHaveCount(1);
});
