// What the selector has learned, on PostgreSQL, in the same `posteriors` rows as the SQLite store
// (sqlite/learning.ts): one row per lane belief, one for the rest of the state, one for the arms.
//
// A save is ONE multi-row UPSERT, with its rows in a fixed (scope, arm) order. So it lands whole
// or not at all, and when two processes save at once their statements take the row locks in the
// same order: the second waits for the first and then writes all of its rows, never a mix of the
// two for the rows both wrote (and never a deadlock). Rows a save does not write (a lane only the
// other process knows) are kept, as in SQLite. The last save wins for the rows both wrote: what
// is saved is a whole snapshot. Hosts sharing the store never save whole snapshots of what they
// learned: each folds its grades in with applyGrade, one transaction per grade under an advisory
// lock, so no host's grade is lost to another's write.
import type { LearningPort, SelectorMemory } from '../../../ports/store.js';
import { foldGrade, memoryFromRows, memoryRows, type PosteriorRow } from '../learning-rows.js';
import type { Db } from './db.js';

const SAVE = `
INSERT INTO posteriors (scope, arm, data, updated_at)
SELECT scope, arm, data, $4::bigint FROM unnest($1::text[], $2::text[], $3::text[]) AS t(scope, arm, data)
ORDER BY scope COLLATE "C", arm COLLATE "C"
ON CONFLICT (scope, arm) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`;

const LOAD = `SELECT scope, arm, data FROM posteriors WHERE scope IN ('lane', 'selector') ORDER BY scope, arm`;

function saveValues(memory: SelectorMemory, at: number): unknown[] {
  const rows = memoryRows(memory);
  return [rows.map((r) => r.scope), rows.map((r) => r.arm), rows.map((r) => r.data), at];
}

export function postgresLearning(db: Db): LearningPort {
  return {
    async save(memory, at) {
      await db.rows('lk_learning_save', SAVE, saveValues(memory, at));
    },
    async applyGrade(update, fresh, at) {
      // Read, fold, write under one lock for the whole learning state: two hosts grading at once
      // take turns, and each folds its grade into what the other wrote (no lost update).
      // A retry after a lost connection finds the grade learned (if the first try committed) and
      // changes nothing: the fold is idempotent per session.
      await db.transaction(async (client) => {
        await client.query(
          `SELECT pg_advisory_xact_lock(hashtext('lanekeeper learning ' || coalesce(current_schema(), '')))`,
        );
        const memory = memoryFromRows((await client.query<PosteriorRow>(LOAD)).rows) ?? fresh;
        const next = foldGrade(memory, fresh, update);
        if (next) await client.query(SAVE, saveValues(next, at));
      });
    },
    async load() {
      // One statement: one snapshot, so a concurrent save is seen whole or not at all. In key
      // order, as SQLite reads them, so the beliefs come back in the same order.
      return memoryFromRows(await db.rows<PosteriorRow>('lk_learning_load', LOAD));
    },
  };
}
