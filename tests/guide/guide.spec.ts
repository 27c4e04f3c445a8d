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
/** Servers started by `background` steps, stopped at the end whatever happens. */
const running: { stop(): Promise<void> }[] = [];

/** Starts a `background` step (a server) and waits, at most 15 min (it may build first), until
 * `readyUrl` answers; `stop()` ends it and everything it started. */
async function background(name: string, readyUrl: string): Promise<{ stop(): Promise<void> }> {
  const s = step(name);
  expect(s.background, `step ${name} is marked background`).toBe(true);
  const server = spawn('bash', ['-c', script(s)], {
    env: env(),
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  const exited = new Promise((resolve) => server.on('exit', resolve));
  const stop = async () => {
    try {
      if (server.pid && server.exitCode === null) process.kill(-server.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  };
  const deadline = Date.now() + 15 * 60_000;
  while (Date.now() < deadline && server.exitCode === null) {
    const up = await fetch(readyUrl, { signal: AbortSignal.timeout(1_000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (up) {
      running.push({ stop });
      return { stop };
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  await stop();
  throw new Error(`guide step "${name}" never answered on ${readyUrl}`);
}

test.beforeAll(() => {
  fs.cpSync(path.join(repo, 'var', 'cdn'), cdn, { recursive: true });
});

test.afterAll(async () => {
  try {
    for (const server of running) await server.stop();
  } finally {
    await stack?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
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

  const devServer = await background('dev', 'http://127.0.0.1:8700/__dev/status');
  await test.step('dev: the app runs alone with the mock host', async () => {
    const dev = await page.context().newPage();
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

  await test.step('the local build inside a debug shell, through a dev override', async () => {
    run('allow-origin');
    run('dev-shell');
    const devShell = await background('dev-shell-serve', 'http://127.0.0.1:8180/regions.json');
    try {
      const shell = await page.context().newPage();
      await shell.goto('http://127.0.0.1:8180/');
      await shell.evaluate(() =>
        localStorage.setItem('mfe.override.hello', 'http://127.0.0.1:8700/mfe.json'),
      );
      await openApp(shell, 'http://127.0.0.1:8180/hello', 'hello');
      await shell.getByTestId('nav-inspector').click();
      await expect(
        shell.getByTestId('inspector-row-main-hello').getByTestId('inspector-source'),
      ).toContainText('http://127.0.0.1:8700/apps/hello/1.0.0/');
      // The local build carries the published number: it is labelled apart, so its fallback
      // is the published build.
      await expect(
        shell.getByTestId('inspector-row-main-hello').getByTestId('inspector-version'),
      ).toHaveText('1.0.0+dev');
      await shell.close();
    } finally {
      await devShell.stop();
      await devServer.stop();
    }
    for (const name of ['allow-origin', 'dev-shell', 'dev-shell-serve']) mark(name);
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
