// One lanekeeper per state directory: while a real run holds the state (a session hanging in it),
// a second `run` in any mode exits 2 naming the holder's pid and starts nothing, while readers
// still work; after the holder is killed with SIGKILL (its agent left running) a new run starts,
// because the lock died with the process.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, test } from 'vitest';
import { fixtureAgent, writeConfig } from '../helpers/config.js';
import { CLI, cli, pidAlive } from '../helpers/tmp.js';

const agents: number[] = [];
afterAll(() => {
  for (const pid of agents) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function counts(state: string) {
  const db = new Database(path.join(state, 'lanekeeper.db'), { readonly: true });
  try {
    return {
      sessions: db.prepare('SELECT id, pid FROM sessions').all() as { id: string; pid: number | null }[],
      // A run after a kill -9 goes on from the journal (RUNTIME_RECOVERED): a run all the same.
      runs: db
        .prepare("SELECT COUNT(*) FROM journal WHERE type IN ('RUNTIME_STARTED', 'RUNTIME_RECOVERED')")
        .pluck()
        .get() as number,
    };
  } finally {
    db.close();
  }
}

test('a second run on a held state directory exits 2 naming the pid; after kill -9 of the holder a new run starts', async () => {
  const { file, state } = writeConfig({
    width: 1,
    sessions: { kill_grace: '1s', drain_grace: '1s' },
    lanes: [{ name: 'a', timeout: '10m' }],
    backends: [fixtureAgent('hang.mjs', { model: 'hang' })],
  });
  const first = spawn(process.execPath, [CLI, 'run', '--config', file, '--state', state], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  first.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const firstExit = new Promise<NodeJS.Signals | null>((resolve) =>
    first.on('exit', (_code, signal) => resolve(signal)),
  );
  const t0 = Date.now();
  while (!stdout.includes(' started on fixture:hang')) {
    if (Date.now() - t0 > 30_000) throw new Error(`the first run did not start its session:\n${stdout}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const before = counts(state);
  expect(before.sessions).toHaveLength(1);
  agents.push(before.sessions[0]!.pid!);

  // Every way to run is refused, with the holder named; none journals a run or starts a session.
  const held = new RegExp(
    `^lanekeeper: another lanekeeper \\(pid ${first.pid}, started \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\) is running on ${state.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; stop it first\\n$`,
  );
  for (const mode of [['--once'], ['--operator', '--sessions', '1'], []]) {
    const second = await cli(['run', ...mode, '--config', file, '--state', state]);
    expect(second.code, `run ${mode.join(' ')}: ${second.stderr}`).toBe(2);
    expect(second.stderr).toMatch(held);
  }
  const demo = await cli(['run', '--demo', '--state', state]);
  expect(demo.code).toBe(2);
  expect(demo.stderr).toMatch(held);
  const after = counts(state);
  expect(after.sessions).toEqual(before.sessions);
  expect(after.runs).toBe(before.runs);

  // Readers do not take the lock.
  const status = await cli(['status', '--json', '--state', state]);
  expect(status.code, status.stderr).toBe(0);
  // The refused runs did not overwrite what the holder recorded: a freshly started run, live.
  expect((JSON.parse(status.stdout) as { liveness: unknown }).liveness).toMatchObject({
    stalled: false,
    reasons: [],
    last_start: expect.any(String),
  });
  expect((await cli(['stats', '--json', '--state', state])).code).toBe(0);

  first.kill('SIGKILL');
  expect(await firstExit).toBe('SIGKILL');
  // Its agent outlives it (its own process group): it must not be what keeps the lock.
  expect(pidAlive(before.sessions[0]!.pid!)).toBe(true);

  const third = await cli(['run', '--config', file, '--state', state, '--for', '2s']);
  expect(third.code, third.stderr).toBe(0);
  expect(third.stderr).not.toMatch(/another lanekeeper/);
  expect(counts(state).runs).toBe(before.runs + 1);
  // The lock file named the new holder while it ran.
  const holder = JSON.parse(readFileSync(path.join(state, 'lanekeeper.lock'), 'utf8')) as {
    pid: number;
    started_at: string;
  };
  expect(holder.pid).not.toBe(first.pid);
});
