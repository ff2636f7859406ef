// Prepares the demo's scratch git repositories (one per lane) under the state directory.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { ResolvedConfig } from '../config/types.js';

/** A lane's scratch repository: made by the run, so not missing before it. */
export function demoRepoDir(stateDir: string, lane: string): string {
  return path.join(stateDir, 'demo-repos', lane);
}

export async function prepareDemoRepos(config: ResolvedConfig): Promise<void> {
  for (const lane of config.lanes) {
    const dir = demoRepoDir(config.stateDir, lane.name);
    if (existsSync(path.join(dir, '.git'))) continue;
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'README.md'), `# ${lane.name}\n\nScratch repository of the lanekeeper demo.\n`);
    const git = (...args: string[]) =>
      execa('git', ['-c', 'user.name=lanekeeper demo', '-c', 'user.email=demo@lanekeeper.invalid', ...args], {
        cwd: dir,
        stdin: 'ignore',
      });
    await git('init', '-q');
    await git('add', 'README.md');
    await git('commit', '-q', '-m', 'start');
  }
}
