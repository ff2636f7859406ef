// How the session runner starts an agent: a command that cannot run
// says why in a line, an agent gets exactly the environment it was given, and an agent killed by
// a signal reports the signal.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { runSession, type RunSpec } from '../../src/adapters/process/runner.js';
import { tmpDir } from '../helpers/tmp.js';

function spec(argv: string[], env: Record<string, string> = { PATH: process.env.PATH ?? '' }): RunSpec {
  const dir = tmpDir();
  return {
    argv,
    cwd: dir,
    env,
    logPath: path.join(dir, 'sessions', 's1', 'output.log'),
    timeoutMs: 10_000,
    killGraceMs: 1000,
  };
}

describe('starting an agent', () => {
  test('a file that is not executable: the reason names it, and no process was made', async () => {
    const dir = tmpDir();
    const script = path.join(dir, 'agent.sh');
    writeFileSync(script, '#!/bin/sh\nexit 0\n');
    chmodSync(script, 0o644);
    const h = runSession(spec([script]));
    expect(h.pid).toBeNull();
    const r = await h.exited;
    await h.gone;
    expect(r).toMatchObject({ spawnError: `command not executable: ${script}`, exitCode: null, signal: null });
  });

  test('an argument node refuses (a NUL byte): the reason, not a throw', async () => {
    const r = await runSession(spec(['/bin/echo', 'a\0b'])).exited;
    expect(r.spawnError).toMatch(/null bytes/);
    expect(r.exitCode).toBeNull();
  });

  test('the agent sees exactly the environment it is given, and its output lands in the log', async () => {
    process.env.LANEKEEPER_TEST_NOT_PASSED = 'leak';
    try {
      const s = spec(['/bin/sh', '-c', 'env; echo to-stderr >&2'], {
        PATH: process.env.PATH ?? '',
        LANEKEEPER_SESSION_ID: 's1',
      });
      const r = await runSession(s).exited;
      expect(r).toMatchObject({ exitCode: 0, signal: null, spawnError: null });
      const log = readFileSync(s.logPath, 'utf8');
      expect(log).toContain('LANEKEEPER_SESSION_ID=s1');
      expect(log).toContain('to-stderr');
      expect(log).not.toContain('LANEKEEPER_TEST_NOT_PASSED');
    } finally {
      delete process.env.LANEKEEPER_TEST_NOT_PASSED;
    }
  });

  test('an agent killed by a signal reports the signal and no exit code', async () => {
    const h = runSession(spec(['/bin/sh', '-c', 'kill -KILL $$']));
    expect(h.pid).toBeGreaterThan(0);
    const r = await h.exited;
    expect(r).toMatchObject({ exitCode: null, signal: 'SIGKILL', timedOut: false, killed: false, spawnError: null });
  });
});
