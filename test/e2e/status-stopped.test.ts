// `status` knows whether lanekeeper runs: it asks the kernel whether anyone holds the state
// directory's instance lock. After a kill -9 it says the last run ended without draining, plans no
// tick, and marks what the journal left open as "was running"; the next start goes on from there.
import { describe, expect, test } from 'vitest';
import { startCli } from '../helpers/run-process.js';
import { fixtureAgent, writeConfig } from '../helpers/config.js';
import { cli } from '../helpers/tmp.js';

interface Status {
  running: boolean | null;
  last_stop: { at: string; clean: boolean } | null;
  next_tick: string | null;
  lanes: { lane_id: string; state: string; session: string | null }[];
  sessions: { id: string; ended_at: string | null; outcome: string | null }[];
}

describe('status after kill -9', () => {
  test('not running, ended without draining at the last event; what was running is marked; the next start closes it', async () => {
    const { file, state } = writeConfig({
      width: 1,
      sessions: { on_restart: 'kill', kill_grace: '1s', drain_grace: '1s' },
      lanes: [{ name: 'code', cooldown: '0s' }],
      backends: [fixtureAgent('hang.mjs')],
    });
    const status = async () => {
      const text = await cli(['status', '--state', state]);
      const json = await cli(['status', '--json', '--state', state]);
      expect(json.code, json.stderr).toBe(0);
      return { text: text.stdout, json: JSON.parse(json.stdout) as Status };
    };

    const run = startCli(['run', '--config', file, '--state', state]);
    await run.waitFor(/code-\d+ started on fixture:ok/);
    const live = await status();
    expect([live.json.running, live.json.last_stop, live.json.next_tick !== null]).toEqual([true, null, true]);
    expect(live.text).toMatch(/^next tick (\d{4}-\d\d-\d\d \d\d:\d\d|\d\d:\d\d:\d\d) \(in /m);

    run.child.kill('SIGKILL');
    await run.exited;
    const dead = await status();
    expect(dead.json.running).toBe(false);
    expect(dead.json.last_stop).toEqual({ at: expect.any(String), clean: false });
    expect(dead.json.next_tick).toBeNull();
    expect(dead.text).toMatch(
      /^lanekeeper is not running \(the last run ended without draining at \d\d:\d\d:\d\d, \d+s ago\)$/m,
    );
    expect(dead.text).not.toContain('next tick');
    expect(dead.text).toMatch(/^code\s+was running\s+\d+s\s+code-\d+\s/m);
    expect(dead.text).toMatch(/^code-\d+\s+fixture:ok\s+tick\s+\d\d:\d\d:\d\d\s+was running\s*$/m);

    // The next start goes on from there: the agent left behind is stopped (on_restart: kill) and closed.
    const again = startCli(['run', '--config', file, '--state', state, '--for', '2s']);
    expect(await again.exited).toBe(0);
    const after = await status();
    expect(after.json.last_stop?.clean).toBe(true);
    expect(after.json.sessions.find((s) => s.id === dead.json.lanes[0]!.session)).toMatchObject({ outcome: 'unknown' });
    expect(after.text).not.toMatch(/was running/);
  });
});
