// Chaos on PostgreSQL: a real `lanekeeper run` keeps three lanes busy with short fake agents while
// every few seconds, for about a minute, every connection it has to the database is ended from
// under it (pg_terminate_backend, the host lock's connection included). Then it is drained with
// SIGTERM. The process must not crash, and the store must show that nothing was lost or done
// twice: the journal without a gap, every session ended with an outcome and journaled once, every
// grade learned once, no lane slot with two holders at once, no claim left unaccounted for, the
// host lock held again.
//
// Only this run's connections are ended (its host id is unique, and every connection names it in
// application_name), so other tests on the same database go on undisturbed.
// Needs LANEKEEPER_TEST_PG_URL (skipped with a message without it, failed with LANEKEEPER_REQUIRE_PG=1).
// CHAOS_PG_SECONDS sets how long the backends are killed (default 60).
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import { openPostgresStore } from '../../src/adapters/store/postgres/index.js';
import { rngFromSeed } from '../../src/policy/prng.js';
import { probePostgres } from '../store/contract/backends.js';
import { startCli } from '../helpers/run-process.js';
import { fixtureAgent, writeConfig } from '../helpers/config.js';
import { cli } from '../helpers/tmp.js';
import { inSchema, peak } from '../helpers/intervals.js';

const probe = await probePostgres(process.env.LANEKEEPER_TEST_PG_URL);
if (!probe.ok && process.env.LANEKEEPER_REQUIRE_PG === '1') throw new Error(`LANEKEEPER_REQUIRE_PG=1 but ${probe.why}`);
if (!probe.ok) console.warn(`chaos on PostgreSQL skipped: ${probe.why}`);

const SECONDS = Number(process.env.CHAOS_PG_SECONDS ?? 60);
const SEED = Number(process.env.CHAOS_SEED ?? 20261124);
const LANES = ['a', 'b', 'c'];

describe.skipIf(!probe.ok)(
  `PostgreSQL backends killed every few seconds${probe.ok ? '' : ` (skipped: ${probe.why})`}`,
  () => {
    const url = probe.ok ? probe.url : '';
    const schema = `lk_chaos_${process.pid}_${Date.now().toString(36)}`;
    const host = `chaos-${process.pid}-${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: url });
    afterAll(async () => {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await admin.end().catch(() => {});
    });

    /** Ends every connection of this run (the pool's and the host lock's); how many it ended. */
    const killBackends = async () =>
      (
        await admin.query<{ n: number }>(
          `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND (application_name = $1 OR application_name LIKE $2)`,
          [`lanekeeper:${host}`, `lanekeeper host ${host}: %`],
        )
      ).rows[0]!.n;
    const lockHeld = async () =>
      (
        await admin.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE $1`,
          [`lanekeeper host ${host}: %`],
        )
      ).rows[0]!.n;

    test(
      `3 lanes, every connection ended every few seconds for ${SECONDS}s (seed ${SEED}): no crash, nothing lost, no lock held twice`,
      { timeout: (SECONDS + 120) * 1000 },
      async () => {
        await admin.connect();
        await admin.query(`CREATE SCHEMA ${schema}`);
        const storeUrl = inSchema(url, schema);
        const { file, state } = writeConfig({
          store: storeUrl,
          width: 3,
          sessions: { kill_grace: '1s', drain_grace: '10s' },
          lanes: LANES.map((name) => ({
            name,
            concurrency: 1,
            timeout: '1m',
            cooldown: '0s',
            respawn: { threshold: 0.5, chain_limit: 100 },
          })),
          backends: [fixtureAgent('ok.mjs', { env: { AGENT_SLEEP_MS: '400', AGENT_GRADE: '0.9' } })],
        });
        const run = startCli(['run', '--config', file, '--state', state, '--tick', '1s'], {
          env: { LANEKEEPER_HOST: host },
        });
        const started = () => (run.output().match(/ started on fixture:ok/g) ?? []).length;
        await run.waitFor(/ started on fixture:ok/, { count: 3 });

        const random = rngFromSeed(SEED);
        const until = Date.now() + SECONDS * 1000;
        const kills: number[] = [];
        let exited = false;
        void run.exited.then(() => (exited = true));
        while (Date.now() < until && !exited) {
          await new Promise((r) => setTimeout(r, 1500 + random() * 2500));
          kills.push(await killBackends());
        }
        // After the last kill the fleet still works: another session starts, and the host lock is held again.
        await run.waitFor(/ started on fixture:ok/, { count: started() + 1, timeoutMs: 60_000 });
        for (let i = 0; i < 200 && (await lockHeld()) !== 1; i++) await new Promise((r) => setTimeout(r, 100));
        expect(await lockHeld(), 'the host lock, held again').toBe(1);
        run.child.kill('SIGTERM');
        const code = await run.exited;
        const out = run.output();
        expect(code, out.slice(-4000)).toBe(0);
        expect(out).not.toMatch(/Unhandled|uncaught|^\s+at /im);
        // It really was hit: most rounds found connections to end.
        console.info(
          `chaos on PostgreSQL: ${kills.length} rounds, ${kills.reduce((a, b) => a + b, 0)} connections ended, ${started()} sessions`,
        );
        expect(kills.filter((n) => n > 0).length).toBeGreaterThanOrEqual(Math.min(10, Math.floor(SECONDS / 5)));

        // What the operator sees: no lock granted while held, no release or completion refused.
        const stats = await cli(['stats', '--json', '--config', file], { env: { LANEKEEPER_HOST: host } });
        expect(stats.code, stats.stderr).toBe(0);
        expect(JSON.parse(stats.stdout)).toMatchObject({ same_lock_violations: 0, orphaned_results: 0 });

        const store = await openPostgresStore(url, { schema, mustExist: true, host });
        const sessions = await store.sessions.list();
        const claims = await store.claims.list({ all: true });
        const memory = await store.learning.load();
        await store.close();
        const journal = (
          await admin.query<{ seq: number; type: string; payload: string }>(
            `SELECT seq::int AS seq, type, payload FROM ${schema}.journal WHERE host = $1 ORDER BY seq`,
            [host],
          )
        ).rows;

        // The journal: 1..N, no hole, no event twice.
        expect(journal.map((r) => r.seq)).toEqual(journal.map((_, i) => i + 1));
        // Every session ended with an outcome, and was started, exited and graded once in the journal.
        expect(sessions.length).toBeGreaterThanOrEqual(10);
        const count = (type: string, id: string) =>
          journal.filter((r) => r.type === type && (JSON.parse(r.payload) as { sessionId?: string }).sessionId === id)
            .length;
        for (const s of sessions) {
          expect(s.ended_at, s.id).not.toBeNull();
          expect(s.outcome, s.id).not.toBeNull();
          expect(
            [count('SESSION_STARTED', s.id), count('SESSION_EXITED', s.id), count('SESSION_GRADED', s.id)],
            s.id,
          ).toEqual([1, 1, 1]);
        }
        // Every grade learned once: what was learned is the graded sessions, each once.
        const learnable = journal
          .filter((r) => r.type === 'SESSION_GRADED')
          .map((r) => JSON.parse(r.payload) as { sessionId: string; grade: number | null; censored?: string })
          .filter((e) => e.grade !== null && !e.censored);
        expect([...memory!.graded!].map(([id]) => id).sort()).toEqual(learnable.map((e) => e.sessionId).sort());
        // The agents ran through the outages undisturbed: they ended on their own, not stopped by them.
        expect(sessions.filter((s) => s.exit_code !== 0).map((s) => `${s.id}: ${s.outcome} (${s.reason})`)).toEqual([]);
        // No lane ran two sessions at once; every lane slot was given back, none refused as stale.
        // (The fleet's width a tick used, fleet:width, is not given back but lapses: that is what bounds it.)
        for (const lane of LANES)
          expect(
            peak(sessions.filter((s) => s.lane === lane).map((s) => [s.started_at, s.ended_at!])),
            lane,
          ).toBeLessThanOrEqual(1);
        expect(claims.filter((c) => c.state === 'claimed' && c.key !== 'fleet:width')).toEqual([]);
        expect(out).not.toMatch(/could not release/);
      },
    );
  },
);
