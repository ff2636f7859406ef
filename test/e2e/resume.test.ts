// Every start goes on from the fleet the last run left, not only after a crash: cooldowns and
// their deadlines, respawn chains and the configuration's changes carry over a clean drain, a
// --once timer run and a restart, and replay across the restarts finds 0 divergences.
import { describe, expect, test } from 'vitest';
import { startCli } from '../helpers/run-process.js';
import { fixtureAgent, writeConfig, type LaneConfig } from '../helpers/config.js';
import { cli, tmpDir } from '../helpers/tmp.js';

function setup(lanes: LaneConfig[], env: Record<string, string> = { AGENT_GRADE: '0.9', AGENT_SLEEP_MS: '200' }) {
  const dir = tmpDir();
  const write = (laneList: LaneConfig[]) =>
    writeConfig(
      { width: 2, sessions: { drain_grace: '5s' }, lanes: laneList, backends: [fixtureAgent('ok.mjs', { env })] },
      { dir },
    );
  const { file, state } = write(lanes);
  return { file, state, write };
}

interface Status {
  running: boolean;
  lanes: { name: string; state: string }[];
  sessions: {
    id: string;
    lane: string;
    dispatch: string;
    parent: string | null;
    outcome: string | null;
    grade: number | null;
  }[];
}
const status = async (state: string) =>
  JSON.parse((await cli(['status', '--json', '--state', state])).stdout) as Status;

async function replayed(state: string): Promise<{ divergences: number; events: number }> {
  const r = await cli(['replay', '--state', state, '--from-start', '--json']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { divergences: number; events: number };
}

describe('every start goes on from the last run', () => {
  test('three --once runs against a 2h cooldown: the first starts the lane, the next two start nothing and exit 75', async () => {
    const { file, state } = setup([{ name: 'code', cooldown: '2h' }]);
    const first = await cli(['run', '--once', '--config', file, '--state', state]);
    expect(first.code, first.stderr).toBe(0);
    for (const _ of [2, 3]) {
      const again = await cli(['run', '--once', '--config', file, '--state', state]);
      expect(again.code, again.stdout + again.stderr).toBe(75);
      expect(again.stdout + again.stderr).toMatch(/skipped code \(cooldown\)/);
    }
    expect((await status(state)).sessions.map((s) => s.lane)).toEqual(['code']);
    // plan, from the same state, says how long the lane still rests.
    const plan = await cli(['plan', '--config', file, '--state', state, '--json']);
    const skipped = (JSON.parse(plan.stdout) as { skipped: { lane: string; reason: string }[] }).skipped;
    expect(skipped).toEqual([{ lane: 'code', reason: expect.stringMatching(/^cooldown \((1h 59m|2h) left\)$/) }]);
    expect((await cli(['plan', '--config', file, '--state', state])).stdout).toMatch(
      /code: cooldown \((1h 59m|2h) left\)/,
    );
    expect((await replayed(state)).divergences).toBe(0);
  });

  test('a drain in the middle of a respawn chain: the next start follows the session back to back once its cooldown ends', async () => {
    const { file, state } = setup([{ name: 'a', cooldown: '3s', respawn: { threshold: 0.65, chain_limit: 1 } }]);
    const first = startCli(['run', '--config', file, '--state', state]);
    await first.waitFor(/cooling down for 3s/);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const [parent] = (await status(state)).sessions;
    expect(parent).toMatchObject({ lane: 'a', dispatch: 'tick', grade: 0.9 });

    // The timer's first tick finds a cooling down: only the respawn starts, when the 3s are over.
    const second = startCli(['run', '--config', file, '--state', state]);
    await second.waitFor(/respawn: a-\d+ follows /);
    await second.waitFor(/ graded 0\.90/);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(second.output()).toMatch(
      /going on from the last run \(drained [^)]+\): lanes restored from the journal \(\d+ events? from seq \d+, after its last checkpoint\); resting: a cooldown \((\d+(\.\d)?s left|due now)\)/,
    );
    const sessions = (await status(state)).sessions;
    expect(sessions).toHaveLength(2);
    expect(sessions[0]).toMatchObject({ lane: 'a', dispatch: 'respawn', parent: parent!.id });
    expect((await replayed(state)).divergences).toBe(0);
  });

  test('a cooldown that ended while nothing ran is simply due: the respawn it earned starts at once', async () => {
    const { file, state } = setup([{ name: 'a', cooldown: '1s', respawn: { threshold: 0.65, chain_limit: 1 } }]);
    const first = startCli(['run', '--config', file, '--state', state]);
    await first.waitFor(/cooling down for 1s/);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    await new Promise((r) => setTimeout(r, 1500));
    // The respawn the fleet owed starts as the fleet resumes, before the start's own tick.
    const second = startCli(['run', '--config', file, '--state', state, '--for', '4s']);
    expect(await second.exited).toBe(0);
    const sessions = (await status(state)).sessions;
    expect(sessions.map((s) => s.dispatch)).toEqual(['respawn', 'tick']);
    expect(sessions[0]!.parent).toBe(sessions[1]!.id);
  });

  test('a configuration changed between runs is applied as a reload: a removed lane is gone, an added one runs', async () => {
    const { file, state, write } = setup([
      { name: 'a', cooldown: '2h' },
      { name: 'b', cooldown: '2h' },
    ]);
    expect((await cli(['run', '--once', '--config', file, '--state', state])).code).toBe(0);
    write([
      { name: 'a', cooldown: '2h' },
      { name: 'c', cooldown: '2h' },
    ]);
    const again = await cli(['run', '--once', '--config', file, '--state', state]);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    const st = await status(state);
    expect(st.lanes.map((l) => l.name).sort()).toEqual(['a', 'c']);
    // a still cools down from the first run; c is new and runs.
    expect(st.sessions.map((s) => s.lane).sort()).toEqual(['a', 'b', 'c']);
    const journal = JSON.parse((await cli(['replay', '--state', state, '--from-start', '--json'])).stdout) as {
      divergences: number;
    };
    expect(journal.divergences).toBe(0);
  });
});
