// `lanekeeper run --once`, for users who keep their own systemd timer: one tick, wait for the
// sessions it started, and say with the exit code whether anything could start.
import { describe, expect, test } from 'vitest';
import { openSqliteStore } from '../../src/adapters/store/sqlite/index.js';
import { fixtureAgent, writeConfig, type LaneConfig } from '../helpers/config.js';
import { cli } from '../helpers/tmp.js';

function setup(lanes: LaneConfig[], { width = 2, interval = '1s' } = {}) {
  return writeConfig({
    width,
    schedule: { interval },
    lanes,
    backends: [fixtureAgent('ok.mjs', { env: { AGENT_GRADE: '0.9', AGENT_SLEEP_MS: '300' } })],
  });
}

describe('run --once', () => {
  test('one tick: its sessions run to the end, nothing respawns, no second tick, exit 0', async () => {
    const { file, state } = setup([
      { name: 'a', cooldown: '0s' },
      { name: 'b', cooldown: '0s' },
      { name: 'c', cooldown: '0s' },
    ]);
    const run = await cli(['run', '--once', '--config', file, '--state', state]);
    expect(run.code, run.stderr).toBe(0);
    const st = JSON.parse((await cli(['status', '--json', '--state', state])).stdout) as {
      sessions: { dispatch: string; outcome: string | null; grade: number | null }[];
      decisions: { kind: string }[];
    };
    // Width 2, graded 0.9 with no cooldown: a normal run would respawn at once; --once does not.
    expect(st.sessions).toHaveLength(2);
    expect(st.sessions.every((s) => s.dispatch === 'tick' && s.outcome !== null && s.grade === 0.9)).toBe(true);
    expect(st.decisions.filter((d) => d.kind === 'tick')).toHaveLength(1);
  });

  test('every lane it could pick is busy: exit 75 with the reason', async () => {
    const { file, state } = setup([{ name: 'a' }]);
    await openSqliteStore(state).close();
    expect((await cli(['claim', 'lane:a', '--holder', 'another-host', '--state', state])).code).toBe(0);
    const run = await cli(['run', '--once', '--config', file, '--state', state]);
    expect(run.code).toBe(75);
    expect(run.stdout + run.stderr).toMatch(
      /--once: nothing started \(tick at event \d+: no lane dispatched; skipped a \(claim_blocked: lane:a is held elsewhere\)\); exit 75/,
    );
    const st = JSON.parse((await cli(['status', '--json', '--state', state])).stdout) as { sessions: unknown[] };
    expect(st.sessions).toEqual([]);
  });
});

describe('run --operator', () => {
  test('runs exactly N sessions back to back, with no timer between them, then exits 0', async () => {
    // A tick every hour: without operator mode only the first tick's session would run.
    const { file, state } = setup(
      [
        { name: 'a', cooldown: '0s', respawn: { chain_limit: 0 } },
        { name: 'b', cooldown: '0s', respawn: { chain_limit: 0 } },
      ],
      { width: 1, interval: '1h' },
    );
    const run = await cli(['run', '--operator', '--sessions', '4', '--config', file, '--state', state]);
    expect(run.code, run.stderr).toBe(0);
    const st = JSON.parse((await cli(['status', '--json', '--state', state])).stdout) as {
      sessions: { dispatch: string; started_at: string; ended_at: string | null; grade: number | null }[];
    };
    expect(st.sessions).toHaveLength(4);
    expect(st.sessions.every((s) => s.dispatch === 'operator' && s.ended_at !== null && s.grade === 0.9)).toBe(true);
    // Width 1: each starts after the one before it ended.
    const spans = st.sessions
      .map((s) => [Date.parse(s.started_at), Date.parse(s.ended_at!)] as const)
      .sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
  });

  test('--operator needs --sessions, and not --once', async () => {
    const { file, state } = setup([{ name: 'a' }]);
    const missing = await cli(['run', '--operator', '--config', file, '--state', state]);
    expect([missing.code, missing.stderr.trim()]).toEqual([
      2,
      'lanekeeper: --operator needs --sessions N: how many sessions to run before it exits',
    ]);
    expect(
      (await cli(['run', '--operator', '--once', '--sessions', '2', '--config', file, '--state', state])).code,
    ).toBe(2);
  });
});
