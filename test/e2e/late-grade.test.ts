// `lanekeeper grade`: a grade given after the fact shows at once, is learned by the runtime (here
// at its next start), and replaces the session's earlier grade: a session never counts twice.
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect, test } from 'vitest';
import { fixtureAgent, writeConfig } from '../helpers/config.js';
import { cli } from '../helpers/tmp.js';

test('late grades replace the earlier grade in what was learned; bad input is refused with the reason', async () => {
  const { file, state } = writeConfig({
    width: 1,
    lanes: [{ name: 'code' }],
    backends: [fixtureAgent('ok.mjs', { env: { AGENT_GRADE: '0.3' } })],
  });
  expect((await cli(['run', '--once', '--config', file, '--state', state])).code).toBe(0);
  const status = async () =>
    JSON.parse((await cli(['status', '--json', '--state', state])).stdout) as {
      sessions: { id: string; grade: number; grade_source: string }[];
    };
  const [session] = (await status()).sessions;
  expect(session).toMatchObject({ grade: 0.3, grade_source: 'session' });

  const first = await cli(['grade', session!.id, '0.9', '--state', state]);
  expect(first.stdout).toContain(`graded ${session!.id} 0.90 (was 0.30 from session)`);
  expect((await cli(['grade', session!.id, '0.8', '--dimensions', '{"quality": 0.8}', '--state', state])).code).toBe(0);
  expect((await status()).sessions[0]).toMatchObject({ grade: 0.8, grade_source: 'late' });

  for (const [args, message] of [
    [[session!.id, '1.5'], 'lanekeeper: SCORE: expected a grade from 0 to 1, got "1.5"'],
    [['code-999', '0.5'], `lanekeeper: no session "code-999" in ${state} (lanekeeper status lists them)`],
    [
      [session!.id, '0.5', '--dimensions', '{"quality": 2}'],
      'lanekeeper: --dimensions: "dimensions.quality" is 2, outside [0, 1]',
    ],
  ] as const) {
    const r = await cli(['grade', ...args, '--state', state]);
    expect([r.code, r.stderr.trim()]).toEqual([2, message]);
  }

  // The next start learns both late grades; nothing else runs (the lane's slot is held elsewhere).
  expect((await cli(['claim', 'lane:code', '--holder', 'elsewhere', '--state', state])).code).toBe(0);
  expect((await cli(['run', '--once', '--config', file, '--state', state])).code).toBe(75);
  const db = new Database(path.join(state, 'lanekeeper.db'), { readonly: true });
  const regraded = db.prepare("SELECT count(*) FROM journal WHERE type = 'SESSION_REGRADED'").pluck().get();
  const beliefs = JSON.parse(
    db.prepare("SELECT data FROM posteriors WHERE scope = 'lane' AND arm = 'code'").pluck().get() as string,
  ) as { posterior: { counts: number[] } };
  db.close();
  expect(regraded).toBe(2);
  // One session, one grade: evidence 1, all of it at 0.8 (the 0.3, then the 0.9, were taken back out).
  const counts = beliefs.posterior.counts;
  expect(counts.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  expect(counts[8]).toBeCloseTo(1, 6);
});
