// The learning selector end to end: task files back sessions (and a claimed task is passed over),
// an external selector's choice goes first and a broken one is a recorded contract violation,
// `plan` shows what a tick would do, the resource gate's skip is recorded, and what was learned
// survives a restart.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import { openSqliteStore } from '../../src/adapters/store/sqlite/index.js';
import { fixtureAgent, writeConfig, type TestConfig } from '../helpers/config.js';
import { cli, tmpDir } from '../helpers/tmp.js';

const SELECTORS = path.resolve(import.meta.dirname, '../fixtures/selectors');

interface StatusJson {
  sessions: { id: string; lane: string; task: string | null; grade: number | null }[];
  decisions: {
    kind: string;
    source?: string;
    chosen: { lane: string; task: string | null }[];
    fallbacks?: { step: string; reason: string }[];
    gate?: { action: string; reason: string };
  }[];
}

const status = async (state: string) =>
  JSON.parse((await cli(['status', '--json', '--state', state])).stdout) as StatusJson;

function task(dir: string, id: string, front: string) {
  writeFileSync(path.join(dir, `${id}.md`), `---\n${front}\n---\n# ${id}\n`);
}

describe('selection, end to end', () => {
  test('tasks back sessions in tier order; the agent gets its task; a claimed task is passed over', async () => {
    const dir = tmpDir();
    const tasks = path.join(dir, 'tasks');
    mkdirSync(tasks);
    task(tasks, 'fix-login', 'lane: code\nstate: active');
    task(tasks, 'held-elsewhere', 'lane: docs\nstate: active');
    task(tasks, 'write-guide', 'lane: docs\nstate: ready\npriority: high');
    task(tasks, 'later', 'lane: docs\nstate: backlog');
    const { file, state } = writeConfig(
      {
        width: 2,
        tasks: { dir: 'tasks' },
        // No cooldown or respawn: plan, after the run, ranks every lane (a resting lane is skipped).
        lanes: [
          { name: 'code', cooldown: '0s', respawn: { chain_limit: 0 } },
          { name: 'docs', cooldown: '0s', respawn: { chain_limit: 0 } },
          { name: 'triage' },
        ],
        backends: [fixtureAgent('ok.mjs', { env: { AGENT_GRADE: '0.8' } })],
      },
      { dir },
    );
    // Someone else holds one of the active tasks for an hour.
    await openSqliteStore(state).close();
    expect((await cli(['claim', 'task:held-elsewhere', '--holder', 'another-host', '--state', state])).code).toBe(0);
    const run = await cli(['run', '--config', file, '--state', state, '--for', '3s']);
    expect(run.code).toBe(0);

    const st = await status(state);
    // Lanes with tasks come before triage (lane-level work); docs gets its ready task, not the held one.
    expect(st.sessions.map((s) => [s.lane, s.task]).sort()).toEqual([
      ['code', 'fix-login'],
      ['docs', 'write-guide'],
    ]);
    const code = st.sessions.find((s) => s.lane === 'code')!;
    const log = readFileSync(path.join(state, 'sessions', code.id, 'output.log'), 'utf8');
    expect(log).toContain(`task=fix-login file=${path.join(tasks, 'fix-login.md')}`);
    // The task claims were released with the sessions; the foreign one is still held.
    const { claims } = JSON.parse((await cli(['claims', '--json', '--state', state])).stdout) as {
      claims: { key: string }[];
    };
    expect(claims.map((c) => c.key)).toEqual(['task:held-elsewhere']);
    // Once the active task is completed, plan passes it over and says so; code does lane-level work.
    const token = (await cli(['claim', 'task:fix-login', '--holder', 'me', '--state', state])).stdout.trim();
    expect((await cli(['complete', 'task:fix-login', '--token', token, '--holder', 'me', '--state', state])).code).toBe(
      0,
    );
    const plan = JSON.parse(
      (await cli(['plan', '--json', '--config', file, '--state', state, '--seed', '1'])).stdout,
    ) as {
      chosen: { lane: string; task?: string }[];
      ranked: { lane: string; components: { claimBlocked: string[]; tier: number } }[];
    };
    expect(plan.ranked.find((r) => r.lane === 'code')!.components).toMatchObject({
      claimBlocked: ['fix-login'],
      tier: 3,
    });
    expect(plan.chosen.find((c) => c.lane === 'docs')).toMatchObject({ task: 'write-guide' });
    expect(plan.chosen.some((c) => c.task === 'fix-login' || c.task === 'held-elsewhere')).toBe(false);
    // stats reports the supply per lane.
    const stats = JSON.parse((await cli(['stats', '--json', '--config', file, '--state', state])).stdout) as {
      supply: Record<string, unknown>;
    };
    expect(stats.supply).toEqual({
      code: { active: 1, ready: 0, waiting: 0, backlog: 0 },
      docs: { active: 1, ready: 1, waiting: 0, backlog: 1 },
      triage: { active: 0, ready: 0, waiting: 0, backlog: 0 },
    });
  });

  test("an external selector's selected lane and task go first; a broken selector is a recorded violation", async () => {
    const dir = tmpDir();
    const config = (selector: string) =>
      writeConfig(
        {
          width: 1,
          selector: { command: ['{node}', path.join(SELECTORS, selector)], timeout: '10s' },
          lanes: [{ name: 'code' }, { name: 'content' }, { name: 'triage' }],
          backends: [fixtureAgent('ok.mjs', { env: { AGENT_GRADE: '0.5' } })],
        },
        { dir, name: `${selector}.yaml` },
      ).file;

    const good = path.join(dir, 'good-state');
    expect((await cli(['run', '--config', config('tiered.mjs'), '--state', good, '--for', '3s'])).code).toBe(0);
    const st = await status(good);
    const tick = st.decisions.find((d) => d.kind === 'tick')!;
    expect(tick.source).toBe('external');
    expect(tick.chosen).toEqual([expect.objectContaining({ lane: 'code', task: 'session-grading' })]);
    // "novelty" is no lane here: recorded, not silently dropped.
    expect(tick.fallbacks).toContainEqual({
      step: 'diversity_alternatives',
      reason: expect.stringContaining('novelty'),
    });
    expect(st.sessions.map((s) => [s.lane, s.task])).toEqual([['code', 'session-grading']]);

    const broken = path.join(dir, 'broken-state');
    const run = await cli(['run', '--config', config('truncated.mjs'), '--state', broken, '--for', '3s']);
    expect(run.code).toBe(0);
    expect(run.stdout + run.stderr).toContain('selector.contract_violation');
    const tick2 = (await status(broken)).decisions.find((d) => d.kind === 'tick')!;
    expect(tick2.source).toBe('builtin');
    expect(tick2.fallbacks).toContainEqual({
      step: 'builtin',
      reason: expect.stringMatching(/^selector\.contract_violation: stdout is not valid JSON/),
    });
    expect(tick2.chosen).toHaveLength(1);
    const db = new Database(path.join(broken, 'lanekeeper.db'), { readonly: true });
    const journaled = db.prepare("SELECT payload FROM journal WHERE type = 'SELECTOR_CONTRACT_VIOLATION'").all() as {
      payload: string;
    }[];
    db.close();
    expect(journaled).toHaveLength(1);
    expect((JSON.parse(journaled[0]!.payload) as { reason: string }).reason).toMatch(/not valid JSON/);
  });

  test('plan shows what a tick would do and why; the learning survives a restart; a gated tick is recorded', async () => {
    const dir = tmpDir();
    const write = (resources: TestConfig['resources']) =>
      writeConfig(
        {
          width: 2,
          resources,
          lanes: [
            { name: 'code', target_share: 0.5, cooldown: '0s', respawn: { chain_limit: 0 } },
            { name: 'docs', cooldown: '0s', respawn: { chain_limit: 0 } },
            { name: 'triage', cooldown: '0s', respawn: { chain_limit: 0 } },
          ],
          backends: [fixtureAgent('ok.mjs', { env: { AGENT_GRADE: '0.9' } })],
        },
        { dir },
      );
    const { file, state } = write({ enabled: false });
    type Plan = {
      width: number;
      chosen: { lane: string; score: number; components: Record<string, number> }[];
      skipped: { lane: string; reason: string }[];
      ranked: { lane: string; components: { evidence: number } }[];
      source: string;
      fallbacks: unknown[];
    };
    const plan = async () => {
      const r = await cli(['plan', '--json', '--config', file, '--state', state, '--seed', '42']);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as Plan;
    };
    const before = await plan();
    expect(before).toMatchObject({ width: 2, source: 'builtin', fallbacks: [] });
    expect(before.chosen).toHaveLength(2);
    for (const c of before.chosen)
      expect(Object.keys(c.components).sort()).toEqual([
        'claimBlocked',
        'deficit',
        'evidence',
        'mean',
        'monotony',
        'neglect',
        'plateau',
        'priority',
        'sample',
        'signal',
        'streak',
        'tier',
        'windowShare',
      ]);
    // The same seed gives the same plan; plan starts nothing.
    expect(await plan()).toEqual(before);
    const none = await cli(['status', '--json', '--state', state]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no lanekeeper database at/);

    expect((await cli(['run', '--config', file, '--state', state, '--for', '3s'])).code).toBe(0);
    const learned = await plan();
    const graded = (await status(state)).sessions.map((s) => s.lane);
    expect(graded.length).toBeGreaterThan(0);
    for (const lane of graded)
      expect(learned.ranked.find((r) => r.lane === lane)?.components.evidence).toBeCloseTo(1, 1);

    // A second run goes on from the fleet the first left, its learning with it (RUNTIME_RECOVERED,
    // nothing restored from scratch). No machine has 100% of its memory free; the load thresholds
    // are out of the way.
    write({ min_memory: 1, skip_load: 1000, width1_load: 1000, width2_load: 1000 });
    expect((await cli(['run', '--config', file, '--state', state, '--for', '2s'])).code).toBe(0);
    const db = new Database(path.join(state, 'lanekeeper.db'), { readonly: true });
    const starts = db
      .prepare(
        "SELECT type FROM journal WHERE type IN ('RUNTIME_STARTED', 'RUNTIME_RECOVERED', 'SELECTOR_RESTORED') ORDER BY seq",
      )
      .pluck()
      .all() as string[];
    db.close();
    expect(starts).toEqual(['RUNTIME_STARTED', 'RUNTIME_RECOVERED']);
    write({ enabled: false });
    const after = await plan();
    for (const lane of graded) expect(after.ranked.find((r) => r.lane === lane)?.components.evidence).toBeCloseTo(1, 1);
    // With less than 100% memory free, every tick of the second run was skipped, with the figures.
    const st = await status(state);
    expect(st.sessions).toHaveLength(graded.length);
    expect(st.decisions[0]!.gate).toMatchObject({
      action: 'skip',
      reason: expect.stringMatching(/^available memory \d+(\.\d)?% < 100\.0%/),
    });
    const stats = JSON.parse((await cli(['stats', '--json', '--state', state])).stdout) as { ticks: { gated: number } };
    expect(stats.ticks.gated).toBe(1);
  });
});
