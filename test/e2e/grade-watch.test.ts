// The session's own grade file, end to end: it is watched while the session runs, so a grade
// written mid-session and rewritten later ends as the later one, a bad write in between is
// journaled with its reason while the session still runs (and does not cost the later grade), and
// a grade file written in place in two halves is never read half-way; a write the agent makes
// the moment it starts (before any watch could be set up) is judged while it runs too.
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect, test } from 'vitest';
import { CONFIG_DIR, fixtureAgent, writeConfig } from '../helpers/config.js';
import { cli } from '../helpers/tmp.js';

interface Row {
  seq: number;
  type: string;
  payload: string;
}

test('a grade rewritten mid-session: the last valid one is used, a bad write is journaled as it lands, halves are never read', async () => {
  const backend = (name: string, env: Record<string, string>) =>
    fixtureAgent('grade-rewrite.mjs', { name, model: 'm', env });
  const { file, state } = writeConfig({
    width: 2,
    lanes: [
      { name: 'rewrite', arms: ['rewrite:m'] },
      { name: 'halves', arms: ['halves:m'] },
    ],
    backends: [
      backend('rewrite', {
        AGENT_GRADES: JSON.stringify([
          '{"grade": 0.2}',
          '{"grade": "great"}',
          '{"grade": 0.9, "dimensions": {"tests": 1}}',
        ]),
        AGENT_GAP_MS: '1200',
      }),
      backend('halves', {
        AGENT_GRADES: JSON.stringify(['{"grade": 0.35}', '{"grade": 0.75}']),
        AGENT_GAP_MS: '1200',
        AGENT_HALVES: '1',
      }),
    ],
  });
  const run = await cli(['run', '--once', '--config', file, '--state', state], {
    env: { LANEKEEPER_LOG_LEVEL: 'debug' },
  });
  expect(run.code, run.stderr).toBe(0);

  const st = JSON.parse((await cli(['status', '--json', '--state', state])).stdout) as {
    sessions: { id: string; lane: string; grade: number | null; grade_source: string | null }[];
  };
  const rewrite = st.sessions.find((s) => s.lane === 'rewrite')!;
  const halves = st.sessions.find((s) => s.lane === 'halves')!;
  expect(rewrite).toMatchObject({ grade: 0.9, grade_source: 'session' });
  expect(halves).toMatchObject({ grade: 0.75, grade_source: 'session' });
  // The first grade was seen while the session ran (debug log), not only at its exit.
  expect(run.stdout).toContain(`${rewrite.id} wrote its grade: 0.2`);

  const db = new Database(path.join(state, 'lanekeeper.db'), { readonly: true });
  const rows = db
    .prepare(
      "SELECT seq, type, payload FROM journal WHERE type IN ('GRADE_REJECTED', 'SESSION_EXITED', 'SESSION_GRADED') ORDER BY seq",
    )
    .all() as Row[];
  db.close();
  const of = (id: string) =>
    rows
      .map((r) => ({ ...r, payload: JSON.parse(r.payload) as Record<string, unknown> }))
      .filter((r) => r.payload.sessionId === id);
  // The bad write: journaled once, with the reason naming the file, before the session exited.
  expect(of(rewrite.id).map((r) => r.type)).toEqual(['GRADE_REJECTED', 'SESSION_EXITED', 'SESSION_GRADED']);
  expect(of(rewrite.id)[0]!.payload.reason).toBe(
    `${path.join(state, 'sessions', rewrite.id, 'grade.json')}: "grade" must be a number in [0, 1], got "great"`,
  );
  expect(of(rewrite.id)[2]!.payload).toMatchObject({ grade: 0.9, source: 'session', dimensions: { tests: 1 } });
  // Written in halves, never read half-way: nothing rejected.
  expect(of(halves.id).map((r) => r.type)).toEqual(['SESSION_EXITED', 'SESSION_GRADED']);
});

test('a bad grade written the moment the agent starts is journaled while it still runs', async () => {
  // A shell agent writes at once, before lanekeeper could have set up any watch, then runs on.
  const script = `printf '{"grade": "great"}' > "$LANEKEEPER_GRADE_FILE"; sleep 1.5; printf '{"grade": 0.8}' > "$LANEKEEPER_GRADE_FILE.tmp"; mv "$LANEKEEPER_GRADE_FILE.tmp" "$LANEKEEPER_GRADE_FILE"`;
  const { file, state } = writeConfig({
    width: 1,
    lanes: [{ name: 'early' }],
    backends: [{ name: 'early', command: ['/bin/sh', '-c', script], cwd: CONFIG_DIR, models: [{ name: 'm' }] }],
  });
  const run = await cli(['run', '--once', '--config', file, '--state', state]);
  expect(run.code, run.stderr).toBe(0);

  const db = new Database(path.join(state, 'lanekeeper.db'), { readonly: true });
  const rows = db
    .prepare(
      "SELECT type, payload FROM journal WHERE type IN ('SESSION_STARTED', 'GRADE_REJECTED', 'SESSION_EXITED', 'SESSION_GRADED') ORDER BY seq",
    )
    .all() as Row[];
  db.close();
  expect(rows.map((r) => r.type)).toEqual(['SESSION_STARTED', 'GRADE_REJECTED', 'SESSION_EXITED', 'SESSION_GRADED']);
  expect(JSON.parse(rows[1]!.payload).reason).toMatch(
    /grade\.json: "grade" must be a number in \[0, 1\], got "great"$/,
  );
  expect(JSON.parse(rows[3]!.payload)).toMatchObject({ grade: 0.8, source: 'session' });
});
