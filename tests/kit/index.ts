/**
 * Playwright fixtures for micro-app teams (`import { test, expect } from 'mfe-shell-testing'`).
 *
 * - `stack`: the shell, the apps in `$MFE_TEST_CDN` and three regions, started once per worker
 *   (`mfe test` publishes your app there and sets everything up).
 * - `shell.open(route)`: opens the shell on your app's route and waits until it is mounted.
 * - `regions`: `down`/`up`/`faults`, and `commands(region)` to assert on what a region stored.
 * - `network.offline()` / `network.online()`: cut and restore the page's network.
 * - `outbox.read()`: what the page holds in its durable outbox.
 *
 * Every test starts with the regions up, faults off and the stores empty.
 */
import { test as base, expect, Page } from '@playwright/test';
import type { Regions } from './regions';
import { OpenedApp, openApp, mountedVersion, OutboxRecord, readOutbox } from './shell';
import { Stack, startStack } from './stack';

export { expect, openApp, mountedVersion, readOutbox, startStack };
export type { OpenedApp, OutboxRecord, Regions, Stack };
export { REGION_NAMES } from './stack';
export type { RegionName } from './stack';

export interface ShellFixture {
  open(route: string, name?: string): Promise<OpenedApp>;
  page: Page;
}

type TestFixtures = {
  shell: ShellFixture;
  regions: Regions;
  network: { offline(): Promise<void>; online(): Promise<void> };
  outbox: { read(): Promise<OutboxRecord[]> };
};

export const test = base.extend<TestFixtures, { stack: Stack }>({
  stack: [
    async ({}, use) => {
      const stack = await startStack();
      await use(stack);
      await stack.stop();
    },
    { scope: 'worker' },
  ],
  baseURL: async ({ stack }, use) => use(stack.baseURL),
  regions: async ({ stack }, use) => {
    await stack.regions.reset();
    await use(stack.regions);
  },
  shell: async ({ page, regions: _ }, use) =>
    use({ page, open: (route, name) => openApp(page, route, name) }),
  network: async ({ context }, use) =>
    use({ offline: () => context.setOffline(true), online: () => context.setOffline(false) }),
  outbox: async ({ page }, use) => use({ read: () => readOutbox(page) }),
});
