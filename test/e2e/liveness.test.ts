// Liveness as a user sees it: stores filled as a lanekeeper would have left them (lane rows, the
// run's start, sessions with old times), then `status` and `stats`, text and --json, as real
// processes. A stalled fleet gets a STALLED line and `liveness.stalled`; a healthy one, or one
// stopped long ago, does not.
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { openSqliteStore } from '../../src/adapters/store/sqlite/index.js';
import { recordRunStart } from '../../src/cli/liveness.js';
import type { Outcome } from '../../src/policy/outcome.js';
import { cli, tmpDir } from '../helpers/tmp.js';

const MIN = 60_000;

interface Fill {
  run: { startedMinAgo: number; mode: 'service' | 'once' | 'operator' };
  enabled: string[];
  lanes: { lane: string; state: string; sinceMinAgo: number }[];
  /** Minutes ago (fractions allowed); `end` null: still running. */
  sessions: { lane: string; start: number; end: number | null; outcome?: Outcome }[];
}

interface LivenessJson {
  stalled: boolean;
  reasons: string[];
  last_start: string | null;
  last_ok: string | null;
}

async function fill(f: Fill): Promise<{ state: string; now: number }> {
  const state = path.join(tmpDir(), 'state');
  const now = Date.now();
  const store = openSqliteStore(state);
  // What `lanekeeper run` records when it starts, through the same function.
  await recordRunStart(
    store,
    { lanes: f.enabled.map((name) => ({ name, enabled: true })) },
    f.run.mode,
    now - f.run.startedMinAgo * MIN,
  );
  for (const l of f.lanes)
    await store.lanes.set({
      lane_id: l.lane,
      lane: l.lane,
      slot: 1,
      state: l.state,
      since: now - l.sinceMinAgo * MIN,
      session: null,
    });
  let n = 0;
  for (const s of f.sessions) {
    const id = `${s.lane}-${++n}`;
    await store.sessions.insert({
      id,
      lane: s.lane,
      lane_id: s.lane,
      arm: 'fixture:m',
      dispatch: 'tick',
      parent: null,
      started_at: now - s.start * MIN,
      log_path: null,
    });
    if (s.end !== null)
      await store.sessions.update(id, {
        ended_at: now - s.end * MIN,
        outcome: s.outcome ?? 'productive',
        exit_code: s.outcome === 'failed' ? 1 : 0,
      });
  }
  await store.close();
  return { state, now };
}

async function views(state: string) {
  const run = async (args: string[]) => {
    const r = await cli([...args, '--state', state]);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const statusJson = JSON.parse(await run(['status', '--json'])) as Record<string, unknown> & {
    liveness: LivenessJson;
  };
  const statsJson = JSON.parse(await run(['stats', '--json'])) as Record<string, unknown> & { liveness: LivenessJson };
  return { statusJson, statsJson, statusText: await run(['status']), statsText: await run(['stats']) };
}

const idle = (...names: string[]) => names.map((lane) => ({ lane, state: 'idle', sinceMinAgo: 30 }));

describe('status and stats flag a stall', () => {
  test('no session started in 2h 10m: STALLED line in both views, liveness in both JSON documents', async () => {
    const { state, now } = await fill({
      run: { startedMinAgo: 300, mode: 'service' },
      // ops is configured but disabled: not named.
      enabled: ['code', 'docs'],
      lanes: idle('code', 'docs', 'ops'),
      sessions: [{ lane: 'code', start: 130 + 1 / 3, end: 120 }],
    });
    const v = await views(state);
    const expected = {
      stalled: true,
      reasons: ['no session started in 2h 10m (enabled lanes: code, docs)'],
      last_start: new Date(now - (130 + 1 / 3) * MIN).toISOString(),
      last_ok: new Date(now - 120 * MIN).toISOString(),
    };
    expect(v.statusJson.liveness).toEqual(expected);
    expect(v.statsJson.liveness).toEqual(expected);
    // Fields were added, none removed.
    expect(Object.keys(v.statusJson)).toEqual(
      expect.arrayContaining(['state_dir', 'lanes', 'sessions', 'decisions', 'next_tick', 'claims', 'liveness']),
    );
    expect(Object.keys(v.statsJson)).toEqual(
      expect.arrayContaining([
        'since',
        'peak_concurrency',
        'total_acquisitions',
        'same_lock_violations',
        'orphaned_results',
        'liveness',
      ]),
    );
    const line = 'STALLED: no session started in 2h 10m (enabled lanes: code, docs)';
    // Right under the header of status, near the top of stats.
    expect(v.statusText.split('\n').slice(0, 4)).toContain(line);
    expect(v.statsText.split('\n').slice(0, 3)).toContain(line);
  });

  test('every session in the last 1h 20m failed or timed out: the other rule', async () => {
    const { state } = await fill({
      run: { startedMinAgo: 180, mode: 'service' },
      enabled: ['code', 'docs'],
      lanes: idle('code', 'docs'),
      sessions: [
        { lane: 'docs', start: 20, end: 19, outcome: 'failed' },
        { lane: 'code', start: 50, end: 40, outcome: 'timeout' },
        { lane: 'code', start: 100, end: 80 + 1 / 3, outcome: 'noop' },
      ],
    });
    const v = await views(state);
    const reasons = ['no non-failed session in 1h 20m (2 sessions since failed or timed out)'];
    expect(v.statusJson.liveness).toMatchObject({ stalled: true, reasons });
    expect(v.statsJson.liveness).toMatchObject({ stalled: true, reasons });
    expect(v.statusText).toContain(`STALLED: ${reasons[0]}`);
    expect(v.statsText).toContain(`STALLED: ${reasons[0]}`);
  });
});

describe('no stall to flag', () => {
  test('a session started 10 minutes ago: not stalled; stats says when the last ones were', async () => {
    const { state } = await fill({
      run: { startedMinAgo: 300, mode: 'service' },
      enabled: ['code'],
      lanes: idle('code'),
      sessions: [
        { lane: 'code', start: 10.2, end: 5.2 },
        { lane: 'code', start: 200, end: 190, outcome: 'failed' },
      ],
    });
    const v = await views(state);
    expect(v.statusJson.liveness).toMatchObject({ stalled: false, reasons: [] });
    expect(v.statsJson.liveness).toMatchObject({ stalled: false, reasons: [] });
    expect(v.statusText).not.toContain('STALLED');
    expect(v.statsText).not.toContain('STALLED');
    expect(v.statsText).toContain('liveness: ok; last session started 10m ago, last non-failed 5m ago');
  });

  test('a freshly started run after a long quiet spell is not stalled', async () => {
    const { state } = await fill({
      run: { startedMinAgo: 2, mode: 'service' },
      enabled: ['code'],
      lanes: idle('code'),
      sessions: [{ lane: 'code', start: 900, end: 890 }],
    });
    expect((await views(state)).statusJson.liveness).toMatchObject({ stalled: false, reasons: [] });
  });

  test('lanekeeper stopped three hours ago: status says it is not running, not that it stalled', async () => {
    const { state } = await fill({
      run: { startedMinAgo: 600, mode: 'service' },
      enabled: ['code'],
      lanes: [{ lane: 'code', state: 'stopped', sinceMinAgo: 180 }],
      sessions: [{ lane: 'code', start: 500, end: 490, outcome: 'failed' }],
    });
    const v = await views(state);
    expect(v.statusJson.liveness).toMatchObject({ stalled: false, reasons: [], last_ok: null });
    expect(v.statusText).toMatch(/lanekeeper is not running \(stopped .*, 3h ago\)/);
    expect(v.statusText).not.toContain('STALLED');
  });
});
