// `lanekeeper replay --jobs N` replays a long journal in pieces on worker threads, cut at
// checkpoints. What a user sees must be exactly what one piece shows: the same count, lane states
// and divergence; and a checkpoint that does not hold what the journal folds to must not be
// trusted as a seam.
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, test } from 'vitest';
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
        .prepare(`UPDATE effects SET intent = replace(intent, '"type":"startSession"', '"type":"startSession","x":1')
                  WHERE (seq, idx) = (SELECT seq, idx FROM effects WHERE seq > 20000 AND intent LIKE '%"type":"startSession"%' ORDER BY seq, idx LIMIT 1)`)
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
        const s = JSON.parse(r.snapshot) as { actors: { children: Record<string, { snapshot: { context: { chain: number } } }> } };
        s.actors.children.code!.snapshot.context.chain = 99;
        update.run(JSON.stringify(s), r.seq);
      }
    });
    const [one, two] = await Promise.all([replay(state, 1), replay(state, 2)]);
    expect(one.json.divergences).toBe(0); // from the start, no checkpoint is read
    expect(two.json.divergences).toBe(0);
    expect(two.json.events).toBe(EVENTS);
    expect(two.json.lanes).toEqual(one.json.lanes);
    expect((two.json.notes as string[]).join('\n')).toMatch(/the fleet folded to seq \d+ differs from the checkpoint there, so replay went on in one piece/);
  }, 120_000);
});
