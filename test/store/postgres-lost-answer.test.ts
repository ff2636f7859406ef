// A statement whose answer is lost (PostgreSQL): it ran and committed, then the connection went
// before the answer arrived, so the store tries again on a new connection. It must end as if the
// answer had arrived: a release is not refused as stale the second time (no orphan, no warning),
// an append or an insert is not written twice, and a second writer's append is still refused.
// The loss is real: a TCP proxy between the store and the server cuts the connection right after
// the server has finished the statement (test/helpers/pg-proxy.ts).
//
// Needs LANEKEEPER_TEST_PG_URL, like the store contract; skipped without it unless
// LANEKEEPER_REQUIRE_PG=1.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openPostgresStore } from '../../src/adapters/store/postgres/index.js';
import type { Store } from '../../src/ports/store.js';
import { pgProxy, type PgProxy } from '../helpers/pg-proxy.js';
import { probePostgres } from './contract/backends.js';

const probe = await probePostgres(process.env.LANEKEEPER_TEST_PG_URL);
if (!probe.ok && process.env.LANEKEEPER_REQUIRE_PG === '1') throw new Error(`LANEKEEPER_REQUIRE_PG=1 but ${probe.why}`);
if (!probe.ok) console.warn(`lost answers on PostgreSQL skipped: ${probe.why}`);

const MINUTE = 60_000;

describe.skipIf(!probe.ok)(
  `the answer to a statement that committed is lost${probe.ok ? '' : ` (skipped: ${probe.why})`}`,
  () => {
    const url = probe.ok ? probe.url : '';
    const schema = `lk_lost_${process.pid}_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: url });
    let proxy: PgProxy;
    let store: Store;
    const outages: string[] = [];
    const rows = async <R extends pg.QueryResultRow>(sql: string, values: unknown[] = []) =>
      (await admin.query<R>(sql.replaceAll('{s}', schema), values)).rows;

    beforeAll(async () => {
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      proxy = await pgProxy(url);
      store = await openPostgresStore(proxy.url, {
        schema,
        host: 'h',
        onAvailability: (up, why) => outages.push(`${up ? 'up' : 'down'}: ${why}`),
      });
    });
    afterAll(async () => {
      await store?.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await admin.end().catch(() => {});
    });

    /** Runs `fn` with the answer of statement `name` lost once, and checks that it was. */
    async function losing<T>(name: string, fn: () => Promise<T>): Promise<T> {
      const before = proxy.lost;
      proxy.loseAnswerOf(name);
      const r = await fn();
      expect(proxy.lost, `the answer of ${name} was lost`).toBe(before + 1);
      return r;
    }

    test('a release that went through is not refused as stale when it is tried again', async () => {
      const a = await store.claims.acquire({ key: 'task:release', holder: 's1', ttlMs: MINUTE });
      if (!a.granted) throw new Error('not granted');
      expect(
        await losing('lk_claims_finish_one', () =>
          store.claims.release({ key: 'task:release', holder: 's1', token: a.token }),
        ),
      ).toEqual({ ok: true });
      expect(await store.claims.orphans()).toEqual([]);
      const events = (await store.claims.lockRecords()).filter((r) => r.key === 'task:release').map((r) => r.event);
      expect(events).toEqual(['acquired', 'released']);
      // The store said so once each way, not once per retry.
      expect(outages.filter((o) => o.startsWith('down')).length).toBe(outages.filter((o) => o.startsWith('up')).length);
    });

    test('a completion that went through is not refused either, and a real second one still is', async () => {
      const a = await store.claims.acquire({ key: 'task:complete', holder: 's1', ttlMs: MINUTE });
      if (!a.granted) throw new Error('not granted');
      expect(
        await losing('lk_claims_finish_one', () =>
          store.claims.complete({ key: 'task:complete', holder: 's1', token: a.token, result: 'done' }),
        ),
      ).toEqual({ ok: true });
      expect(await store.claims.orphans()).toEqual([]);
      // Without a lost connection, finishing twice is the caller's mistake, refused as before.
      expect(
        await store.claims.complete({ key: 'task:complete', holder: 's1', token: a.token, result: 'done' }),
      ).toEqual({ ok: false, reason: expect.stringMatching(/already completed/) });
    });

    test("a session's end releases its claims once and says which", async () => {
      for (const key of ['task:x', 'task:y'])
        expect((await store.claims.acquire({ key, holder: 's2', ttlMs: MINUTE })).granted).toBe(true);
      expect((await store.claims.acquire({ key: 'lane:a', holder: 's2', ttlMs: MINUTE })).granted).toBe(true);
      expect(
        await losing('lk_claims_release_holder', () => store.claims.releaseHolder('s2', { except: ['lane:a'] })),
      ).toEqual(['task:x', 'task:y']);
      expect((await store.claims.list({ holder: 's2' })).map((c) => c.key)).toEqual(['lane:a']);
    });

    test('a journal append is written once; another event at its seq is still refused', async () => {
      await store.journal.append({ type: 'TICK', reason: 'start', seq: 1, now: 10, seed: 7 });
      await losing('lk_journal_append', () => store.journal.append({ type: 'WAKE', seq: 2, now: 20 }));
      await store.journal.append({ type: 'WAKE', seq: 3, now: 30 });
      expect((await store.journal.read()).map((e) => [e.seq, e.type])).toEqual([
        [1, 'TICK'],
        [2, 'WAKE'],
        [3, 'WAKE'],
      ]);
      // A second writer's event at a seq already taken is not mistaken for the lost answer.
      await expect(
        losing('lk_journal_append', () => store.journal.append({ type: 'WAKE', seq: 3, now: 31 })),
      ).rejects.toThrow(/unique/i);
    });

    test('a session, a decision and a late grade are each recorded once', async () => {
      await losing('lk_sessions_insert', () =>
        store.sessions.insert({
          id: 'a-1@h',
          lane: 'a',
          lane_id: 'a',
          arm: 'x:y',
          dispatch: 'tick',
          parent: null,
          started_at: 100,
          log_path: '/tmp/a-1.log',
          task: null,
        }),
      );
      expect((await store.sessions.list()).map((s) => s.id)).toEqual(['a-1@h']);
      await losing('lk_decisions_record', () =>
        store.decisions.record({ seq: 1, at: 10, kind: 'tick', chosen: ['a'], detail: { why: 'test' } }),
      );
      expect(await store.decisions.list()).toHaveLength(1);
      await losing('lk_late_grades_add', () =>
        store.lateGrades.add({ session: 'a-1@h', grade: 0.7, dimensions: { tests: 1 }, at: 500 }),
      );
      expect(await rows('SELECT session, grade FROM {s}.late_grades')).toEqual([{ session: 'a-1@h', grade: 0.7 }]);
    });
  },
);
