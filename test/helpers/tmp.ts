import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

const dirs: string[] = [];
// Removed when the test file is done, so a directory made in beforeAll lives through its tests.
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the test file. */
export function tmpDir(prefix = 'lk-test-'): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
}

export const AGENTS = path.resolve(import.meta.dirname, '../fixtures/agents');
export const CLI = path.resolve(import.meta.dirname, '../../dist/cli/main.js');

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Running, not a zombie: an orphan here may wait for a PID 1 that never reaps it. */
export function running(pid: number): boolean {
  if (!pidAlive(pid)) return false;
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

import { execFile } from 'node:child_process';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a real process. */
export function cli(
  args: string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        env: { ...process.env, LANEKEEPER_STATE: undefined, ...opts.env },
        cwd: opts.cwd,
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * The YAML of a backend named `fixture` that runs one of test/fixtures/agents in `cwd`, for a
 * `backends:` list. Env values are strings; the arm is `fixture:<model>`.
 */
export function fixtureBackend(agent: string, cwd: string, env: Record<string, string> = {}, model = 'ok'): string {
  return [
    '  - name: fixture',
    `    command: ["{node}", ${JSON.stringify(path.join(AGENTS, agent))}]`,
    `    cwd: ${JSON.stringify(cwd)}`,
    `    env: ${JSON.stringify(env)}`,
    `    models: [{ name: ${model} }]`,
  ].join('\n');
}
