// What the selector has learned, kept across restarts in the `posteriors` table: one row per lane
// belief (scope "lane") so a reader can see each lane's evidence, and one row for the rest of the
// state (the learning clock, model, forgetting, share deficits and recent session starts), and one
// for the arms (`lane|arm` and `*|arm` beliefs together).
import type Database from 'better-sqlite3';
import { retryBusy, writer } from './busy.js';
import type { LearningPort, SelectorMemory } from '../../../ports/store.js';
import { foldGrade, memoryFromRows, memoryRows, type PosteriorRow } from '../learning-rows.js';
import type { GradeUpdate } from '../../../policy/graded.js';

export function sqliteLearning(db: Database.Database): LearningPort {
  const upsert = db.prepare(
    `INSERT INTO posteriors (scope, arm, data, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (scope, arm) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
  );
  const rows = db.prepare(`SELECT scope, arm, data FROM posteriors WHERE scope IN ('lane', 'selector')`);
  const saveRows = (memory: SelectorMemory, at: number) => {
    for (const r of memoryRows(memory)) upsert.run(r.scope, r.arm, r.data, at);
  };
  const loadRows = (): SelectorMemory | null => memoryFromRows(rows.all() as PosteriorRow[]);
  const save = writer(db, saveRows);
  const apply = writer(db, (update: GradeUpdate, fresh: SelectorMemory, at: number) => {
    const next = foldGrade(loadRows() ?? fresh, fresh, update);
    if (next) saveRows(next, at);
  });
  return {
    async save(memory, at) {
      save(memory, at);
    },
    async applyGrade(update, fresh, at) {
      apply(update, fresh, at);
    },
    async load() {
      return retryBusy(loadRows);
    },
  };
}
