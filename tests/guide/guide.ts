/**
 * Reads the command blocks of docs/micro-apps.md: fenced `sh` blocks whose first line is
 * `# step: <name>` with an optional `(in <dir>/)` and `background`.
 */
import * as fs from 'node:fs';

export interface GuideStep {
  name: string;
  /** Folder to run in, relative to the work folder ('' = the work folder itself). */
  dir: string;
  /** Runs until stopped (a server): started in the background. */
  background: boolean;
  script: string;
}

export function readGuide(file: string): GuideStep[] {
  const text = fs.readFileSync(file, 'utf8');
  const steps: GuideStep[] = [];
  for (const match of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = match[1].split('\n');
    const header = /^# step: ([a-z0-9-]+)(?: \((.*)\))?$/.exec(lines[0]);
    if (!header) continue;
    const options = (header[2] ?? '').split(',').map((o) => o.trim());
    const inDir = options.find((o) => o.startsWith('in '));
    steps.push({
      name: header[1],
      dir: inDir ? inDir.slice(3).replace(/\/$/, '') : '',
      background: options.includes('background'),
      script: lines.slice(1).join('\n'),
    });
  }
  return steps;
}
