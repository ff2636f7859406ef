// Claims inside the running service: the before_session mutex, lock_file interop with flock(1),
// and the claims agents take themselves.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import { fixtureAgent, writeConfig } from '../helpers/config.js';
import { CLI, cli, tmpDir } from '../helpers/tmp.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');

const journal = (state: string) => {
  const db = new Database(path.join(state, 'lanekeeper.db'), { readonly: true });
  const rows = db.prepare('SELECT type, payload FROM journal ORDER BY seq').all() as {
    type: string;
    payload: string;
  }[];
  db.close();
  return rows.map(
    (r) =>
      ({ ...(JSON.parse(r.payload) as Record<string, unknown>), type: r.type }) as {
        type: string;
        laneId?: string;
        reason?: string;
      },
  );
};

describe('claims in the runtime', () => {
  test('the before_session hooks of parallel sessions never overlap; a failing hook fails only its session', async () => {
    const dir = tmpDir();
    const hookLog = path.join(dir, 'hooks.log');
    const fleet = (hookEnv: Record<string, string>) =>
      writeConfig(
        {
          width: 4,
          hooks: { before_session: ['{node}', path.join(FIXTURES, 'hooks/record-hook.mjs')] },
          lanes: [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }],
          backends: [fixtureAgent('ok.mjs', { env: { HOOK_LOG: hookLog, ...hookEnv } })],
        },
        { dir },
      ).file;
    const file = fleet({ HOOK_MS: '300' });
    const state = path.join(dir, 'state');
    const r = await cli(['run', '--config', file, '--state', state, '--for', '4s']);
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(hookLog, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(8);
    for (let i = 0; i < lines.length; i += 2) {
      // start X is always followed by end X: one hook at a time.
      expect(lines[i]).toMatch(/^start /);
      expect(lines[i + 1]).toBe(lines[i]!.replace('start', 'end'));
    }
    const started = journal(state).filter((e) => e.type === 'SESSION_STARTED');
    expect(started).toHaveLength(4);

    // The same fleet with a hook that fails: every session fails to start, with the hook's reason.
    const failing = fleet({ HOOK_MS: '10', HOOK_EXIT: '1' });
    const state2 = path.join(dir, 'state2');
    expect((await cli(['run', '--config', failing, '--state', state2, '--for', '3s'])).code).toBe(0);
    const st = JSON.parse((await cli(['status', '--json', '--state', state2])).stdout) as {
      sessions: { outcome: string; reason: string }[];
    };
    expect(st.sessions).toHaveLength(4);
    for (const s of st.sessions)
      expect(s).toMatchObject({
        outcome: 'failed',
        reason: 'before_session hook failed (exit 1): hook: the remote rejected the pull',
      });
  });

  test("while flock(1) holds a lane's lock_file the lane is not dispatched, and the reason is recorded", async () => {
    const dir = tmpDir();
    const lock = path.join(dir, 'code.lock');
    const holder = spawn('flock', [lock, 'sleep', '30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const { file, state } = writeConfig(
        {
          width: 2,
          schedule: { interval: '1s' },
          lanes: [
            { name: 'code', cooldown: '1s', lock_file: lock },
            { name: 'docs', cooldown: '1s' },
          ],
          backends: [fixtureAgent('ok.mjs')],
        },
        { dir },
      );
      expect((await cli(['run', '--config', file, '--state', state, '--for', '3s'])).code).toBe(0);
      const events = journal(state);
      expect(events.filter((e) => e.type === 'SESSION_STARTED' && e.laneId === 'code')).toHaveLength(0);
      expect(events.filter((e) => e.type === 'SESSION_STARTED' && e.laneId === 'docs').length).toBeGreaterThan(0);
      const denials = events.filter((e) => e.type === 'CLAIM_DENIED' && e.laneId === 'code');
      expect(denials.length).toBeGreaterThan(0);
      expect(denials[0]!.reason).toBe(`lock_file ${lock} is held by another process (flock)`);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  test('while lanekeeper runs a lane, flock -n on its lock_file fails; after the session it succeeds', async () => {
    const dir = tmpDir();
    const lock = path.join(dir, 'code.lock');
    const { file, state } = writeConfig(
      {
        sessions: { drain_grace: '10s' },
        lanes: [{ name: 'code', lock_file: lock }],
        backends: [fixtureAgent('ok.mjs', { env: { AGENT_SLEEP_MS: '2500' } })],
      },
      { dir },
    );
    const run = spawn(process.execPath, [CLI, 'run', '--config', file, '--state', state, '--for', '2s'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((r) => run.on('exit', r));
    // The lock file is taken with the lane slot, before the session starts: wait for the start.
    let log = '';
    await new Promise<void>((resolve, reject) => {
      run.stdout!.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (/started on fixture:ok/.test(log)) resolve();
      });
      run.on('exit', () => reject(new Error(`lanekeeper exited before the session started:\n${log}`)));
    });
    const during = spawn('flock', ['--nonblock', lock, 'true']);
    expect(await new Promise((r) => during.on('exit', r))).toBe(1);
    await exited;
    const after = spawn('flock', ['--nonblock', lock, 'true']);
    expect(await new Promise((r) => after.on('exit', r))).toBe(0);
  });

  test('claims an agent takes are renewed with it and released when it ends, unless it asked to keep them', async () => {
    const { file, state } = writeConfig({
      claims: { sweep_every: '300ms' },
      lanes: [{ name: 'code' }],
      backends: [
        // A 3 s claim in a 6 s session: without renewal the sweeper would expire it.
        fixtureAgent('claimer.mjs', { env: { LANEKEEPER_CLI: CLI, CLAIM_TTL: '3s', AGENT_SLEEP_MS: '6000' } }),
      ],
    });
    expect((await cli(['run', '--config', file, '--state', state, '--for', '1s'])).code).toBe(0);
    const all = JSON.parse((await cli(['claims', '--all', '--json', '--state', state])).stdout) as {
      claims: { key: string; holder: string; state: string; result: string | null }[];
    };
    const byKey = new Map(all.claims.map((c) => [c.key, c]));
    // The agent took both claims as its session (the holder is the session id it was given).
    const st = JSON.parse((await cli(['status', '--json', '--state', state])).stdout) as { sessions: { id: string }[] };
    expect(st.sessions).toHaveLength(1);
    const session = st.sessions[0]!.id;
    expect(byKey.get('task:code')).toMatchObject({ holder: session, state: 'released', result: 'session ended' });
    expect(byKey.get('task:code-kept')).toMatchObject({ holder: session, state: 'claimed' });
    expect(byKey.get('lane:code')).toMatchObject({ state: 'released' });
    const db = new Database(path.join(state, 'lanekeeper.db'), { readonly: true });
    const renewals = db
      .prepare("SELECT COUNT(*) FROM lock_events WHERE key = 'task:code' AND event = 'renewed'")
      .pluck()
      .get() as number;
    db.close();
    expect(renewals).toBeGreaterThanOrEqual(2);
  });
});
