/**
 * Crashes after mount: an app whose code traps or throws from the event loop (a click handler,
 * a timer), where no lifecycle call can catch it, is stopped (BROKEN) and replaced by its error
 * panel with "Try again". Nothing else is stopped: not another instance of the same app, not
 * the other apps, not the shell. An error no app's code threw stops nothing.
 */
import type { Page } from '@playwright/test';
import { test, expect, regions, servingRegion, waitForRegions } from './fixtures';
import { cdn } from './fixtures/cdn';
import type { RegionName } from './fixtures/stack';

let manifestBefore = '';
test.beforeEach(() => {
  manifestBefore = cdn.snapshot();
});
test.afterEach(() => {
  cdn.restore(manifestBefore);
});

/** Adds the faulty app to the sidebar as well, so it runs beside whatever the page shows. */
function faultyInSidebar() {
  const manifest = cdn.readManifest();
  manifest.apps.faulty.current.slots = [{ name: 'sidebar', order: 20 }];
  cdn.writeManifest(manifest);
}

/** Clicks `button` in `slot`; resolves with the ms until that slot shows its error panel. */
async function crashAndTime(page: Page, slot: string, button: string): Promise<number> {
  return page.evaluate(
    ([slot, button]) =>
      new Promise<number>((resolve, reject) => {
        const root = document.querySelector(`[data-testid="${slot}"]`)!;
        const start = performance.now();
        (root.querySelector(`[data-testid="${button}"]`) as HTMLElement).click();
        let polls = 0;
        const check = () => {
          if (root.querySelector('[data-testid="app-error"]')) resolve(performance.now() - start);
          else if (++polls > 5_000) reject(new Error(`${slot} never showed its error panel`));
          else setTimeout(check, 0);
        };
        check();
      }),
    [slot, button],
  );
}

async function count(page: Page, slot: string, expected: number) {
  const button = page.getByTestId(slot).getByTestId('faulty-count');
  await button.click();
  await expect(button).toHaveAttribute('data-count', String(expected));
}

test('a panic in a click handler stops only that app; the others keep working; Try again starts afresh', async ({
  page,
}) => {
  faultyInSidebar();
  await page.goto('/tasks');
  await waitForRegions(page);
  const side = page.getByTestId('app-slot-sidebar-faulty');
  await expect(side).toHaveAttribute('data-status', 'mounted');
  await count(page, 'app-slot-sidebar-faulty', 1);
  await count(page, 'app-slot-sidebar-faulty', 2);

  const ms = await crashAndTime(page, 'app-slot-sidebar-faulty', 'faulty-panic');
  console.log(`panic in a click handler → BROKEN error panel: ${ms.toFixed(1)} ms`);
  await expect(side).toHaveAttribute('data-status', 'broken');
  await expect(side.getByTestId('app-error-title')).toHaveText('faulty stopped after an error.');
  await expect(side.getByTestId('app-error-reason')).toContainText('Version 1.0.0: RuntimeError: unreachable');
  await expect(side.getByTestId('faulty-app')).toHaveCount(0);

  // The other apps are untouched: the tasks app dispatches a command that reaches a region,
  // and the catalog (same sidebar) still receives the typed event it publishes.
  await expect(page.getByTestId('app-slot-main')).toHaveAttribute('data-status', 'mounted');
  await expect(page.getByTestId('app-slot-sidebar-catalog')).toHaveAttribute('data-status', 'mounted');
  const serving = (await servingRegion(page)) as RegionName;
  await page.getByTestId('task-title').fill('after the crash');
  await page.getByTestId('task-add').click();
  const item = page.getByTestId('task-item').filter({ hasText: 'after the crash' });
  await expect(item).toHaveCount(1);
  const id = (await item.getAttribute('data-command-id'))!;
  await regions.waitFor(serving, (commands) => commands.some((c) => c.id === id && c.app === 'tasks'));
  await expect(page.getByTestId('catalog-summary-last')).toHaveText('Latest: after the crash');

  // The inspector shows the broken instance and the error, attributed to it.
  await page.getByTestId('nav-inspector').click();
  const row = page.getByTestId('inspector-row-sidebar-faulty');
  await expect(row).toHaveAttribute('data-status', 'broken');
  await expect(row.getByTestId('inspector-error')).toContainText('RuntimeError: unreachable');
  const crash = page.getByTestId('inspector-crash');
  await expect(crash).toHaveCount(1);
  await expect(crash).toHaveAttribute('data-app', 'faulty');
  await expect(crash).toHaveAttribute('data-stopped', 'true');
  await expect(crash).toContainText('faulty 1.0.0 in sidebar: stopped');

  // "Try again" mounts a fresh instance: new wasm memory, so the count starts over.
  await side.getByTestId('app-retry').click();
  await expect(side).toHaveAttribute('data-status', 'mounted');
  await expect(side.getByTestId('app-error')).toHaveCount(0);
  await count(page, 'app-slot-sidebar-faulty', 1);
});

test('two instances of one app: a throw and a timer panic each stop only the instance they came from', async ({
  page,
}) => {
  faultyInSidebar();
  await page.goto('/faulty');
  const main = page.getByTestId('app-slot-main');
  const side = page.getByTestId('app-slot-sidebar-faulty');
  await expect(main).toHaveAttribute('data-status', 'mounted');
  await expect(side).toHaveAttribute('data-status', 'mounted');
  await count(page, 'app-slot-sidebar-faulty', 1);

  const thrown = await crashAndTime(page, 'app-slot-main', 'faulty-throw');
  console.log(`JS error thrown from a click handler → BROKEN error panel: ${thrown.toFixed(1)} ms`);
  await expect(main).toHaveAttribute('data-status', 'broken');
  await expect(main.getByTestId('app-error-reason')).toContainText('faulty: click throws on purpose');
  // Same app, same compiled module, other instance: still running, its state intact.
  await expect(side).toHaveAttribute('data-status', 'mounted');
  await count(page, 'app-slot-sidebar-faulty', 2);

  const later = await crashAndTime(page, 'app-slot-sidebar-faulty', 'faulty-panic-later');
  console.log(`panic in a timer → BROKEN error panel: ${later.toFixed(1)} ms`);
  await expect(side).toHaveAttribute('data-status', 'broken');
  await expect(side.getByTestId('app-error-reason')).toContainText('RuntimeError: unreachable');

  await main.getByTestId('app-retry').click();
  await expect(main).toHaveAttribute('data-status', 'mounted');
  await count(page, 'app-slot-main', 1);
  await expect(side).toHaveAttribute('data-status', 'broken');
});

test('an error that no app threw stops no app', async ({ page }) => {
  await page.goto('/faulty');
  const main = page.getByTestId('app-slot-main');
  await expect(main).toHaveAttribute('data-status', 'mounted');
  await page.evaluate(async () => {
    // From the page's own script, as a rejection, and from a blob: module that is no app.
    setTimeout(() => {
      throw new Error('thrown by page code');
    });
    void Promise.reject(new Error('rejected by page code'));
    const source = 'setTimeout(() => { throw new Error("thrown by an unknown module"); });';
    const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
    await import(url);
  });
  await page.getByTestId('nav-inspector').click();
  const crashes = page.getByTestId('inspector-crash');
  await expect(crashes).toHaveCount(3);
  for (const crash of await crashes.all()) {
    await expect(crash).toHaveAttribute('data-app', '');
    await expect(crash).toHaveAttribute('data-stopped', 'false');
    await expect(crash).toContainText('Not from any app: no app was stopped');
  }
  await expect(page.getByTestId('inspector-row-main-faulty')).toHaveAttribute('data-status', 'not_mounted');
  await page.getByTestId('nav-faulty').click();
  await expect(main).toHaveAttribute('data-status', 'mounted');
  await count(page, 'app-slot-main', 1);
});
