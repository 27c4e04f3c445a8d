/**
 * The device's storage taken away from under the shell: the database deleted while the page is
 * open, an older tab blocking the shell's upgrade of it, and a newer tab upgrading it. Each
 * time the user reads what happened in plain words and nothing acknowledged as saved is lost:
 * assertions read the page's IndexedDB and the regions' stores.
 */
import { randomUUID } from 'node:crypto';
import { test, expect, regions, waitForRegions, addTask } from './fixtures';
import { readOutbox } from './fixtures/outbox';
import type { StoredCommand } from './fixtures/regions';
import { everywhere, expectDrainedOnceInOrder, expectOncePerId } from './fixtures/delivery';

/** Requests carrying each id, summed over the regions (first receipt plus replays). */
async function expectReceivedOnce(ids: string[]) {
  const all: (StoredCommand & { received?: number })[] = [];
  for (const name of regions.names) all.push(...(await regions.commands(name)));
  for (const id of ids) {
    const received = all.filter((c) => c.id === id).reduce((n, c) => n + (c.received ?? 0), 0);
    expect(received, `requests carrying ${id}`).toBe(1);
  }
}

test('a database deleted under the page: unsent commands are saved again and each reaches the region once', async ({
  page,
  context,
}) => {
  await page.goto('/tasks');
  await waitForRegions(page);
  await context.setOffline(true);
  await expect(page.getByTestId('current-region')).toContainText('Offline');
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push(await addTask(page, `kept ${i}`));
  await expect(page.getByTestId('outbox-pending')).toHaveAttribute('data-count', '3');
  const key = (r: { id: string; seq: number; status: string }) => `${r.id} ${r.seq} ${r.status}`;
  const before = (await readOutbox(page)).filter((r) => ids.includes(r.id));
  expect(before.map(key).sort()).toHaveLength(3);

  // What devtools' "delete database" (or another tab) does.
  const waited = await page.evaluate(
    () =>
      new Promise<boolean>((resolve, reject) => {
        let blocked = false;
        const request = indexedDB.deleteDatabase('mfe-shell');
        request.onblocked = () => {
          blocked = true;
        };
        request.onsuccess = () => resolve(blocked);
        request.onerror = () => reject(request.error);
      }),
  );
  expect(waited, 'the shell let the deletion go on at once').toBe(false);

  const notice = page.getByTestId('storage-notice');
  await expect(notice).toHaveAttribute('data-kind', 'restored');
  await expect(notice).toContainText(
    'Stored data was cleared by the browser; 3 unsent commands were saved again',
  );
  // The same records, ids, seqs and states, are back in the recreated database.
  const after = (await readOutbox(page)).filter((r) => ids.includes(r.id));
  expect(after.map(key).sort()).toEqual(before.map(key).sort());
  await expect(page.getByTestId('outbox-pending')).toHaveAttribute('data-count', '3');

  // The next command is numbered after them, so the stream keeps its order.
  ids.push(await addTask(page, 'after the restore'));
  const next = (await readOutbox(page)).find((r) => r.id === ids[3])!;
  expect(next.seq).toBeGreaterThan(Math.max(...before.map((r) => r.seq)));
  await page.getByTestId('storage-notice-dismiss').click();
  await expect(notice).toHaveCount(0);

  for (const name of regions.names) expect(await regions.commands(name)).toHaveLength(0);
  await context.setOffline(false);
  await expectDrainedOnceInOrder(page, ids);
  await expectReceivedOnce(ids);
});

test('an older tab holding the old database version: the shell says so, refuses after 10 s, and saves once it closes', async ({
  context,
}) => {
  // A tab of the previous build, on the same origin: version 1 of the database with one
  // command it saved, and it never lets go (it ignores versionchange).
  const now = Date.now();
  const oldRecord = {
    id: randomUUID(),
    client_id: randomUUID(),
    seq: 0,
    stream: 'tasks',
    kind: 'task.add',
    app: 'tasks',
    payload: { title: 'saved by the old tab' },
    created_at: now,
    status: 'pending',
    attempts: 0,
    next_at: now,
    last_error: null,
    region: null,
    enqueued_at: now,
    delivered_at: null,
    dead_reason: null,
  };
  const old = await context.newPage();
  await old.goto('/regions.json');
  await old.evaluate(
    (record) =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('mfe-shell', 1);
        open.onupgradeneeded = () => {
          open.result.createObjectStore('outbox');
          open.transaction!.objectStore('outbox').put(record, record.id);
        };
        open.onsuccess = () => {
          (window as unknown as { oldDb: IDBDatabase }).oldDb = open.result;
          resolve();
        };
        open.onerror = () => reject(open.error);
      }),
    oldRecord,
  );

  const page = await context.newPage();
  await page.goto('/tasks');
  await expect(page.getByTestId('tasks-app')).toBeVisible();
  const notice = page.getByTestId('storage-notice');
  await expect(notice).toHaveAttribute('data-kind', 'blocked');
  await expect(notice).toContainText(
    'Close the other tabs of this app to finish updating; your saved commands are safe',
  );

  // A command issued meanwhile waits (bounded), then is refused with the reason; what the
  // user typed stays.
  await page.getByTestId('task-title').fill('waits for the old tab');
  const clicked = Date.now();
  await page.getByTestId('task-add').click();
  await expect(page.getByTestId('task-error')).toContainText('another tab', { timeout: 15_000 });
  expect(Date.now() - clicked).toBeGreaterThanOrEqual(9_000);
  await expect(page.getByTestId('task-title')).toHaveValue('waits for the old tab');
  await expect(page.getByTestId('task-item')).toHaveCount(0);

  // Issued again, it waits; the old tab closes its connection; the upgrade finishes and the
  // command is saved.
  await page.getByTestId('task-add').click();
  await page.waitForTimeout(500);
  await old.evaluate(() => (window as unknown as { oldDb: IDBDatabase }).oldDb.close());
  const item = page.getByTestId('task-item').filter({ hasText: 'waits for the old tab' });
  await expect(item).toHaveCount(1);
  await expect(notice).toHaveCount(0);
  const id = (await item.getAttribute('data-command-id'))!;

  // The old tab's command survived the upgrade; both reach the regions once.
  const ids = [oldRecord.id, id];
  const stored = await everywhere(ids);
  expectOncePerId(stored, ids);
  await expect(page.getByTestId('outbox-pending')).toHaveAttribute('data-count', '0', {
    timeout: 30_000,
  });
  expect((await readOutbox(page)).filter((r) => ids.includes(r.id))).toHaveLength(2);
});

test('a newer version opened in another tab: the shell lets go at once and asks for a reload', async ({
  page,
  context,
}) => {
  await page.goto('/tasks');
  await waitForRegions(page);
  const saved = await addTask(page, 'saved before the update');

  // A tab of a newer build upgrades the database to the next version.
  const newer = await context.newPage();
  await newer.goto('/regions.json');
  const opened = await newer.evaluate(
    () =>
      new Promise<{ blocked: boolean; version: number }>((resolve, reject) => {
        let blocked = false;
        const open = indexedDB.open('mfe-shell', 4);
        open.onblocked = () => {
          blocked = true;
        };
        open.onsuccess = () => {
          (window as unknown as { newDb: IDBDatabase }).newDb = open.result;
          resolve({ blocked, version: open.result.version });
        };
        open.onerror = () => reject(open.error);
      }),
  );
  expect(opened).toEqual({ blocked: false, version: 4 });

  const notice = page.getByTestId('storage-notice');
  await expect(notice).toHaveAttribute('data-kind', 'outdated');
  await expect(notice).toContainText(
    'This app was updated in another tab; reload to keep saving here',
  );
  await expect(page.getByTestId('storage-notice-reload')).toBeVisible();

  // This page no longer writes: a new command is refused with the reason, the input stays.
  await page.getByTestId('task-title').fill('typed after the update');
  await page.getByTestId('task-add').click();
  await expect(page.getByTestId('task-error')).toContainText('updated in another tab');
  await expect(page.getByTestId('task-title')).toHaveValue('typed after the update');

  // What it had saved is in the database the newer tab now owns.
  const keys = await newer.evaluate(
    () =>
      new Promise<string[]>((resolve, reject) => {
        const db = (window as unknown as { newDb: IDBDatabase }).newDb;
        const request = db.transaction('outbox').objectStore('outbox').getAllKeys();
        request.onsuccess = () => resolve(request.result as string[]);
        request.onerror = () => reject(request.error);
      }),
  );
  expect(keys).toContain(saved);
});
