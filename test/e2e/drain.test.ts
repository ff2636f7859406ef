// SIGTERM drains: no new sessions, running ones get the drain grace, then their process groups
// are killed; every exit is recorded and the database is closed cleanly.
import { spawn } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect, test } from 'vitest';
import { fixtureAgent, writeConfig, type BackendConfig } from '../helpers/config.js';
import { CLI, pidAlive } from '../helpers/tmp.js';
import { leftovers, startCli } from '../helpers/run-process.js';

/** A fleet of `lanes` (one session each, all at once) with a 1 s drain and kill grace. */
function drainSetup(lanes: string[], backend: BackendConfig) {
  return writeConfig({
    width: lanes.length,
    sessions: { kill_grace: '1s', drain_grace: '1s' },
    lanes: lanes.map((name) => ({ name, timeout: '10m' })),
    backends: [backend],
  });
}

test('SIGTERM while sessions run: they are stopped after the drain grace and recorded; nothing is left behind', async () => {
  const { state, file } = drainSetup(['a', 'b', 'c'], fixtureAgent('ignore-sigterm.mjs', { model: 'stubborn' }));
  const child = spawn(process.execPath, [CLI, 'run', '--config', file, '--state', state], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Wait until all three sessions have started.
  const started = Date.now();
  while ((stdout.match(/ started on fixture:stubborn/g) ?? []).length < 3) {
    if (Date.now() - started > 30_000) throw new Error(`sessions did not start:\n${stdout}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGTERM');
  expect(await exited).toBe(0);

  const db = new Database(path.join(state, 'lanekeeper.db'), { readonly: true });
  const sessions = db.prepare('SELECT id, pid, ended_at, outcome, reason, grade FROM sessions').all() as {
    id: string;
    pid: number;
    ended_at: number | null;
    outcome: string;
    reason: string;
    grade: number | null;
  }[];
  const types = db.prepare('SELECT type FROM journal ORDER BY seq').pluck().all() as string[];
  const held = db.prepare("SELECT COUNT(*) FROM claims WHERE state = 'claimed'").pluck().get();
  db.close();

  expect(sessions).toHaveLength(3);
  for (const s of sessions) {
    // Stopped by the runtime, not by its own doing: no verdict, no grade against the lane.
    expect(s).toMatchObject({
      outcome: 'unknown',
      reason: 'stopped: drain grace over (ignored SIGTERM; SIGKILL)',
      grade: null,
    });
    expect(s.ended_at).not.toBeNull();
    expect(pidAlive(s.pid)).toBe(false);
  }
  expect(types).toContain('DRAIN');
  expect(types.filter((t) => t === 'SESSION_EXITED')).toHaveLength(3);
  expect(types.filter((t) => t === 'SESSION_GRADED')).toHaveLength(3);
  // After the drain no session was dispatched again, and every lane slot was given back.
  expect(types.slice(types.indexOf('DRAIN')).filter((t) => t === 'SESSION_STARTED')).toHaveLength(0);
  expect(held).toBe(0);
  expect(stdout).toMatch(/stopping \(SIGTERM\): no new sessions; 3 running session\(s\) get up to 1s/);
});

test('SIGTERM with agents that forked children which ignore SIGTERM: nothing of any session is left running', async () => {
  const { state, file } = drainSetup(['a', 'b'], fixtureAgent('hang.mjs', { env: { AGENT_FORK: '1' } }));
  const run = startCli(['run', '--config', file, '--state', state]);
  await run.waitFor(/ started on fixture:ok/, { count: 2 });
  // The grandchildren are there before the drain.
  await new Promise((r) => setTimeout(r, 500));
  expect(leftovers(state).length).toBeGreaterThanOrEqual(4);
  run.child.kill('SIGTERM');
  expect(await run.exited).toBe(0);
  expect(leftovers(state)).toEqual([]);
  const db = new Database(path.join(state, 'lanekeeper.db'), { readonly: true });
  const open = db.prepare('SELECT COUNT(*) FROM sessions WHERE ended_at IS NULL').pluck().get();
  const held = db.prepare("SELECT COUNT(*) FROM claims WHERE state = 'claimed'").pluck().get();
  db.close();
  expect(open).toBe(0);
  expect(held).toBe(0);
});
