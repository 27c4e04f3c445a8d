/**
 * Drive the regions from the test process, never from the page: take one down, bring it back,
 * inject faults, and read what each region's store holds.
 */
import type { RegionName } from './stack';

export interface StoredCommand {
  id: string;
  stream: string;
  seq: number;
  kind: string;
  app: string;
  payload: unknown;
  region: string;
}

export interface RegionURLs {
  adminURL: string;
  regionURL(name: RegionName): string;
}

export type Regions = ReturnType<typeof regionsOf>;

async function json(url: string, init: RequestInit = {}): Promise<any> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(5_000) });
  if (!response.ok) {
    throw new Error(`${init.method ?? 'GET'} ${url}: HTTP ${response.status} ${await response.text()}`);
  }
  return response.json();
}

export function regionsOf(urls: RegionURLs) {
  const admin = (method: string, path: string, body?: unknown) =>
    json(`${urls.adminURL}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const regions = {
    /** Regions up, faults off, stores empty. */
    reset: () => admin('POST', '/admin/reset'),
    /** Closes the region's listener and kills its open connections. */
    down: (name: RegionName) => admin('POST', `/admin/regions/${name}/down`),
    up: (name: RegionName) => admin('POST', `/admin/regions/${name}/up`),
    faults: (name: RegionName, faults: Record<string, unknown>) =>
      admin('POST', `/admin/regions/${name}/faults`, faults),
    /** CORS preflights the region received since start-up or the last reset. */
    preflights: async (name: RegionName): Promise<number> =>
      (await admin('GET', `/admin/regions/${name}`)).preflights as number,
    /** How far replication between the regions has come (`converged` once all hold the same). */
    replication: () => admin('GET', '/admin/replication'),

    /** Every command a region holds, oldest accepted first. */
    async commands(name: RegionName): Promise<StoredCommand[]> {
      const body = await json(`${urls.regionURL(name)}/commands?limit=10000`);
      return body.commands as StoredCommand[];
    },

    /** Polls (every 100 ms, at most `timeoutMs`) until `predicate` holds on a region's store. */
    async waitFor(
      name: RegionName,
      predicate: (commands: StoredCommand[]) => boolean,
      timeoutMs = 15_000,
    ): Promise<StoredCommand[]> {
      const deadline = Date.now() + timeoutMs;
      let last: StoredCommand[] = [];
      while (Date.now() < deadline) {
        last = await regions.commands(name).catch(() => last);
        if (predicate(last)) return last;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`timed out waiting on ${name}; it holds ${last.length} commands`);
    },
  };
  return regions;
}
