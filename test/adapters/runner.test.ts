import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { runSession, type RunSpec } from '../../src/adapters/process/runner.js';
import { classifyExit } from '../../src/policy/outcome.js';
import { AGENTS, pidAlive, tmpDir } from '../helpers/tmp.js';

function spec(agent: string, over: Partial<RunSpec> = {}): RunSpec {
  const dir = tmpDir();
  return {
    argv: [process.execPath, path.join(AGENTS, agent)],
    cwd: dir,
    env: { PATH: process.env.PATH ?? '' },
    logPath: path.join(dir, 'session.log'),
    timeoutMs: 10_000,
    killGraceMs: 1000,
    ...over,
  };
}

const outcomeOf = (r: Awaited<ReturnType<typeof runSession>['exited']>) => classifyExit({ ...r, work: 'yes' });

describe('session runner', () => {
  test('an agent that finishes: exit 0, output in the log file', async () => {
    const s = spec('ok.mjs', { env: { PATH: process.env.PATH ?? '', LANEKEEPER_SESSION_ID: 's1' } });
    const h = runSession(s);
    expect(h.pid).toBeGreaterThan(0);
    const r = await h.exited;
    await h.gone;
    expect(r).toMatchObject({ exitCode: 0, timedOut: false, spawnError: null });
    expect(outcomeOf(r)).toBe('productive');
    expect(readFileSync(s.logPath, 'utf8')).toContain('ok agent s1');
  });

  test('a crash (exit 3) is failed, stderr in the log', async () => {
    const s = spec('crash.mjs');
    const r = await runSession(s).exited;
    expect(r.exitCode).toBe(3);
    expect(outcomeOf(r)).toBe('failed');
    expect(readFileSync(s.logPath, 'utf8')).toContain('something broke');
  });

  test('a hang is killed at its time limit and is a timeout', async () => {
    const h = runSession(spec('hang.mjs', { timeoutMs: 500 }));
    const r = await h.exited;
    await h.gone;
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGTERM');
    expect(r.killed).toBe(false);
    expect(outcomeOf(r)).toBe('timeout');
    expect(pidAlive(h.pid!)).toBe(false);
  });

  test('an agent that ignores SIGTERM ends by SIGKILL after the grace period', async () => {
    const s = spec('ignore-sigterm.mjs', { timeoutMs: 500, killGraceMs: 500 });
    const h = runSession(s);
    const r = await h.exited;
    expect(r.signal).toBe('SIGKILL');
    expect(r.killed).toBe(true);
    expect(outcomeOf(r)).toBe('timeout');
    expect(readFileSync(s.logPath, 'utf8')).toContain('ignoring SIGTERM');
  });

  test('a forked grandchild dies with the session', async () => {
    const dir = tmpDir();
    const pidFile = path.join(dir, 'grandchild.pid');
    const h = runSession(
      spec('fork-grandchild.mjs', {
        env: { PATH: process.env.PATH ?? '', GRANDCHILD_PID_FILE: pidFile },
        killGraceMs: 500,
      }),
    );
    const r = await h.exited;
    expect(r.exitCode).toBe(0);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    await h.gone;
    expect(pidAlive(grandchild)).toBe(false);
  });

  test('a session the runtime stops (shutdown) has no verdict: unknown, with the reason kept', async () => {
    const h = runSession(spec('hang.mjs'));
    await new Promise((r) => setTimeout(r, 300));
    h.stop('drain grace over');
    const r = await h.exited;
    expect(r).toMatchObject({ stopped: 'drain grace over', timedOut: false, signal: 'SIGTERM' });
    expect(outcomeOf(r)).toBe('unknown');
  });

  test('a command that does not exist fails with the reason', async () => {
    const r = await runSession(spec('ok.mjs', { argv: ['lanekeeper-no-such-agent', '--x'] })).exited;
    expect(r.spawnError).toBe('command not found: lanekeeper-no-such-agent');
    expect(outcomeOf(r)).toBe('failed');
  });

  test('a missing working directory fails with the reason', async () => {
    const r = await runSession(spec('ok.mjs', { cwd: '/nonexistent/lanekeeper' })).exited;
    expect(r.spawnError).toBe('working directory /nonexistent/lanekeeper does not exist');
  });
});
