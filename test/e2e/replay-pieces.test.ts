// `lanekeeper replay --jobs N` replays a long journal in pieces on worker threads, cut at
// checkpoints. What a user sees must be exactly what one piece shows: the same count, lane states
// and divergence; and a checkpoint that does not hold what the journal folds to must not be
// trusted as a seam.
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openPostgresStore } from '../../src/adapters/store/postgres/index.js';
import { openSqliteStore } from '../../src/adapters/store/sqlite/index.js';
import { probePostgres } from '../store/contract/backends.js';
// @ts-expect-error -- a plain-JS script shared with bench/replay.mjs (it needs the build in dist/)
import { writeSyntheticJournal } from '../../scripts/synthetic-journal.mjs';
import { cli, tmpDir } from '../helpers/tmp.js';

const EVENTS = 25_000; // two pieces of at least 10,000 events each

async function replay(state: string, jobs: number): Promise<{ code: number; json: Record<string, unknown> }> {
  const r = await cli(['replay', '--from-start', '--json', '--jobs', String(jobs), '--state', state]);
  expect(r.stderr).toBe('');
  return { code: r.code, json: JSON.parse(r.stdout) as Record<string, unknown> };
}

/** Changes the stored database in place (a copy made per test). */
function tamper(state: string, change: (db: Database.Database) => void): void {
  const db = new Database(path.join(state, 'lanekeeper.db'));
  try {
    change(db);
  } finally {
    db.close();
  }
}

async function copyOf(state: string): Promise<string> {
  const copy = tmpDir('lk-replay-pieces-');
  const db = new Database(path.join(state, 'lanekeeper.db'), { readonly: true });
  await db.backup(path.join(copy, 'lanekeeper.db'));
  db.close();
  return copy;
}

describe('replay in pieces', () => {
  let journal: string;
  beforeAll(async () => {
    journal = tmpDir('lk-replay-pieces-');
    await writeSyntheticJournal(journal, EVENTS);
  }, 120_000);

  test('shows exactly what one piece shows', async () => {
    const [one, two] = await Promise.all([replay(journal, 1), replay(journal, 2)]);
    expect(one.code).toBe(0);
    expect(one.json.events).toBe(EVENTS);
    expect(one.json.divergences).toBe(0);
    expect(two).toEqual(one);
  }, 120_000);

  test('a pruned journal replays from the checkpoint retention kept, in pieces as in one', async () => {
    const state = await copyOf(journal);
    const store = openSqliteStore(state);
    expect(await store.journal.pruneBelow(5000)).toMatchObject({ events: 4999 });
    await store.close();
    const [one, two] = await Promise.all([replay(state, 1), replay(state, 2)]);
    expect(one.code).toBe(0);
    expect(one.json).toMatchObject({ events: EVENTS - 5000, divergences: 0, begin: { seq: 5001, at: 'checkpoint' } });
    expect(one.json.notes).toEqual([
      'the journal starts at seq 5000 (pruned before); replay begins at the checkpoint at seq 5000',
    ]);
    expect(two).toEqual(one);
  }, 120_000);

  test('more pieces than 8 is refused with the reason (each is a thread with its own heap)', async () => {
    const r = await cli(['replay', '--jobs', '9', '--state', journal]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('lanekeeper: --jobs 9: at most 8 (each piece is a thread with up to 128 MB of heap)');
  });

  test('a divergence late in the journal is found at the same seq, with the same count', async () => {
    const state = await copyOf(journal);
    // What the runtime recorded for an event in the second half no longer matches the machines.
    tamper(state, (db) => {
      const changed = db
        .prepare(
          `UPDATE effects SET intent = replace(intent, '"type":"startSession"', '"type":"startSession","x":1')
                  WHERE (seq, idx) = (SELECT seq, idx FROM effects WHERE seq > 20000 AND intent LIKE '%"type":"startSession"%' ORDER BY seq, idx LIMIT 1)`,
        )
        .run();
      expect(changed.changes).toBe(1);
    });
    const [one, two] = await Promise.all([replay(state, 1), replay(state, 2)]);
    expect(one.code).toBe(1);
    expect(one.json.divergences).toBeGreaterThan(0);
    expect((one.json.first_divergence as { seq: number }).seq).toBeGreaterThan(20_000);
    expect(two).toEqual(one);
  }, 120_000);

  test('a checkpoint that does not hold what the journal folds to is not trusted as a seam', async () => {
    const state = await copyOf(journal);
    // Every checkpoint says the code lane is deep in a respawn chain; the journal says otherwise.
    tamper(state, (db) => {
      const rows = db.prepare('SELECT seq, snapshot FROM checkpoints').all() as { seq: number; snapshot: string }[];
      const update = db.prepare('UPDATE checkpoints SET snapshot = ? WHERE seq = ?');
      for (const r of rows) {
        const s = JSON.parse(r.snapshot) as {
          actors: { children: Record<string, { snapshot: { context: { chain: number } } }> };
        };
        s.actors.children.code!.snapshot.context.chain = 99;
        update.run(JSON.stringify(s), r.seq);
      }
    });
    const [one, two] = await Promise.all([replay(state, 1), replay(state, 2)]);
    expect(one.json.divergences).toBe(0); // from the start, no checkpoint is read
    expect(two.json.divergences).toBe(0);
    expect(two.json.events).toBe(EVENTS);
    expect(two.json.lanes).toEqual(one.json.lanes);
    expect((two.json.notes as string[]).join('\n')).toMatch(
      /the fleet folded to seq \d+ differs from the checkpoint there \(.*\), so replay went on in one piece/,
    );
  }, 120_000);
});

// The same journal in a PostgreSQL store: each worker thread opens the store itself (the URL, the
// host whose journal it is). Needs LANEKEEPER_TEST_PG_URL (skipped with a message without it,
// failed with LANEKEEPER_REQUIRE_PG=1).
const probe = await probePostgres(process.env.LANEKEEPER_TEST_PG_URL);
if (!probe.ok && process.env.LANEKEEPER_REQUIRE_PG === '1') throw new Error(`LANEKEEPER_REQUIRE_PG=1 but ${probe.why}`);
if (!probe.ok) console.warn(`replay in pieces on PostgreSQL skipped: ${probe.why}`);

describe.skipIf(!probe.ok)(`replay in pieces on PostgreSQL${probe.ok ? '' : ` (skipped: ${probe.why})`}`, () => {
  const url = probe.ok ? probe.url : '';
  const schema = `lk_pieces_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: url });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await admin.end();
  });

  test('shows exactly what one piece shows', async () => {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await (await openPostgresStore(url, { schema, host: 'h1' })).close(); // the tables
    const journal = tmpDir('lk-replay-pieces-pg-');
    await writeSyntheticJournal(journal, EVENTS);
    // The journal as the host h1 would have written it, copied table by table in batches.
    const db = new Database(path.join(journal, 'lanekeeper.db'), { readonly: true });
    const copy = async (table: string, columns: string[]) => {
      const rows = db
        .prepare(`SELECT ${columns.join(', ')} FROM ${table}`)
        .raw()
        .all() as unknown[][];
      for (let i = 0; i < rows.length; i += 1000) {
        const batch = rows.slice(i, i + 1000);
        const width = columns.length + 1;
        const values = batch
          .map((_, r) => `(${Array.from({ length: width }, (_, c) => `$${r * width + c + 1}`).join(', ')})`)
          .join(', ');
        await admin.query(
          `INSERT INTO ${schema}.${table} (host, ${columns.join(', ')}) VALUES ${values}`,
          batch.flatMap((row) => ['h1', ...row]),
        );
      }
    };
    await copy('journal', ['seq', 'at', 'type', 'seed', 'payload']);
    await copy('effects', ['seq', 'idx', 'intent']);
    await copy('transitions', ['seq', 'lanes']);
    await copy('checkpoints', ['seq', 'version', 'snapshot']);
    db.close();

    const env = {
      LANEKEEPER_STORE: `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      LANEKEEPER_HOST: 'h1',
    };
    const replay = async (jobs: number) => {
      const r = await cli(['replay', '--from-start', '--json', '--jobs', String(jobs), '--state', journal], { env });
      expect(r.stderr).toBe('');
      return JSON.parse(r.stdout) as Record<string, unknown>;
    };
    const one = await replay(1);
    const two = await replay(2);
    expect(one).toMatchObject({ events: EVENTS, divergences: 0 });
    expect(two).toEqual(one);
  }, 180_000);
});
