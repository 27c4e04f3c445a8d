/**
 * What a test does with the shell page: open an app's route and wait until the runtime has
 * mounted it, read its state, and read the page's outbox straight from IndexedDB.
 */
import { expect, Locator, Page } from '@playwright/test';

export interface OpenedApp {
  /** The element the app renders into: query the app's own `data-testid`s inside it. */
  root: Locator;
  /** The shell's slot around it (`data-status`, `data-version`, `data-rolled-back`). */
  slot: Locator;
}

/**
 * Navigates to `route` and waits until the app `name` (default: the route's first segment) is
 * mounted in the main slot. Fails with the shell's own explanation if it cannot be.
 */
export async function openApp(page: Page, route: string, name?: string): Promise<OpenedApp> {
  const app = name ?? route.split('/').filter(Boolean)[0];
  await page.goto(route);
  const slot = page.locator(`[data-testid="app-slot-main"][data-app="${app}"]`);
  await expect(slot, `app ${app} mounted on ${route}`).toHaveAttribute('data-status', 'mounted', {
    timeout: 20_000,
  });
  return { root: page.getByTestId(`app-root-${app}`), slot };
}

/** The version of `name` the shell has mounted on the open page ('' while none). */
export async function mountedVersion(page: Page, name: string): Promise<string> {
  const slot = page.locator(`[data-testid="app-slot-main"][data-app="${name}"][data-status="mounted"]`);
  return (await slot.count()) ? ((await slot.getAttribute('data-version')) ?? '') : '';
}

export interface OutboxRecord {
  id: string;
  stream: string;
  seq: number;
  app: string;
  status: 'pending' | 'inflight' | 'delivered' | 'dead';
  attempts: number;
  last_error: string | null;
  dead_reason: string | null;
}

/** Every record in the page's durable outbox (read straight from IndexedDB). */
export async function readOutbox(page: Page): Promise<OutboxRecord[]> {
  return page.evaluate(
    () =>
      new Promise<OutboxRecord[]>((resolve, reject) => {
        const open = indexedDB.open('mfe-shell');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('outbox')) {
            db.close();
            resolve([]);
            return;
          }
          const request = db.transaction('outbox').objectStore('outbox').getAll();
          request.onsuccess = () => {
            db.close();
            resolve(request.result as OutboxRecord[]);
          };
          request.onerror = () => reject(request.error);
        };
      }),
  );
}
