/**
 * The deployment's micro-app runtime settings (`regions.json`, `"runtime"`): lifecycle timeouts
 * and the retry schedule. They bound the page's first attempt whichever module makes it (the
 * boot module, or the shell when the boot module could not start), and settings that cannot be
 * used are said so in plain words while everything else keeps working on the defaults. Router
 * times past what a browser timer can wait are held to a day.
 */
import type { Page } from '@playwright/test';
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

/** This stack's `regions.json` with `runtime` as its `"runtime"` settings. */
async function withRuntime(page: Page, runtime: Record<string, unknown>) {
  await withRegionsFile(page, (body) => {
    body.runtime = runtime;
  });
}

/** This stack's `regions.json`, changed by `edit`. */
async function withRegionsFile(page: Page, edit: (body: Record<string, unknown>) => void) {
  await page.route('**/regions.json', async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    edit(body);
    await route.fulfill({ response, json: body });
  });
}

// A deployment may set the micro apps' lifecycle timeouts in `regions.json` (`"runtime"`).
// They hold from the page's first attempt on, whichever module makes it: the boot module, or
// the shell when the boot module could not start (its files blocked here).
for (const [who, version] of [
  ['boot module', '2.1.0'],
  ['shell', '2.2.0'],
] as const) {
  test(`the deployment's mount timeout bounds the first attempt, made by the ${who}`, async ({
    page,
  }) => {
    cdn.publish('tests/apps/faulty', 'faulty', version, 'hang-mount');
    await withRuntime(page, { mount_ms: 1500 });
    if (who === 'shell') await page.route('**/boot/**', (route) => route.abort());
    await page.goto('/faulty');
    const slot = page.getByTestId('app-slot-main');
    await expect(slot).toHaveAttribute('data-rolled-back', 'true', { timeout: 15_000 });
    await expect(page.getByTestId('faulty-app')).toHaveAttribute('data-version', '1.0.0');
    // The default would say 3 s.
    await expect(page.getByTestId('app-rollback-notice')).toContainText(
      `because ${version} failed: mount() did not finish within 1.5 s`,
    );
    const stage = await page.evaluate(async () => {
      const handoff = await (window as unknown as { __mfeBoot?: Promise<{ stage?: string } | null> })
        .__mfeBoot;
      return handoff ? handoff.stage : null;
    });
    expect(stage).toBe(who === 'shell' ? null : 'mount');
  });
}

test('settings a browser timer cannot keep are refused in plain words; apps and delivery go on', async ({
  page,
  consoleErrors,
}) => {
  // 3,000,000,000 ms is past what setTimeout can wait (2^31 - 1 ms): taken as it is, every load
  // would "time out" at once.
  await withRuntime(page, { load_ms: 3_000_000_000 });
  await page.goto('/tasks');
  const notice = page.getByTestId('settings-notice');
  await expect(notice).toContainText('"runtime" in regions.json is invalid: 3000000000 ms is not a usable time');
  await expect(notice).toContainText('Apps run with the default time limits.');
  const slot = page.getByTestId('app-slot-main');
  await expect(slot).toHaveAttribute('data-status', 'mounted');
  // Apps the shell loads itself (the sidebar's, and one navigated to) load on the defaults.
  await expect(page.getByTestId('app-slot-sidebar-catalog')).toHaveAttribute('data-status', 'mounted');
  await page.getByTestId('nav-notes').click();
  await expect(page.getByTestId('notes-app')).toBeVisible();
  await expect(slot).toHaveAttribute('data-status', 'mounted');
  await expect(slot).not.toHaveAttribute('data-rolled-back', 'true');
  // The regions in the same file are used: a command reaches every region once.
  await page.getByTestId('nav-tasks').click();
  await waitForRegions(page);
  const id = await addTask(page, 'sent with unusable settings');
  expectOncePerId(await everywhere([id]), [id]);
  expect(consoleErrors).toEqual([]);
});

test('router times past what a browser timer can wait are held to a day: regions stay up, commands go', async ({
  page,
  consoleErrors,
}) => {
  // Taken as they are, every probe would time out at once (so every region would go down),
  // and the hedge's wait could not even be set (a timer takes at most u32 ms).
  await withRegionsFile(page, (body) => {
    body.router = {
      ...(body.router as Record<string, unknown> | undefined),
      probe_timeout_ms: 3_000_000_000,
      hedge_min_ms: 10_000_000_000_000,
      hedge_max_ms: 10_000_000_000_000,
    };
  });
  await page.goto('/tasks');
  await waitForRegions(page);
  const id = await addTask(page, 'sent with day-long router times');
  expectOncePerId(await everywhere([id]), [id]);
  await expect(page.getByTestId('task-item').filter({ hasText: 'sent with day-long router times' })).toHaveAttribute(
    'data-status',
    'delivered',
  );
  expect(consoleErrors).toEqual([]);
});
