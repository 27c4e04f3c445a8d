/**
 * The boot module end to end: the page's routed app shows in the boot module's frame before
 * the shell has started, the shell takes that running app over instead of loading it again,
 * and the app works through the shell afterwards (a command made in it reaches the regions
 * once). Failures of the first attempt are covered by the runtime spec's rollback scenarios,
 * where the boot module makes that attempt, and the deployment's timeouts bounding it by the
 * settings spec.
 */
import { test, expect, addTask, waitForRegions } from './fixtures';
import { cdn } from './fixtures/cdn';
import { everywhere, expectOncePerId } from './fixtures/delivery';

// Every test starts from, and leaves, the manifest the stack was published with.
let manifestBefore = '';
test.beforeEach(() => {
  manifestBefore = cdn.snapshot();
});
test.afterEach(() => {
  cdn.restore(manifestBefore);
});

type Seen = { appInBootFrame: boolean; shellFrameShown: boolean };

test('the routed app shows before the shell, which takes it over without loading it again', async ({
  page,
  consoleErrors,
}) => {
  // What the page looked like when the app's DOM first appeared.
  await page.addInitScript(() => {
    const w = window as unknown as { __firstSight?: Seen };
    new MutationObserver((_, observer) => {
      if (!document.querySelector('[data-testid=tasks-app]')) return;
      w.__firstSight = {
        appInBootFrame: !!document.querySelector('#mfe-boot [data-testid=tasks-app]'),
        shellFrameShown:
          !!document.querySelector('[data-testid=shell-nav]') &&
          !document.documentElement.classList.contains('booting'),
      };
      observer.disconnect();
    }).observe(document, { subtree: true, childList: true });
  });
  const appRequests: string[] = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith('/apps/tasks/')) appRequests.push(path);
  });

  await page.goto('/tasks');
  const slot = page.getByTestId('app-slot-main');
  await expect(slot).toHaveAttribute('data-status', 'mounted');
  await expect(slot).toHaveAttribute('data-app', 'tasks');

  // The app was on screen in the boot module's frame, with the shell's frame still hidden.
  const firstSight = await page.evaluate(() => (window as unknown as { __firstSight?: Seen }).__firstSight);
  expect(firstSight).toEqual({ appInBootFrame: true, shellFrameShown: false });
  const stage = await page.evaluate(async () => {
    const handoff = await (window as unknown as { __mfeBoot?: Promise<{ stage: string } | null> }).__mfeBoot;
    return handoff?.stage ?? null;
  });
  expect(stage).toBe('mounted');

  // Taken over, not loaded again: each of the app's files was asked for once, the app is on
  // screen once, in the shell's slot, and the boot frame is gone.
  expect(appRequests.length).toBeGreaterThan(0);
  expect(new Set(appRequests).size).toBe(appRequests.length);
  await expect(page.locator('#mfe-boot')).toHaveCount(0);
  await expect(page.locator('html')).not.toHaveClass(/booting/);
  await expect(page.getByTestId('shell-nav')).toBeVisible();
  await expect(page.getByTestId('tasks-app')).toHaveCount(1);
  await expect(slot.getByTestId('tasks-app')).toBeVisible();
  // The shell measured it like any app it loads (the inspector's numbers).
  await expect(slot).toHaveAttribute('data-bytes', /^[1-9][0-9]*$/);

  // The host the app got from the boot module now reaches the shell's outbox.
  await waitForRegions(page);
  const id = await addTask(page, 'made in the adopted app');
  expectOncePerId(await everywhere([id]), [id]);
  await expect(page.getByTestId('task-item').filter({ hasText: 'made in the adopted app' })).toHaveAttribute(
    'data-status',
    'delivered',
  );

  // Away and back: the adopted instance is the pooled one, so no file is asked for again.
  const before = appRequests.length;
  await page.getByRole('link', { name: 'Home' }).click();
  await expect(page.getByTestId('home')).toBeVisible();
  await page.getByTestId('nav-tasks').click();
  await expect(slot).toHaveAttribute('data-status', 'mounted');
  // The task is now among those the app reads from the region.
  await expect(slot.getByRole('listitem').filter({ hasText: 'made in the adopted app' })).toBeVisible();
  expect(appRequests.length).toBe(before);
  expect(consoleErrors).toEqual([]);
});

test('on the shell’s own pages the boot module stands aside', async ({ page, consoleErrors }) => {
  await page.goto('/');
  await expect(page.getByTestId('home')).toBeVisible();
  const handoff = await page.evaluate(async () => await (window as unknown as { __mfeBoot?: Promise<unknown> }).__mfeBoot);
  expect(handoff).toBeNull();
  await expect(page.locator('#mfe-boot')).toHaveCount(0);
  await expect(page.locator('html')).not.toHaveClass(/booting/);
  expect(consoleErrors).toEqual([]);
});

test('a manifest nested far too deep: the boot module stands aside, the shell falls back to the last good one', async ({
  page,
  consoleErrors,
}) => {
  await page.goto('/tasks');
  await expect(page.getByTestId('app-slot-main')).toHaveAttribute('data-status', 'mounted');
  // Valid JSON at the top, then 100,000 nested arrays: more than any parser here may recurse.
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  cdn.restore(manifestBefore.replace(/^\{/, `{"deep": ${deep},`));
  await page.reload();
  await expect(page.getByTestId('manifest-notice')).toBeVisible();
  await expect(page.getByTestId('app-slot-main')).toHaveAttribute('data-status', 'mounted');
  await expect(page.getByTestId('tasks-app')).toBeVisible();
  const handoff = await page.evaluate(async () => await (window as unknown as { __mfeBoot?: Promise<unknown> }).__mfeBoot);
  expect(handoff).toBeNull();
  await expect(page.locator('#mfe-boot')).toHaveCount(0);
  expect(consoleErrors).toEqual([]);
});
