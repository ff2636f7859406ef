// Journal retention on a PostgreSQL store several hosts share: each host's journal is its own
// (its own seqs and checkpoints), so a prune of one host's deletes nothing of another's.
//
// Needs LANEKEEPER_TEST_PG_URL, like the store contract; skipped without it unless
// LANEKEEPER_REQUIRE_PG=1.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openPostgresStore } from '../../src/adapters/store/postgres/index.js';
import type { Store } from '../../src/ports/store.js';
import { probePostgres } from './contract/backends.js';

const probe = await probePostgres(process.env.LANEKEEPER_TEST_PG_URL);
if (!probe.ok && process.env.LANEKEEPER_REQUIRE_PG === '1') throw new Error(`LANEKEEPER_REQUIRE_PG=1 but ${probe.why}`);
if (!probe.ok) console.warn(`journal retention on PostgreSQL skipped: ${probe.why}`);

describe.skipIf(!probe.ok)(`journal retention on a shared store${probe.ok ? '' : ` (skipped: ${probe.why})`}`, () => {
  const url = probe.ok ? probe.url : '';
  const schema = `lk_retention_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: url });
  const stores: Store[] = [];
  const fleet = { width: 1, lanes: [], arms: [], selection: {} as never };

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
  });
  afterAll(async () => {
    for (const s of stores) await s.close().catch(() => {});
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await admin.end().catch(() => {});
  });

  test("a prune of one host's journal leaves another host's as it was", async () => {
    const open = async (host: string) => {
      const s = await openPostgresStore(url, { schema, host });
      stores.push(s);
      return s;
    };
    const a = await open('host-a');
    const b = await open('host-b');
    for (const s of [a, b]) {
      for (let seq = 1; seq <= 30; seq++) {
        await s.journal.append({ type: 'WAKE', seq, now: seq * 1000 });
        await s.journal.recordEffects(seq, [], {});
      }
      await s.journal.saveCheckpoint({ seq: 20, version: 'v1', state: { fleet, actors: {} } });
    }
    expect(await a.journal.pruneFloor(25_000)).toEqual({ first: 1, checkpoint: { seq: 20, at: 20_000 } });
    expect(await a.journal.pruneBelow(20)).toMatchObject({ events: 19, transitions: 19, checkpoints: 0 });
    expect((await a.journal.read()).map((e) => e.seq)[0]).toBe(20);
    expect((await b.journal.read()).length).toBe(30);
    expect(await b.journal.entries(1, 1)).toHaveLength(1);
    expect(await b.journal.pruneFloor(25_000)).toEqual({ first: 1, checkpoint: { seq: 20, at: 20_000 } });
  });
});
