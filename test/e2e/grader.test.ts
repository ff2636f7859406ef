// The grader command end to end: a session that writes no grade file is graded by the configured
// grader from its record on stdin; a broken grader is journaled as a rejected grade and the
// default from the outcome stands; a session whose agent never started is not sent to the grader.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import { fixtureAgent, writeConfig, type BackendConfig, type LaneConfig, type TestConfig } from '../helpers/config.js';
import { cli, tmpDir } from '../helpers/tmp.js';

const GRADERS = path.resolve(import.meta.dirname, '../fixtures/graders');

interface StatusJson {
  sessions: { id: string; lane: string; outcome: string; grade: number | null; grade_source: string | null }[];
}

const status = async (state: string) =>
  JSON.parse((await cli(['status', '--json', '--state', state])).stdout) as StatusJson;

function journal(state: string, type: string): Record<string, unknown>[] {
  const db = new Database(path.join(state, 'lanekeeper.db'), { readonly: true });
  const rows = db.prepare('SELECT payload FROM journal WHERE type = ?').pluck().all(type) as string[];
  db.close();
  return rows.map((r) => JSON.parse(r) as Record<string, unknown>);
}

/** A git repository without commits: an agent that commits nothing there is a noop (default grade 0.3). */
function repo(): string {
  const dir = tmpDir();
  execFileSync('git', ['init', '-q', dir]);
  return dir;
}

let configs = 0;
function config(
  dir: string,
  grading: TestConfig['grading'],
  lanes: LaneConfig[] = [{ name: 'code' }],
  extraBackends: BackendConfig[] = [],
): string {
  return writeConfig(
    {
      width: 2,
      grading,
      lanes,
      backends: [fixtureAgent('ok.mjs', { env: { AGENT_SLEEP_MS: '50' } }), ...extraBackends],
    },
    { dir, name: `lk-${++configs}.yaml` },
  ).file;
}

const grader = (fixture: string) => ['{node}', path.join(GRADERS, fixture)];

describe('grader command, end to end', () => {
  test('a session without a grade file is graded by the grader from its record; weights make a composite', async () => {
    const dir = repo();
    const state = path.join(dir, 'state');
    const run = await cli([
      'run',
      '--config',
      config(dir, { command: grader('good.mjs'), timeout: '10s' }),
      '--state',
      state,
      '--for',
      '3s',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const st = await status(state);
    expect(st.sessions).toHaveLength(1);
    expect(st.sessions[0]).toMatchObject({ lane: 'code', outcome: 'noop', grade: 0.42, grade_source: 'grader' });
    expect(journal(state, 'GRADE_REJECTED')).toEqual([]);
    expect(journal(state, 'SESSION_GRADED')).toEqual([
      expect.objectContaining({ grade: 0.42, source: 'grader', dimensions: { quality: 0.9, tests: 0.3 } }),
    ]);

    // With weights, the dimensions define the grade: (3·0.9 + 1·0.3) / 4 = 0.75.
    const weighted = path.join(dir, 'weighted');
    const run2 = await cli([
      'run',
      '--config',
      config(dir, { command: grader('good.mjs'), timeout: '10s', weights: { quality: 3, tests: 1 } }),
      '--state',
      weighted,
      '--for',
      '3s',
    ]);
    expect(run2.code, run2.stderr).toBe(0);
    const [s] = (await status(weighted)).sessions;
    expect(s).toMatchObject({ grade_source: 'grader' });
    expect(s!.grade).toBeCloseTo(0.75, 9);
  });

  test('a broken grader: the rejection is journaled with its reason and the default grade stands; a censored session skips the grader', async () => {
    const dir = repo();
    const state = path.join(dir, 'state');
    const lanes = [
      { name: 'code', arms: ['fixture:ok'] },
      { name: 'broken', arms: ['ghost:m'] },
    ];
    const ghost = { name: 'ghost', command: ['lanekeeper-no-such-agent-binary'], models: [{ name: 'm' }] };
    const run = await cli([
      'run',
      '--config',
      config(dir, { command: grader('bad-json.mjs'), timeout: '10s' }, lanes, [ghost]),
      '--state',
      state,
      '--for',
      '3s',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout + run.stderr).toMatch(/grade rejected: grader: not JSON/);
    const st = await status(state);
    expect(st.sessions.find((s) => s.lane === 'code')).toMatchObject({
      outcome: 'noop',
      grade: 0.3,
      grade_source: 'default',
    });
    expect(st.sessions.find((s) => s.lane === 'broken')).toMatchObject({
      outcome: 'failed',
      grade: 0.05,
      grade_source: 'default',
    });
    const rejected = journal(state, 'GRADE_REJECTED');
    // Only the session that ran was sent to the grader.
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.sessionId).toBe(st.sessions.find((s) => s.lane === 'code')!.id);
    expect(rejected[0]!.reason).toMatch(/^grader: not JSON \(/);
  });
});
