// Grades given after the fact (`lanekeeper grade`) on PostgreSQL: the CLI adds them, the runtime
// learns them and marks them applied (as sqlite/late-grades.ts).
import type { LateGradeRow, LateGradesPort } from '../../../ports/store.js';
import type { Db } from './db.js';

/** `host`: the pending grades this host learns are those of its own sessions (each is learned once). */
export function postgresLateGrades(db: Db, host: string): LateGradesPort {
  return {
    async add(row) {
      await db.rows(
        'lk_late_grades_add',
        'INSERT INTO late_grades (session, grade, dimensions, at) VALUES ($1, $2, $3, $4)',
        [row.session, row.grade, row.dimensions ? JSON.stringify(row.dimensions) : null, row.at],
        // After a lost connection: the same grade for the same session at the same instant is this one.
        {
          name: 'lk_late_grades_added',
          text: 'SELECT id FROM late_grades WHERE session = $1 AND grade = $2 AND dimensions IS NOT DISTINCT FROM $3::text AND at = $4',
        },
      );
    },
    async pending() {
      const rows = await db.rows<Omit<LateGradeRow, 'dimensions'> & { dimensions: string | null }>(
        'lk_late_grades_pending',
        'SELECT g.id, g.session, g.grade, g.dimensions, g.at FROM late_grades g JOIN sessions s ON s.id = g.session WHERE NOT g.applied AND s.host = $1 ORDER BY g.id',
        [host],
      );
      return rows.map((r) => ({
        ...r,
        dimensions: r.dimensions ? (JSON.parse(r.dimensions) as Record<string, number>) : null,
      }));
    },
    async applied(id) {
      await db.rows('lk_late_grades_applied', 'UPDATE late_grades SET applied = true WHERE id = $1', [id]);
    },
  };
}
