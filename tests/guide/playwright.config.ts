/**
 * Runs docs/micro-apps.md literally (see guide.spec.ts): one long test, its own stack on ports
 * apart from the main suite's (47080…) and the nested `mfe test` run's (48080…).
 */
import { defineConfig } from '@playwright/test';
import { chromium } from '../kit/browser';

export default defineConfig({
  testDir: '.',
  outputDir: process.env.GUIDE_OUTPUT_DIR ?? '../../test-results/guide',
  workers: 1,
  retries: 0,
  timeout: 40 * 60_000,
  expect: { timeout: 20_000 },
  reporter: [['list']],
  use: {
    ...chromium,
    trace: 'retain-on-failure',
  },
});
