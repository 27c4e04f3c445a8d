/**
 * The test stack's CDN folder: a fresh copy of what scripts/build published for the product
 * (var/cdn/) plus every app that exists only for tests (tests/apps/, e.g. `faulty`). So the
 * dev stack (scripts/run) never lists a test app, and what the tests publish or break never
 * touches the dev stack's folder. Runs once, after the simulator started (it reads the folder
 * on every request).
 */
import fs from 'node:fs';
import path from 'node:path';
import { cdn } from './fixtures/cdn';
import { STACK } from './fixtures/stack';

const TEST_APPS = 'tests/apps';

export default function globalSetup() {
  const from = STACK.productCdnDir;
  if (!fs.existsSync(path.join(from, 'manifest.json'))) {
    throw new Error(`${from}/manifest.json is missing: run scripts/build first`);
  }
  if (path.resolve(from) === path.resolve(STACK.cdnDir)) {
    throw new Error(`the test CDN (${STACK.cdnDir}) must not be the product CDN (${from})`);
  }
  fs.rmSync(STACK.cdnDir, { recursive: true, force: true });
  fs.cpSync(from, STACK.cdnDir, { recursive: true });
  for (const app of fs.readdirSync(TEST_APPS).sort()) {
    if (fs.existsSync(path.join(TEST_APPS, app, 'Cargo.toml'))) cdn.publishAsIs(path.join(TEST_APPS, app));
  }
}
