// The stores the contract suite runs against. Each test gets a fresh, empty store of its own: a
// temporary directory for SQLite; for PostgreSQL a uniquely named schema in the database of
// LANEKEEPER_TEST_PG_URL (dropped when the file is done), so runs never see each other's data.
// `another()` opens a second client on the same store (its own connection or file handle), as a
// second process would.
//
// Without LANEKEEPER_TEST_PG_URL, or when that server does not answer, the PostgreSQL half is
// skipped with the reason in its name and a warning; LANEKEEPER_REQUIRE_PG=1 (CI) makes that a
// failure instead.
import Database from 'better-sqlite3';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, expect } from 'vitest';
import type { Store } from '../../../src/ports/store.js';
import { RUN_START_SQL as RUN_START_POSTGRES } from '../../../src/adapters/store/postgres/journal.js';
import { RUN_START_SQL as RUN_START_SQLITE } from '../../../src/adapters/store/sqlite/journal.js';
import { SCHEMA_VERSION as SQLITE_SCHEMA } from '../../../src/adapters/store/sqlite/migrations.js';
import { openPostgresStore } from '../../../src/adapters/store/postgres/index.js';
import { openSqliteStore } from '../../../src/adapters/store/sqlite/index.js';
import { tmpDir } from '../../helpers/tmp.js';

export interface Fresh {
  store: Store;
  another(): Promise<Store>;
  /** Opens the store as a reader (mustExist): the fresh store's location, not created by this. */
  reader(): Promise<Store>;
  /**
   * Makes the store (closed) what a lanekeeper from before the journal's run-start index left: the
   * index dropped; on SQLite, where it came with schema version 9, the version set back to 8.
   */
  withoutRunIndex(): Promise<void>;
  /** Whether the journal's run-start index exists. */
  hasRunIndex(): Promise<boolean>;
  /** The database's plan for finding where the run holding `seq` began (the journal port's query). */
  runStartPlan(seq: number): Promise<string>;
  /**
   * Appends WAKE events `from`..`to` (each at `at0 + seq` minutes) in one statement, as the store's
   * own append would write them: many events quickly, for the cases that need a long journal.
   */
  fillJournal(from: number, to: number, at0: number): Promise<void>;
  /** Appends lock records (key `k`, holder `h`, renewed) with these times, in this order. */
  addLockRecords(ats: number[]): Promise<void>;
}

export interface Backend {
  name: 'sqlite' | 'postgres';
  /** A new, empty store. */
  fresh(): Promise<Fresh>;
  /** A location where nobody has created a store yet, opened as a reader (mustExist). */
  openMissing(): Promise<Store>;
  /** `n` clients opening one new location at once (they race to set the store up). */
  openManyNew(n: number): Promise<Store[]>;
}

const opened: Store[] = [];
const track = (s: Store) => (opened.push(s), s);
afterAll(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => {});
});

export const sqlite: Backend = {
  name: 'sqlite',
  async fresh() {
    const dir = tmpDir('lk-contract-');
    const raw = () => new Database(path.join(dir, 'lanekeeper.db'));
    return {
      store: track(openSqliteStore(dir)),
      another: async () => track(openSqliteStore(dir)),
      reader: async () => track(openSqliteStore(dir, { mustExist: true })),
      async withoutRunIndex() {
        // Written for the index being step 9, the lanes' deadline step 10 and the decisions' time
        // index step 11; a later migration must redo this.
        expect(SQLITE_SCHEMA).toBe(11);
        const db = raw();
        db.exec('DROP INDEX decisions_at');
        db.exec('ALTER TABLE lanes DROP COLUMN deadline');
        db.exec('DROP INDEX journal_runs');
        db.pragma('user_version = 8');
        db.close();
      },
      async hasRunIndex() {
        const db = raw();
        try {
          return (
            db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'journal_runs'").get() !== undefined
          );
        } finally {
          db.close();
        }
      },
      async fillJournal(from, to, at0) {
        const db = raw();
        try {
          db.prepare(
            `WITH RECURSIVE s(seq) AS (SELECT ? UNION ALL SELECT seq + 1 FROM s WHERE seq < ?)
             INSERT INTO journal (seq, at, type, seed, payload) SELECT seq, ? + seq * 60000, 'WAKE', NULL, '{}' FROM s`,
          ).run(from, to, at0);
        } finally {
          db.close();
        }
      },
      async addLockRecords(ats) {
        const db = raw();
        try {
          const ins = db.prepare(
            "INSERT INTO lock_events (at, key, slot, slots, holder, epoch, event) VALUES (?, 'k', 0, NULL, 'h', 1, 'renewed')",
          );
          for (const at of ats) ins.run(at);
        } finally {
          db.close();
        }
      },
      async runStartPlan(seq) {
        const db = raw();
        try {
          return (db.prepare(`EXPLAIN QUERY PLAN ${RUN_START_SQLITE}`).all(seq) as { detail: string }[])
            .map((r) => r.detail)
            .join('\n');
        } finally {
          db.close();
        }
      },
    };
  },
  async openMissing() {
    return track(openSqliteStore(`${tmpDir('lk-contract-')}/never-made`, { mustExist: true }));
  },
  async openManyNew(n) {
    const dir = `${tmpDir('lk-contract-')}/new`;
    return Promise.all(Array.from({ length: n }, async () => track(openSqliteStore(dir))));
  },
};

/** Whether the test database answers, and why not. */
export async function probePostgres(
  url: string | undefined,
): Promise<{ ok: true; url: string } | { ok: false; why: string }> {
  if (!url) return { ok: false, why: 'LANEKEEPER_TEST_PG_URL is not set' };
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { ok: true, url };
  } catch (err) {
    const u = new URL(url);
    return {
      ok: false,
      why: `PostgreSQL at ${u.hostname}:${u.port || 5432} does not answer (${(err as Error).message})`,
    };
  } finally {
    await client.end().catch(() => {});
  }
}

export function postgres(url: string): Backend {
  const schemas: string[] = [];
  let admin: pg.Client | null = null;
  const adminClient = async () => {
    if (!admin) {
      admin = new pg.Client({ connectionString: url });
      await admin.connect();
    }
    return admin;
  };
  const newSchema = async () => {
    const name = `lk_contract_${process.pid}_${Date.now().toString(36)}_${schemas.length}`;
    await (await adminClient()).query(`CREATE SCHEMA ${name}`);
    schemas.push(name);
    return name;
  };
  afterAll(async () => {
    // The stores close first (registered earlier); then their schemas go.
    for (const s of opened.splice(0)) await s.close().catch(() => {});
    if (admin) {
      for (const name of schemas.splice(0)) await admin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      await admin.end();
    }
  });
  return {
    name: 'postgres',
    async fresh() {
      const schema = await newSchema();
      return {
        store: track(await openPostgresStore(url, { schema })),
        another: async () => track(await openPostgresStore(url, { schema })),
        reader: async () => track(await openPostgresStore(url, { schema, mustExist: true })),
        async withoutRunIndex() {
          await (await adminClient()).query(`DROP INDEX ${schema}.journal_runs`);
          await (await adminClient()).query(`ALTER TABLE ${schema}.lanes DROP COLUMN deadline`);
        },
        async hasRunIndex() {
          const r = await (
            await adminClient()
          ).query("SELECT 1 FROM pg_indexes WHERE schemaname = $1 AND indexname = 'journal_runs'", [schema]);
          return r.rowCount === 1;
        },
        async fillJournal(from, to, at0) {
          // The store's host is the machine's name unless it is given one.
          await (
            await adminClient()
          ).query(
            `INSERT INTO ${schema}.journal (host, seq, at, type, seed, payload)
             SELECT $4, seq, $3::bigint + seq * 60000, 'WAKE', NULL, '{}' FROM generate_series($1::bigint, $2::bigint) AS seq`,
            [from, to, at0, os.hostname()],
          );
        },
        async addLockRecords(ats) {
          for (const at of ats)
            await (
              await adminClient()
            ).query(
              `INSERT INTO ${schema}.lock_events (at, key, slot, slots, holder, epoch, event) VALUES ($1, 'k', 0, NULL, 'h', 1, 'renewed')`,
              [at],
            );
        },
        async runStartPlan(seq) {
          const admin = await adminClient();
          await admin.query(`SET search_path TO ${schema}`);
          try {
            // A table this small would be read whole whatever its indexes; asked not to, the plan shows the index it has.
            await admin.query('SET enable_seqscan = off');
            const r = await admin.query<{ 'QUERY PLAN': string }>(
              `EXPLAIN ${RUN_START_POSTGRES.replace('$1', String(seq)).replace('$2', "''")}`,
            );
            return r.rows.map((x) => x['QUERY PLAN']).join('\n');
          } finally {
            await admin.query('RESET enable_seqscan');
            await admin.query('RESET search_path');
          }
        },
      };
    },
    async openMissing() {
      return track(await openPostgresStore(url, { schema: await newSchema(), mustExist: true }));
    },
    async openManyNew(n) {
      const schema = await newSchema();
      return Promise.all(Array.from({ length: n }, async () => track(await openPostgresStore(url, { schema }))));
    },
  };
}
