// Grades given after the fact (`lanekeeper grade`): the CLI adds them, the runtime learns them
// (through the journal, as SESSION_REGRADED) and marks them applied.
import type Database from 'better-sqlite3';
import { retryBusy } from './busy.js';
import type { LateGradeRow, LateGradesPort } from '../../../ports/store.js';

export function sqliteLateGrades(db: Database.Database): LateGradesPort {
  const insert = db.prepare('INSERT INTO late_grades (session, grade, dimensions, at) VALUES (?, ?, ?, ?)');
  const pending = db.prepare(
    'SELECT id, session, grade, dimensions, at FROM late_grades WHERE applied = 0 ORDER BY id',
  );
  const applied = db.prepare('UPDATE late_grades SET applied = 1 WHERE id = ?');
  return {
    async add(row) {
      retryBusy(() =>
        insert.run(row.session, row.grade, row.dimensions ? JSON.stringify(row.dimensions) : null, row.at),
      );
    },
    async pending() {
      return (
        retryBusy(() => pending.all()) as (Omit<LateGradeRow, 'dimensions'> & { dimensions: string | null })[]
      ).map((r) => ({
        ...r,
        dimensions: r.dimensions ? (JSON.parse(r.dimensions) as Record<string, number>) : null,
      }));
    },
    async applied(id) {
      retryBusy(() => applied.run(id));
    },
  };
}
