// What only the PostgreSQL store has to get right about a one-slot acquire: its lean statement
// never waits for a row another transaction is changing (it skips the locked row and asks again),
// so when a grant is in flight on a key that looks free the acquire ends in the full statement,
// which waits for that transaction and decides on what it committed. The in-flight grant is made
// by hand in an open transaction, so the race is certain rather than hoped for; that the acquire
// waits is seen in pg_stat_activity (a backend of this test's application waiting on a lock).
//
// Needs LANEKEEPER_TEST_PG_URL, like the store contract; skipped without it unless
// LANEKEEPER_REQUIRE_PG=1.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openPostgresStore } from '../../src/adapters/store/postgres/index.js';
import type { AcquireResult, Store } from '../../src/ports/store.js';
import { probePostgres } from './contract/backends.js';

const probe = await probePostgres(process.env.LANEKEEPER_TEST_PG_URL);
const requirePg = process.env.LANEKEEPER_REQUIRE_PG === '1';
if (!probe.ok && !requirePg) console.warn(`postgres claims: skipping: ${probe.why}`);

const MINUTE = 60_000;

if (probe.ok) {
  const url = probe.url;
  describe('a one-slot acquire racing a grant in flight (PostgreSQL)', () => {
    const schema = `lk_pgclaims_${process.pid}_${Date.now().toString(36)}`;
    const app = `lk-race-${process.pid}`;
    let admin: pg.Client;
    let store: Store;

    beforeAll(async () => {
      admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      store = await openPostgresStore(url, { schema, max: 1, applicationName: app });
    });
    afterAll(async () => {
      await store?.close();
      await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin?.end();
    });

    /** A transaction that grants `key` to `holder` by hand and stays open. */
    async function grantInFlight(key: string, holder: string): Promise<pg.Client> {
      const c = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
      await c.connect();
      await c.query('BEGIN');
      const r = await c.query(
        `UPDATE claims SET holder = $2, epoch = nextval('claim_fence'), state = 'claimed', expires_at = renewed_at + $3 WHERE key = $1 AND slot = 0`,
        [key, holder, 100 * MINUTE],
      );
      expect(r.rowCount).toBe(1);
      return c;
    }

    /** Resolves once a backend of the store waits on a lock. */
    async function waitingOnLock(): Promise<void> {
      for (;;) {
        const r = await admin.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
          [app],
        );
        if (r.rows[0].n > 0) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }

    async function releasedKey(key: string): Promise<number> {
      const a = await store.claims.acquire({ key, holder: 'a', ttlMs: MINUTE });
      if (!a.granted) throw new Error(`${key} was not granted`);
      expect(await store.claims.release({ key, holder: 'a', token: a.token })).toEqual({ ok: true });
      return a.token;
    }

    /**
     * b acquires `key` while x's grant of it is in flight: b must wait for that transaction (no
     * answer before it ends), which then commits or rolls back; b's answer after it.
     */
    async function acquireAcross(key: string, end: 'COMMIT' | 'ROLLBACK'): Promise<AcquireResult> {
      const other = await grantInFlight(key, 'x');
      let answer: AcquireResult | undefined;
      const pending = store.claims.acquire({ key, holder: 'b', ttlMs: MINUTE }).then((r) => (answer = r));
      await waitingOnLock();
      expect(answer).toBeUndefined();
      await other.query(end);
      await other.end();
      return pending;
    }

    test('the grant commits: the acquire waits for it and is denied, naming its holder', async () => {
      await releasedKey('task:commit');
      const answer = await acquireAcross('task:commit', 'COMMIT');
      expect(answer).toMatchObject({ granted: false, holder: 'x', state: 'claimed' });
    });

    test('the grant rolls back: the acquire waits for it and then is granted, with a new token', async () => {
      const before = await releasedKey('task:rollback');
      const answer = await acquireAcross('task:rollback', 'ROLLBACK');
      expect(answer).toMatchObject({ granted: true, slot: 0, renewed: false });
      expect((answer as { token: number }).token).toBeGreaterThan(before);
      expect(
        (await store.claims.lockRecords()).filter((r) => r.key === 'task:rollback').map((r) => [r.holder, r.event]),
      ).toEqual([
        ['a', 'acquired'],
        ['a', 'released'],
        ['b', 'acquired'],
      ]);
    });
  });
} else if (requirePg) {
  test('PostgreSQL is reachable (LANEKEEPER_REQUIRE_PG=1)', () => {
    throw new Error(`LANEKEEPER_REQUIRE_PG=1 but ${probe.why}`);
  });
} else
  describe.skip(`a one-slot acquire racing a grant in flight (skipped: ${probe.why})`, () =>
    test('needs PostgreSQL', () => {}));
