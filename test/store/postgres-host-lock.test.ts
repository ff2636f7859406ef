// The lock that keeps one runtime per host id on a PostgreSQL store lives on a connection of its
// own. When that connection is lost, the lock is taken again as soon as the database answers:
// after the server ended the backend (pg_terminate_backend), and after a network cut that left the
// backend alive on the server, still holding the lock (it is this lock's own, so it is ended, not
// mistaken for another runtime). Only another runtime that took the host meanwhile is reported.
// Network failures go through a TCP proxy (test/helpers/pg-proxy.ts).
//
// Needs LANEKEEPER_TEST_PG_URL, like the store contract; skipped without it unless
// LANEKEEPER_REQUIRE_PG=1.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openPostgresStore } from '../../src/adapters/store/postgres/index.js';
import type { Store } from '../../src/ports/store.js';
import { pgProxy } from '../helpers/pg-proxy.js';
import { probePostgres } from './contract/backends.js';

const probe = await probePostgres(process.env.LANEKEEPER_TEST_PG_URL);
if (!probe.ok && process.env.LANEKEEPER_REQUIRE_PG === '1') throw new Error(`LANEKEEPER_REQUIRE_PG=1 but ${probe.why}`);
if (!probe.ok) console.warn(`the host lock on PostgreSQL skipped: ${probe.why}`);

describe.skipIf(!probe.ok)(`the host lock loses its connection${probe.ok ? '' : ` (skipped: ${probe.why})`}`, () => {
  const url = probe.ok ? probe.url : '';
  const schema = `lk_hostlock_${process.pid}_${Date.now().toString(36)}`;
  // Host ids unique to this run: other runs on the same database never match them.
  const id = (name: string) => `${name}-${process.pid}-${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: url });
  const stores: Store[] = [];
  const holds: { release(): Promise<void> }[] = [];
  const open = async (where: string, host: string) => {
    const s = await openPostgresStore(where, { schema, host });
    stores.push(s);
    return s;
  };
  const lock = async (store: Store, lost: string[] = []) => {
    const h = await store.lockHost!({ onLost: (why) => lost.push(why) });
    holds.push(h);
    return h;
  };

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
  });
  afterAll(async () => {
    // A held lock keeps its connection checked out, and the pool waits for it to close.
    for (const h of holds) await h.release();
    for (const s of stores) await s.close().catch(() => {});
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await admin.end().catch(() => {});
  });

  /** Backends holding the host's lock, by pid. */
  const holders = async (host: string) =>
    (
      await admin.query<{ pid: number }>(
        `SELECT a.pid FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE $1`,
        [`lanekeeper host ${host}: %`],
      )
    ).rows.map((r) => r.pid);
  const alive = async (pid: number) =>
    (await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount === 1;
  /** Waits until `check` holds (the lock is retaken in the background). */
  async function until(what: string, check: () => Promise<boolean>): Promise<void> {
    for (const end = Date.now() + 30_000; !(await check());) {
      if (Date.now() > end) throw new Error(`not within 30 s: ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  /** Held by one backend, not `old`. */
  const heldAgain = (host: string, old: number) => async () => {
    const h = await holders(host);
    return h.length === 1 && h[0] !== old;
  };

  test('its backend ended by the server: held again on a new connection', async () => {
    const host = id('killed');
    const store = await open(url, host);
    const lost: string[] = [];
    const hold = await lock(store, lost);
    const [before] = await holders(host);
    await admin.query('SELECT pg_terminate_backend($1)', [before]);
    await until('the lock held again', heldAgain(host, before!));
    expect(lost).toEqual([]);
    await hold.release();
    expect(await holders(host)).toEqual([]);
  });

  test('its connection cut by the network, the backend left holding the lock: that backend is ended and the lock held again', async () => {
    const proxy = await pgProxy(url);
    const host = id('cut');
    const store = await open(proxy.url, host);
    const lost: string[] = [];
    await lock(store, lost);
    const [before] = await holders(host);
    proxy.partition();
    await until('the lock held again', heldAgain(host, before!));
    expect(lost).toEqual([]);
    expect(await alive(before!)).toBe(false);
  });

  test('another runtime took the host while the database was out of reach: told so, naming it', async () => {
    const proxy = await pgProxy(url);
    const host = id('taken');
    const first = await open(proxy.url, host);
    const lost: string[] = [];
    await lock(first, lost);
    const [before] = await holders(host);
    proxy.refuse(true);
    await admin.query('SELECT pg_terminate_backend($1)', [before]);
    await until('the first lock gone', async () => (await holders(host)).length === 0);
    const second = await open(url, host);
    await lock(second);
    const [taken] = await holders(host);
    proxy.refuse(false);
    await until('the first told', async () => lost.length > 0);
    expect(lost).toEqual([
      expect.stringMatching(
        new RegExp(`^another lanekeeper \\(pid ${process.pid} on .+\\) runs as host ${host} on this store`),
      ),
    ]);
    // The second keeps it: the first did not end it as if it were its own.
    expect(await holders(host)).toEqual([taken]);
  });
});
