import { defineConfig } from '@playwright/test';
import { chromium } from './tests/kit/browser';
import { STACK } from './tests/e2e/fixtures/stack';

/**
 * End-to-end tests against the real stack: the region simulator serves the shell (dist/),
 * the published micro apps (var/cdn/ copied to var/e2e-cdn/ with the test-only apps added)
 * and three regions. `scripts/test` builds all of it first; the web server here only starts
 * the simulator, on ports apart from the dev stack's.
 */
export default defineConfig({
  testDir: 'tests/e2e',
  // Builds the stack's CDN folder: the product's apps plus the test-only ones (tests/apps/).
  globalSetup: './tests/e2e/global-setup.ts',
  outputDir: process.env.E2E_OUTPUT_DIR ?? 'test-results',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    baseURL: STACK.baseURL,
    ...chromium,
    trace: 'retain-on-failure',
  },
  webServer: {
    command: STACK.command,
    url: `${STACK.baseURL}/regions.json`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
