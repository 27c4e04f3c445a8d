/**
 * The walking skeleton end to end: the shell boots, loads the tasks micro app at run time on
 * its route, and a command travels app → host.dispatch → IndexedDB → POST /commands → a region.
 */
import { test, expect, regions, servingRegion, waitForRegions, addTask } from './fixtures';
import type { RegionName } from './fixtures/stack';

test('the shell boots and mounts the tasks app on its route without console errors', async ({
  page,
  consoleErrors,
}) => {
  await page.goto('/');
  await expect(page.getByTestId('home')).toBeVisible();
  await page.getByTestId('nav-tasks').click();
  await expect(page).toHaveURL(/\/tasks$/);
  const slot = page.getByTestId('app-slot-main');
  await expect(slot).toHaveAttribute('data-status', 'mounted');
  await expect(slot).toHaveAttribute('data-app', 'tasks');
  await expect(page.getByTestId('tasks-app').getByRole('heading', { name: 'Tasks' })).toBeVisible();

  // Leaving the route unmounts the app: its DOM is gone.
  await page.getByRole('link', { name: 'Home' }).click();
  await expect(page.getByTestId('tasks-app')).toHaveCount(0);
  // A deep link works too (the simulator falls back to index.html).
  await page.goto('/tasks');
  await expect(page.getByTestId('tasks-app')).toBeVisible();
  expect(consoleErrors).toEqual([]);
});

test('a submitted command reaches one region exactly once, keyed by its id', async ({
  page,
  consoleErrors,
}) => {
  await page.goto('/tasks');
  await waitForRegions(page);
  const serving = (await servingRegion(page)) as RegionName;
  expect(regions.names).toContain(serving);

  const id = await addTask(page, 'buy milk');
  const stored = await regions.waitFor(serving, (cmds) => cmds.some((c) => c.id === id));
  const matches = stored.filter((c) => c.id === id);
  expect(matches).toHaveLength(1);
  expect(matches[0]).toMatchObject({
    kind: 'task.add',
    stream: 'tasks',
    app: 'tasks',
    payload: { title: 'buy milk' },
    region: serving,
  });
  // The region received the key once (one POST), and replication copies it everywhere once.
  for (const name of regions.names) {
    const copy = await regions.waitFor(name, (cmds) => cmds.some((c) => c.id === id));
    expect(copy.filter((c) => c.id === id)).toHaveLength(1);
  }
  await expect(page.getByTestId('outbox-pending')).toHaveAttribute('data-count', '0');
  expect(consoleErrors).toEqual([]);
});

test('a region taken down shows as down within 10 s and the next command goes elsewhere', async ({
  page,
}) => {
  await page.goto('/tasks');
  await waitForRegions(page);
  const first = (await servingRegion(page)) as RegionName;

  await regions.down(first);
  await expect(page.getByTestId(`region-${first}`)).toHaveAttribute('data-state', 'down', {
    timeout: 10_000,
  });
  const next = (await servingRegion(page)) as RegionName;
  expect(next).not.toBe(first);

  const id = await addTask(page, 'after failover');
  const stored = await regions.waitFor(next, (cmds) => cmds.some((c) => c.id === id));
  expect(stored.filter((c) => c.id === id)).toHaveLength(1);
  expect(stored.find((c) => c.id === id)!.region).toBe(next);
  await regions.up(first);
});

test('navigating to the page already open keeps its app on screen', async ({ page }) => {
  await page.goto('/notes');
  await expect(page.getByTestId('notes-app')).toBeVisible();
  await page.getByTestId('nav-tasks').click();
  await expect(page.getByTestId('tasks-app')).toBeVisible();
  // A click on the page already open, past the manifest refresh interval: the app stays.
  await page.waitForTimeout(3_500);
  await page.getByTestId('nav-tasks').click();
  await page.waitForTimeout(500);
  await expect(page.getByTestId('tasks-app')).toBeVisible();
  await expect(page.getByTestId('task-title')).toBeEditable();
});

test('links move between pages without reloading, mark where you are, and follow back and forward', async ({
  page,
  consoleErrors,
}) => {
  await page.goto('/');
  await expect(page.getByTestId('home')).toBeVisible();
  await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
  const home = page.getByRole('link', { name: 'Home' });
  await expect(home).toHaveAttribute('aria-current', 'page');

  await page.getByTestId('nav-tasks').click();
  await expect(page).toHaveURL(/\/tasks$/);
  await expect(page.getByTestId('tasks-app')).toBeVisible();
  await expect(page.getByTestId('nav-tasks')).toHaveAttribute('aria-current', 'page');
  await expect(home).not.toHaveAttribute('aria-current', /.*/);

  // From the keyboard.
  await page.getByTestId('nav-notes').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('notes-app')).toBeVisible();
  await expect(page.getByTestId('nav-notes')).toHaveAttribute('aria-current', 'page');
  await expect(page.getByTestId('nav-tasks')).not.toHaveAttribute('aria-current', /.*/);

  await page.goBack();
  await expect(page).toHaveURL(/\/tasks$/);
  await expect(page.getByTestId('tasks-app')).toBeVisible();
  await expect(page.getByTestId('notes-app')).toHaveCount(0);
  await page.goForward();
  await expect(page.getByTestId('notes-app')).toBeVisible();

  // The skip link moves to the content, as the browser does it, without leaving the page:
  // the next Tab lands inside the main area.
  await page.getByRole('link', { name: 'Skip to content' }).focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/notes#main$/);
  await expect(page.getByTestId('notes-app')).toBeVisible();
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement?.closest('main') !== null)).toBe(true);

  expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
  expect(consoleErrors).toEqual([]);
});
