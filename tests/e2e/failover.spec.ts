/**
 * Regional routing and failover as the user sees it, with real outcomes read from every
 * region's store: refused, black-holed and kill-switched regions, latency changes with
 * hysteresis, recovery, a total outage, ambiguous failures, and a chaos run.
 */
import type { Page, Request } from '@playwright/test';
import { test, expect, regions, servingRegion, waitForRegions, addTask } from './fixtures';
import type { RegionName } from './fixtures/stack';
import type { StoredCommand } from './fixtures/regions';

const COMMAND_URL = /\/commands(:batch)?$/;

async function delivered(page: Page, title: string, timeout = 20_000) {
  await expect(page.getByTestId('task-item').filter({ hasText: title })).toHaveAttribute(
    'data-status',
    'delivered',
    { timeout },
  );
}

/** Which region first accepted `id`, and when (ms since epoch, server clock). */
async function acceptedBy(id: string): Promise<StoredCommand | undefined> {
  for (const name of regions.names) {
    const stored = await regions.commands(name).catch(() => [] as StoredCommand[]);
    const found = stored.find((c) => c.id === id && c.region === name);
    if (found) return found;
  }
  return undefined;
}

function regionOf(url: string): RegionName | undefined {
  const port = Number(new URL(url).port);
  return regions.names.find((name) => Number(new URL(regions.url(name)).port) === port);
}

/** Records when each command request to each region ended, and how. */
function watchCommands(page: Page) {
  const events: { at: number; region?: RegionName; ok: boolean }[] = [];
  const record = (request: Request, ok: boolean) => {
    if (request.method() === 'POST' && COMMAND_URL.test(request.url())) {
      events.push({ at: Date.now(), region: regionOf(request.url()), ok });
    }
  };
  page.on('requestfailed', (r) => record(r, false));
  page.on('requestfinished', (r) => record(r, true));
  return events;
}

/** This stack's router settings (from `regions.json`) with `overrides` on top. */
async function overrideRouter(page: Page, overrides: Record<string, number>) {
  await page.route('**/regions.json', async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    body.router = { ...(body.router ?? {}), ...overrides };
    await route.fulfill({ response, json: body });
  });
}

async function everywhereOnce(ids: string[], timeoutMs = 30_000) {
  for (const name of regions.names) {
    const stored = await regions.waitFor(
      name,
      (cmds) => ids.every((id) => cmds.some((c) => c.id === id)),
      timeoutMs,
    );
    for (const id of ids) expect(stored.filter((c) => c.id === id), `${name} ${id}`).toHaveLength(1);
  }
}

test('the current region refused: the next command is acknowledged elsewhere within 100 ms', async ({
  page,
}) => {
  await page.goto('/tasks');
  await waitForRegions(page);
  const first = (await servingRegion(page)) as RegionName;
  await delivered(page, (await addTask(page, 'warm up'), 'warm up'));
  const events = watchCommands(page);

  await regions.down(first);
  const clicked = Date.now();
  const id = await addTask(page, 'after refusal');
  await delivered(page, 'after refusal');
  const refused = events.find((e) => e.region === first && !e.ok);
  const acked = events.find((e) => e.region !== first && e.ok);
  expect(refused, 'a request hit the dead region').toBeTruthy();
  expect(acked, 'another region acknowledged').toBeTruthy();
  // Negative when a hedge was acknowledged before the refusal even surfaced.
  const gap = acked!.at - refused!.at;
  console.log(
    `failover after refusal: acknowledged by ${acked!.region} ${gap} ms after ${first} ` +
      `refused (${acked!.at - clicked} ms after the click)`,
  );
  expect(gap).toBeLessThan(100);
  expect((await acceptedBy(id))?.region).not.toBe(first);
  await expect(page.getByTestId('current-region')).not.toHaveAttribute('data-region', first);
  await expect(page.getByTestId(`region-${first}`)).toHaveAttribute('data-cause', 'unreachable');
});

test('the current region black-holed: with hedging the command lands elsewhere within about p95 + 100 ms', async ({
  page,
}) => {
  await page.goto('/tasks');
  await waitForRegions(page);
  const first = (await servingRegion(page)) as RegionName;
  for (let i = 0; i < 10; i++) await delivered(page, (await addTask(page, `p95 ${i}`), `p95 ${i}`));

  await regions.faults(first, { blackhole: true });
  const started = Date.now();
  const id = await addTask(page, 'into the void');
  await delivered(page, 'into the void');
  const elapsed = Date.now() - started;
  const accepted = await acceptedBy(id);
  console.log(`black hole with hedging: acknowledged by ${accepted?.region} after ${elapsed} ms`);
  expect(accepted?.region).not.toBe(first);
  // p95 is clamped to at least 100 ms, plus 100 ms of slack, plus the UI round trip.
  expect(elapsed).toBeLessThan(1_000);
});

test('commands keep the region\'s preflight answer: one preflight for many commands, not one each', async ({
  page,
}) => {
  await page.goto('/tasks');
  await waitForRegions(page);
  const first = (await servingRegion(page)) as RegionName;
  const before = await regions.preflights(first);
  for (let i = 0; i < 5; i++) await delivered(page, (await addTask(page, `one trip ${i}`), `one trip ${i}`));
  expect(await servingRegion(page)).toBe(first);
  // Each command carries Content-Type: application/json and an Idempotency-Key, so the browser
  // asks the region first; a request that bypasses the cache of those answers asks every time.
  expect(await regions.preflights(first) - before).toBeLessThanOrEqual(1);
});

test('regions written with a trailing slash: the hedge still reaches the next region\'s /commands', async ({
  page,
}) => {
  await page.route('**/regions.json', async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    body.regions = body.regions.map((r: { url: string }) => ({ ...r, url: r.url.replace(/\/*$/, '/') }));
    await route.fulfill({ response, json: body });
  });
  const paths: string[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST') paths.push(new URL(r.url()).pathname);
  });
  await page.goto('/tasks');
  await waitForRegions(page);
  const first = (await servingRegion(page)) as RegionName;
  await delivered(page, (await addTask(page, 'slash warm up'), 'slash warm up'));

  await regions.faults(first, { blackhole: true });
  const id = await addTask(page, 'slash into the void');
  await delivered(page, 'slash into the void');
  expect((await acceptedBy(id))?.region).not.toBe(first);
  expect(paths.filter((p) => p !== '/commands'), 'every command went to /commands').toEqual([]);
});

test('a black hole right after the hedges emptied the retry budget still fails over within a second', async ({
  page,
}) => {
  // Every command is hedged after 1 ms: the warm-up spends the retry budget (one token a
  // hedge, a tenth back a success) until only its floor lets a hedge out.
  await overrideRouter(page, { hedge_min_ms: 1, hedge_max_ms: 1 });
  const regionsByKey = new Map<string, Set<RegionName | undefined>>();
  const posts: { at: number; key: string; region?: RegionName; done: boolean }[] = [];
  const record = (r: Request, done: boolean) => {
    const key = r.headers()['idempotency-key'];
    if (r.method() === 'POST' && key) {
      const region = regionOf(r.url());
      posts.push({ at: Date.now(), key, region, done });
      if (!done) regionsByKey.set(key, (regionsByKey.get(key) ?? new Set()).add(region));
    }
  };
  page.on('request', (r) => record(r, false));
  page.on('requestfinished', (r) => record(r, true));
  const hedged = () => [...regionsByKey.values()].filter((s) => s.size > 1).length;
  await page.goto('/tasks');
  await waitForRegions(page);
  // 10 − 0.9 per hedged command: six hedges leave at most half the bucket.
  for (let i = 0; i < 30 && hedged() < 6; i++) {
    await delivered(page, (await addTask(page, `spend ${i}`), `spend ${i}`));
  }
  expect(hedged(), 'the warm-up hedged enough commands to empty the budget').toBeGreaterThanOrEqual(6);
  // One more hedge just before the fault, once the floor's period has passed: the next one
  // must wait for the period to pass again.
  await page.waitForTimeout(600);
  const last = await addTask(page, 'the last hedge');
  await delivered(page, 'the last hedge');
  expect(regionsByKey.get(last)?.size, 'the floor let the last command be hedged').toBe(2);

  const first = (await servingRegion(page)) as RegionName;
  await regions.faults(first, { blackhole: true });
  const id = await addTask(page, 'void after a spent budget');
  await delivered(page, 'void after a spent budget');
  const sent = posts.find((p) => p.key === id && !p.done);
  const acked = posts.find((p) => p.key === id && p.done && p.region !== first);
  expect(sent?.region, 'the command went to the black hole first').toBe(first);
  expect(acked, 'another region acknowledged it').toBeTruthy();
  const elapsed = acked!.at - sent!.at;
  console.log(`black hole after a spent budget: acknowledged by ${acked!.region} ${elapsed} ms after the send`);
  expect((await acceptedBy(id))?.region).not.toBe(first);
  // The floor lets one hedge out every 500 ms whatever the bucket holds; a spent budget used to
  // cost the send timeout (8 s).
  expect(elapsed).toBeLessThan(1_000);
});

test('the current region black-holed without hedging: acknowledged elsewhere after the send timeout', async ({
  page,
}) => {
  // This stack's router settings with hedging pushed out of reach.
  await overrideRouter(page, { hedge_min_ms: 60_000, hedge_max_ms: 60_000 });
  await page.goto('/tasks');
  await waitForRegions(page);
  const first = (await servingRegion(page)) as RegionName;
  await regions.faults(first, { blackhole: true });
  const sent: { at: number; region?: RegionName }[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && COMMAND_URL.test(r.url())) {
      sent.push({ at: Date.now(), region: regionOf(r.url()) });
    }
  });
  const events = watchCommands(page);
  const id = await addTask(page, 'no hedge');
  await delivered(page, 'no hedge', 30_000);
  const intoHole = sent.find((e) => e.region === first);
  const acked = events.find((e) => e.region !== first && e.ok);
  expect(intoHole, 'the command went to the black hole first').toBeTruthy();
  expect(acked, 'another region acknowledged').toBeTruthy();
  const elapsed = acked!.at - intoHole!.at;
  console.log(`black hole without hedging: acknowledged by ${acked!.region} ${elapsed} ms after the send`);
  expect((await acceptedBy(id))?.region).not.toBe(first);
  // The send timeout is 8 s; the failover itself must add at most 100 ms. The lower bound only
  // shows no hedge fired early; the test process sees the request event a few ms late, so it
  // allows that much.
  expect(elapsed).toBeGreaterThanOrEqual(8_000 - 50);
  expect(elapsed).toBeLessThan(8_000 + 100);
});

test('the health kill switch moves traffic away within one degraded probe cycle', async ({ page }) => {
  await page.goto('/tasks');
  await waitForRegions(page);
  const first = (await servingRegion(page)) as RegionName;
  const started = Date.now();
  await regions.faults(first, { kill_switch: true });
  await expect(page.getByTestId('current-region')).not.toHaveAttribute('data-region', first, {
    timeout: 10_000,
  });
  console.log(`kill switch: traffic moved after ${Date.now() - started} ms`);
  await expect(page.getByTestId(`region-${first}`)).toHaveAttribute('data-state', 'down');
  await expect(page.getByTestId(`region-${first}`)).toHaveAttribute('data-cause', 'switched off');
  await expect(page.getByTestId(`region-${first}`)).toContainText('switched off');
  const id = await addTask(page, 'after kill switch');
  await delivered(page, 'after kill switch');
  expect((await acceptedBy(id))?.region).not.toBe(first);
});

test('an answer from a switched-off region moves the next command elsewhere before any probe', async ({
  page,
}) => {
  // Probes pushed out of reach: only the answer itself can tell the shell about the switch.
  await overrideRouter(page, { probe_interval_healthy_ms: 600_000, probe_interval_unhealthy_ms: 600_000 });
  // Queries' answers carry the mark too; strip it so this test shows the command's answer.
  await page.route('**/q/**', async (route) => {
    const response = await route.fetch();
    const headers = { ...response.headers() };
    delete headers['region-health'];
    await route.fulfill({ response, headers });
  });
  await page.goto('/tasks');
  await waitForRegions(page);
  const first = (await servingRegion(page)) as RegionName;
  await delivered(page, (await addTask(page, 'warm up'), 'warm up'));
  const events = watchCommands(page);

  await regions.faults(first, { kill_switch: true });
  const last = await addTask(page, 'answered while switched off');
  await delivered(page, 'answered while switched off');
  // The switched-off region still executes what reaches it: this command is its, once.
  expect((await acceptedBy(last))?.region).toBe(first);
  const answered = events.find((e) => e.region === first && e.ok)!;
  await expect(page.getByTestId('current-region')).not.toHaveAttribute('data-region', first, {
    timeout: 2_000,
  });
  console.log(`kill switch by answer: traffic moved ${Date.now() - answered.at} ms after the answer`);
  await expect(page.getByTestId(`region-${first}`)).toHaveAttribute('data-state', 'down');
  await expect(page.getByTestId(`region-${first}`)).toHaveAttribute('data-cause', 'switched off');
  await expect(page.getByTestId(`region-${first}`)).toContainText('switched off');

  const next = await addTask(page, 'after the switched-off answer');
  await delivered(page, 'after the switched-off answer');
  expect((await acceptedBy(next))?.region).not.toBe(first);
  expect(events.filter((e) => e.region === first && e.at > answered.at)).toHaveLength(0);
  await everywhereOnce([last, next]);
});

test('a faster region wins only after the hysteresis condition, and jitter does not flap', async ({
  page,
}) => {
  await page.goto('/tasks');
  await waitForRegions(page);
  const first = (await servingRegion(page)) as RegionName;
  const others = regions.names.filter((n) => n !== first);
  // Make the current region slow and one other clearly fastest.
  await regions.faults(first, { latency_ms: 120 });
  await regions.faults(others[1], { latency_ms: 60 });
  await expect(page.getByTestId('current-region')).toHaveAttribute('data-region', others[0], {
    timeout: 20_000,
  });

  // Now jitter two healthy regions around the same latency: no switch back and forth.
  const switches: string[] = [];
  const seen = async () => (await servingRegion(page)) as string;
  let last = await seen();
  for (let i = 0; i < 12; i++) {
    await regions.faults(others[0], { latency_ms: 30 + (i % 2) * 3 });
    await regions.faults(others[1], { latency_ms: 31 + ((i + 1) % 2) * 3 });
    await page.waitForTimeout(500);
    const now = await seen();
    if (now !== last) switches.push(`${last}→${now}`);
    last = now;
  }
  console.log(`switches under jitter: ${switches.length} ${switches.join(' ')}`);
  expect(switches.length).toBeLessThanOrEqual(1);
});

test('a failed region that recovers gets traffic back when it is the nearest', async ({ page }) => {
  await page.goto('/tasks');
  await waitForRegions(page);
  const first = (await servingRegion(page)) as RegionName;
  for (const other of regions.names.filter((n) => n !== first)) {
    await regions.faults(other, { latency_ms: 40 });
  }
  await regions.down(first);
  await expect(page.getByTestId('current-region')).not.toHaveAttribute('data-region', first, {
    timeout: 10_000,
  });
  await regions.up(first);
  await expect(page.getByTestId(`region-${first}`)).toHaveAttribute('data-state', 'up', {
    timeout: 15_000,
  });
  await expect(page.getByTestId('current-region')).toHaveAttribute('data-region', first, {
    timeout: 20_000,
  });
  const id = await addTask(page, 'home again');
  await delivered(page, 'home again');
  expect((await acceptedBy(id))?.region).toBe(first);
});

test('all regions down: commands wait on the device, the UI says so, and one region back delivers all', async ({
  page,
}) => {
  await page.goto('/tasks');
  await waitForRegions(page);
  for (const name of regions.names) await regions.down(name);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push(await addTask(page, `stranded ${i}`));
  await expect(page.getByTestId('current-region')).toContainText('All regions unreachable', {
    timeout: 20_000,
  });
  await expect(page.getByTestId('current-region')).toContainText('5 saved on this device');
  await regions.up('ap-south');
  for (let i = 0; i < 5; i++) await delivered(page, `stranded ${i}`, 30_000);
  for (const name of regions.names.filter((n) => n !== 'ap-south')) await regions.up(name);
  await everywhereOnce(ids);
});

test('an ambiguous failure then failover: after replication the command exists once everywhere', async ({
  page,
}) => {
  await page.goto('/tasks');
  await waitForRegions(page);
  const first = (await servingRegion(page)) as RegionName;
  await regions.faults(first, { drop_after_commit: true });
  const id = await addTask(page, 'maybe twice');
  await delivered(page, 'maybe twice');
  await regions.faults(first, {});
  // The first region committed it, another acknowledged it: replication merges by id.
  expect((await regions.commands(first)).some((c) => c.id === id)).toBe(true);
  await expect.poll(async () => (await regions.replication()).converged, { timeout: 15_000 }).toBe(true);
  await everywhereOnce([id]);
});

test('chaos: 300 commands from two apps while regions die and recover, offline spells and reloads', async ({
  page,
  context,
}) => {
  test.setTimeout(420_000);
  await page.goto('/notes');
  await expect(page.getByTestId('notes-app')).toBeVisible();
  await page.getByTestId('nav-tasks').click();
  await waitForRegions(page);

  // A driver that kills and restores regions at random every ~1 s (seeded, bounded).
  let seed = 20261126;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  let chaos = true;
  const log: string[] = [];
  const driver = (async () => {
    for (let tick = 0; chaos && tick < 400; tick++) {
      const name = regions.names[Math.floor(random() * regions.names.length)];
      const down = random() < 0.5;
      await (down ? regions.down(name) : regions.up(name)).catch(() => undefined);
      log.push(`${down ? 'down' : 'up'} ${name}`);
      await new Promise((r) => setTimeout(r, 700 + random() * 600));
    }
  })();

  const ids: string[] = [];
  // Through each app's own UI, in blocks of 25, alternating apps (unmount and remount each time).
  for (let block = 0; block < 12; block++) {
    const app = block % 2 === 0 ? 'tasks' : 'notes';
    if (block === 4 || block === 8) {
      await page.reload();
    }
    if (block === 6) await context.setOffline(true);
    if (block === 7) await context.setOffline(false);
    await page.getByTestId(`nav-${app}`).click();
    const slot = page.getByTestId('app-slot-main');
    await expect(slot, `block ${block}: ${app} mounted`).toHaveAttribute('data-status', 'mounted', {
      timeout: 15_000,
    });
    const input = page.getByTestId(app === 'tasks' ? 'task-title' : 'note-text');
    const button = page.getByTestId(app === 'tasks' ? 'task-add' : 'note-add');
    const items = page.getByTestId(app === 'tasks' ? 'task-item' : 'note-item');
    for (let i = 0; i < 25; i++) {
      await input.fill(`chaos ${block}-${i}`);
      await button.click();
    }
    await expect(items).toHaveCount(25);
    ids.push(...(await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-command-id')!))));
  }
  chaos = false;
  await driver;
  for (const name of regions.names) await regions.up(name);
  await expect(page.getByTestId('outbox-pending')).toHaveAttribute('data-count', '0', {
    timeout: 90_000,
  });
  await expect.poll(async () => (await regions.replication()).converged, { timeout: 30_000 }).toBe(true);
  let total = 0;
  for (const name of regions.names) {
    const stored = (await regions.commands(name)).filter((c) => ids.includes(c.id));
    for (const id of ids) expect(stored.filter((c) => c.id === id), `${name} ${id}`).toHaveLength(1);
    for (const stream of ['tasks', 'notes']) {
      const seqs = stored
        .filter((c) => c.stream === stream && c.region === name)
        .map((c) => c.seq);
      expect(seqs, `${name} ${stream} order`).toEqual([...seqs].sort((a, b) => a - b));
    }
    total += stored.length;
  }
  console.log(
    `chaos: ${ids.length} commands, ${total} copies over ${regions.names.length} regions, ` +
      `${log.length} region flips, 0 lost, 0 duplicated`,
  );
});
