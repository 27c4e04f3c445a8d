/**
 * The team guide, followed literally: every command block of docs/micro-apps.md runs, in the
 * order written, in a temporary folder — `new` → `dev` → `test` → `publish` → the shell mounts
 * the app → publish v2 → `rollback` → v1 mounted again → `remove` → gone, with the other apps
 * undisturbed. The shell is served from a copy of the built CDN, so the dev stack's own tree is
 * never touched.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test, expect, Page } from '@playwright/test';
import { mountedVersion, openApp, startStack, Stack } from '../kit';
import { GuideStep, readGuide } from './guide';

const repo = path.resolve(__dirname, '..', '..');
const steps = readGuide(path.join(repo, 'docs', 'micro-apps.md'));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mfe-guide-'));
const cdn = path.join(work, 'cdn');

function env(): NodeJS.ProcessEnv {
  return { ...process.env, MFE_SHELL: repo, MFE_CDN: cdn };
}

function step(name: string): GuideStep {
  const found = steps.find((s) => s.name === name);
  if (!found) throw new Error(`docs/micro-apps.md has no "# step: ${name}" block`);
  return found;
}

/** The setup block, then the step's own commands, in one bash with errors fatal. */
function script(s: GuideStep): string {
  return `set -euo pipefail\n${step('setup').script}\ncd ${JSON.stringify(path.join(work, s.dir))}\n${s.script}`;
}

function run(name: string): string {
  const s = step(name);
  try {
    return execFileSync('bash', ['-c', script(s)], {
      env: env(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 20 * 60_000,
    });
  } catch (e) {
    const out = (e as { stdout?: string }).stdout ?? '';
    throw new Error(`guide step "${name}" failed: ${(e as Error).message}\n${out.slice(-6000)}`);
  }
}

async function expectMounted(page: Page, version: string) {
  await openApp(page, `${stack.baseURL}/hello`, 'hello');
  await expect.poll(() => mountedVersion(page, 'hello')).toBe(version);
  await expect(page.getByTestId('hello-version')).toHaveText(version);
}

let stack: Stack;

test.beforeAll(() => {
  fs.cpSync(path.join(repo, 'var', 'cdn'), cdn, { recursive: true });
});

test.afterAll(async () => {
  await stack?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test('docs/micro-apps.md, command by command', async ({ page }) => {
  const ran = new Set<string>();
  const mark = (name: string) => ran.add(name);

  await test.step('set up and build the kit', () => {
    run('kit');
    mark('setup');
    mark('kit');
  });
  stack = await startStack({ shell: repo, cdnDir: cdn, port: 47080 });
  const before = JSON.parse(fs.readFileSync(path.join(cdn, 'manifest.json'), 'utf8'));

  await test.step('new: the app is created from the template', () => {
    run('new');
    mark('new');
    expect(fs.existsSync(path.join(work, 'hello', 'Cargo.toml'))).toBe(true);
    expect(fs.existsSync(path.join(work, 'hello', 'tests', 'e2e', 'hello.spec.ts'))).toBe(true);
  });

  await test.step('dev: the app runs alone with the mock host', async () => {
    const s = step('dev');
    expect(s.background).toBe(true);
    const server = spawn('bash', ['-c', script(s)], { env: env(), stdio: ['ignore', 'inherit', 'inherit'], detached: true });
    try {
      const dev = await page.context().newPage();
      const deadline = Date.now() + 15 * 60_000;
      let up = false;
      while (!up && Date.now() < deadline && server.exitCode === null) {
        up = await fetch('http://127.0.0.1:8700/__dev/status', { signal: AbortSignal.timeout(1_000) })
          .then((r) => r.ok)
          .catch(() => false);
        if (!up) await new Promise((r) => setTimeout(r, 500));
      }
      expect(up, 'mfe dev serves on port 8700').toBe(true);
      await dev.goto('http://127.0.0.1:8700/');
      await expect(dev.getByTestId('dev-build')).toHaveText(/1\.0\.0 · build 1/);
      await dev.getByTestId('hello-text').fill('from the dev page');
      await dev.getByTestId('hello-send').click();
      await expect(dev.getByTestId('hello-item')).toHaveAttribute('data-status', 'pending');
      await expect(dev.getByTestId('dev-log')).toContainText('hello.greet');
      await dev.getByTestId('dev-deliver').click();
      await expect(dev.getByTestId('hello-item')).toHaveAttribute('data-status', 'delivered');
      await expect(dev.getByTestId('hello-region')).toContainText('greeting(s) in mock-region');
      await dev.close();
    } finally {
      if (server.pid) process.kill(-server.pid, 'SIGTERM');
    }
    mark('dev');
  });

  await test.step("test: the template's own tests pass as generated", () => {
    run('test');
    mark('test');
  });

  await test.step('publish: the shell mounts hello 1.0.0', async () => {
    run('publish');
    mark('publish');
    await expectMounted(page, '1.0.0');
  });

  await test.step('publish v2: the shell mounts hello 1.1.0', async () => {
    run('publish-v2');
    mark('publish-v2');
    await expectMounted(page, '1.1.0');
  });

  await test.step('rollback: hello 1.0.0 is mounted again', async () => {
    run('rollback');
    mark('rollback');
    await expectMounted(page, '1.0.0');
  });

  await test.step('remove: hello is gone, the other apps are not disturbed', async () => {
    run('remove');
    mark('remove');
    await page.goto(`${stack.baseURL}/hello`);
    await expect(page.getByTestId('page-notice')).toHaveText('Nothing is published at /hello.');
    const after = JSON.parse(fs.readFileSync(path.join(cdn, 'manifest.json'), 'utf8'));
    expect(Object.keys(after.apps).sort()).toEqual(Object.keys(before.apps).sort());
    for (const name of Object.keys(before.apps)) {
      expect(after.apps[name], `${name} untouched`).toEqual(before.apps[name]);
    }
    await openApp(page, `${stack.baseURL}/tasks`, 'tasks');
  });

  await test.step('list', () => {
    const listing = run('list');
    mark('list');
    expect(listing).not.toContain('hello');
  });

  expect([...ran].sort(), 'every command block of the guide ran').toEqual(steps.map((s) => s.name).sort());
});
