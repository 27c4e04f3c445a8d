/**
 * The configuration `mfe test` runs a micro app's own Playwright tests with: the app's
 * `tests/e2e/` folder, the shell's Playwright and Chromium, one worker (the stack fixture
 * owns fixed ports).
 */
import { defineConfig } from '@playwright/test';
import { chromium } from './browser';

const testDir = process.env.MFE_APP_TESTS;
if (!testDir) throw new Error('MFE_APP_TESTS is not set: run the tests with `mfe test`');

export default defineConfig({
  testDir,
  outputDir: process.env.MFE_TEST_OUTPUT ?? 'test-results',
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    ...chromium,
    trace: 'retain-on-failure',
  },
});
