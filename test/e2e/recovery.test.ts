// Crash recovery: lanekeeper killed with SIGKILL while sessions run. The next start restores the
// lanes from the journal and reconciles with the world: agents still alive are adopted (their
// lanes get no second session), agents that ended meanwhile are recorded as exited with outcome
// unknown and graded from the grade file they left; every session exits and is graded once.
import { spawn } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import { startCli } from '../helpers/run-process.js';
import { fixtureAgent, writeConfig, type TestConfig } from '../helpers/config.js';
import { running, tmpDir } from '../helpers/tmp.js';

function setup(agent: string, env: Record<string, string>, sessions: TestConfig['sessions'] = {}) {
  return writeConfig({
    width: 2,
    sessions: { kill_grace: '1s', drain_grace: '1s', ...sessions },
    lanes: [
      { name: 'a', timeout: '10m', cooldown: '1h' },
      { name: 'b', timeout: '10m', cooldown: '1h' },
    ],
    backends: [fixtureAgent(agent, { env })],
  });
}

interface Row {
  id: string;
  lane_id: string;
  pid: number | null;
  ended_at: number | null;
  outcome: string | null;
  reason: string | null;
  grade: number | null;
  grade_source: string | null;
}

function read(state: string) {
  const db = new Database(path.join(state, 'lanekeeper.db'), { readonly: true });
  try {
    const sessions = db
      .prepare('SELECT id, lane_id, pid, ended_at, outcome, reason, grade, grade_source FROM sessions ORDER BY id')
      .all() as Row[];
    const journal = (
      db.prepare('SELECT seq, type, payload FROM journal ORDER BY seq').all() as {
        seq: number;
        type: string;
        payload: string;
      }[]
    ).map((r) => ({
      seq: r.seq,
      type: r.type,
      ...(JSON.parse(r.payload) as { sessionId?: string; laneId?: string }),
    }));
    const held = db.prepare("SELECT key, holder FROM claims WHERE state = 'claimed'").all() as {
      key: string;
      holder: string;
    }[];
    return { sessions, journal, held };
  } finally {
    db.close();
  }
}

/** Kills a run with SIGKILL once both sessions have started, and returns their pids. */
async function crashWithTwoRunning(file: string, state: string): Promise<number[]> {
  const run = startCli(['run', '--config', file, '--state', state]);
  await run.waitFor(/ started on fixture:ok/, { count: 2 });
  run.child.kill('SIGKILL');
  await run.exited;
  return read(state).sessions.map((s) => s.pid!);
}

const count = (journal: { type: string; sessionId?: string }[], type: string, id: string) =>
  journal.filter((e) => e.type === type && e.sessionId === id).length;

describe('after kill -9', () => {
  test('agents still running are adopted: their lanes start nothing else while they run, and each ends and is graded once', async () => {
    // Long enough that both still run when the next lanekeeper is up, even on a loaded machine (a
    // 4 s agent once ended during a slow restart under CI, and was closed instead of adopted).
    const { file, state } = setup('ok.mjs', { AGENT_SLEEP_MS: '10000', AGENT_GRADE: '0.9' });
    const pids = await crashWithTwoRunning(file, state);
    expect(pids.every(running)).toBe(true);

    // Ticks every second while the adopted agents run: each must find the lanes busy.
    const again = startCli(['run', '--config', file, '--state', state, '--tick', '1s']);
    await again.waitFor(/still runs after the crash: adopted/, { count: 2 });
    await again.waitFor(/graded 0\.90 \(session\)/, { count: 2 });
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);

    const { sessions, journal, held } = read(state);
    expect(journal.map((e) => e.seq)).toEqual(journal.map((_, i) => i + 1));
    expect(journal.filter((e) => e.type === 'RUNTIME_RECOVERED')).toHaveLength(1);
    // Only the two sessions of the first run: nothing new started beside them (cooldown 1h after).
    expect(sessions).toHaveLength(2);
    for (const s of sessions) {
      expect(s).toMatchObject({
        outcome: 'unknown',
        reason: 'adopted after a restart: its exit code is not known',
        grade: 0.9,
        grade_source: 'session',
      });
      expect(count(journal, 'SESSION_STARTED', s.id)).toBe(1);
      expect(count(journal, 'SESSION_ADOPTED', s.id)).toBe(1);
      expect(count(journal, 'SESSION_EXITED', s.id)).toBe(1);
      expect(count(journal, 'SESSION_GRADED', s.id)).toBe(1);
    }
    expect(pids.some(running)).toBe(false);
    expect(held).toEqual([]);
    expect(again.output()).toMatch(
      /the last run ended without a drain: lanes restored from the journal .*2 session\(s\) still running adopted/,
    );
    // The ticks while they ran dispatched nothing.
    expect(again.output()).toMatch(/no lane dispatched; skipped a \(running\), b \(running\)/);
  });

  test('agents that ended while lanekeeper was down are recorded as exited (unknown) and graded from their grade file', async () => {
    const { file, state } = setup('ok.mjs', { AGENT_SLEEP_MS: '1500', AGENT_GRADE: '0.4' });
    const pids = await crashWithTwoRunning(file, state);
    while (pids.some(running)) await new Promise((r) => setTimeout(r, 100));
    // Another fleet on this machine runs agents of the same session ids (ids are unique only
    // within a state directory): they are not this fleet's, neither adopted nor stopped.
    const others = read(state).sessions.map((s) =>
      spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], {
        detached: true,
        stdio: 'ignore',
        env: {
          ...process.env,
          LANEKEEPER_SESSION_ID: s.id,
          LANEKEEPER_GRADE_FILE: path.join(tmpDir(), 'sessions', s.id, 'grade.json'),
        },
      }),
    );

    const again = startCli(['run', '--config', file, '--state', state, '--for', '3s']);
    expect(await again.exited).toBe(0);
    expect(others.map((o) => running(o.pid!))).toEqual([true, true]);
    for (const o of others) o.kill('SIGKILL');
    const { sessions, journal, held } = read(state);
    expect(sessions).toHaveLength(2);
    for (const s of sessions) {
      expect(s).toMatchObject({
        outcome: 'unknown',
        reason: 'its agent ended while no lanekeeper watched it; the exit code is not known',
        grade: 0.4,
        grade_source: 'session',
      });
      expect(count(journal, 'SESSION_EXITED', s.id)).toBe(1);
      expect(count(journal, 'SESSION_GRADED', s.id)).toBe(1);
      expect(count(journal, 'SESSION_ADOPTED', s.id)).toBe(0);
    }
    expect(held).toEqual([]);
    expect(again.output()).toMatch(/0 session\(s\) still running adopted, 2 closed/);
  });

  test('with sessions.on_restart: kill, agents left running are stopped, not watched', async () => {
    const { file, state } = setup('ok.mjs', { AGENT_SLEEP_MS: '60000' }, { on_restart: 'kill' });
    const pids = await crashWithTwoRunning(file, state);
    const again = startCli(['run', '--config', file, '--state', state, '--for', '4s']);
    expect(await again.exited).toBe(0);
    const { sessions } = read(state);
    for (const s of sessions)
      expect(s).toMatchObject({ outcome: 'unknown', reason: 'stopped: sessions.on_restart is kill' });
    expect(pids.some(running)).toBe(false);
  });

  test('a clean drain is gone on from, not recovered as a crash: nothing to adopt or close, no warning', async () => {
    const { file, state } = setup('ok.mjs', { AGENT_SLEEP_MS: '100' });
    const first = startCli(['run', '--config', file, '--state', state, '--for', '2s']);
    expect(await first.exited).toBe(0);
    const second = startCli(['run', '--config', file, '--state', state, '--for', '1s']);
    expect(await second.exited).toBe(0);
    const { journal } = read(state);
    expect(journal.filter((e) => e.type === 'RUNTIME_STARTED')).toHaveLength(1);
    expect(journal.filter((e) => e.type === 'RUNTIME_RECOVERED')).toEqual([expect.objectContaining({ stop: 'drain' })]);
    expect(second.output()).not.toMatch(/without a drain/);
    expect(second.output()).toMatch(/going on from the last run/);
  });
});
