/**
 * A running test stack: the region simulator serving the shell (its `dist/`), a CDN folder of
 * published micro apps, and three regions, on loopback ports of the caller's choosing.
 * Started from Node, so it serves a team's Playwright tests and scripted checks alike.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { Regions, regionsOf } from './regions';

export const REGION_NAMES = ['us-east', 'eu-west', 'ap-south'] as const;
export type RegionName = (typeof REGION_NAMES)[number];

export interface StackOptions {
  /** The shell checkout (holds `dist/` and `target/debug/region-sim`). Default: `$MFE_SHELL`. */
  shell?: string;
  /** The published apps to serve (a folder `mfe publish` wrote). Default: `$MFE_TEST_CDN`. */
  cdnDir?: string;
  /** Where the regions keep their SQLite files. Default: a folder under the CDN's parent. */
  dataDir?: string;
  /** First of the ports used: static server, then regions, then admin at +10. Default 48080. */
  port?: number;
}

export interface Stack {
  baseURL: string;
  adminURL: string;
  regionURL(name: RegionName): string;
  regions: Regions;
  stop(): Promise<void>;
}

function defaultShell(): string {
  // This file lives in <shell>/tests/kit/.
  return process.env.MFE_SHELL ?? path.resolve(__dirname, '..', '..');
}

/** Starts the simulator and waits (at most 30 s) until the shell's origin answers. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const shell = options.shell ?? defaultShell();
  const cdnDir = options.cdnDir ?? process.env.MFE_TEST_CDN;
  if (!cdnDir) throw new Error('startStack: give cdnDir (or set MFE_TEST_CDN) — the folder `mfe publish` wrote');
  const port = options.port ?? Number(process.env.MFE_TEST_PORT ?? 48080);
  const dataDir = options.dataDir ?? path.join(path.dirname(cdnDir), 'regions');
  const host = '127.0.0.1';
  const simulator = process.env.REGION_SIM ?? path.join(shell, 'target', 'debug', 'region-sim');
  // Something already answering there (a stack left over from an aborted run) would be taken
  // for this one.
  const taken = await fetch(`http://${host}:${port}/regions.json`, { signal: AbortSignal.timeout(1_000) })
    .then(() => true)
    .catch(() => false);
  if (taken) throw new Error(`port ${port} already serves a stack: stop it, or pick another port`);
  const child: ChildProcess = spawn(
    simulator,
    [
      '--regions', REGION_NAMES.join(','),
      '--static-port', String(port),
      '--base-port', String(port + 1),
      '--admin-port', String(port + 10),
      '--shell-dir', path.join(shell, 'dist'),
      '--cdn-dir', cdnDir,
      '--data-dir', dataDir,
      '--reset',
      '--admin',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  child.on('error', (e) => (stderr += `\n${e.message}`));

  const baseURL = `http://${host}:${port}`;
  const stack: Stack = {
    baseURL,
    adminURL: `http://${host}:${port + 10}`,
    regionURL: (name) => `http://${host}:${port + 1 + REGION_NAMES.indexOf(name)}`,
    regions: undefined as unknown as Regions,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    },
  };
  stack.regions = regionsOf(stack);

  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`region-sim (${simulator}) exited with ${child.exitCode}:\n${stderr}`);
    }
    const ok = await fetch(`${baseURL}/regions.json`, { signal: AbortSignal.timeout(1_000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return stack;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stack.stop();
  throw new Error(`region-sim did not answer on ${baseURL} within 30 s:\n${stderr}`);
}
