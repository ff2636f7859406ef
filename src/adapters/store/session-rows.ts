// A session row as both stores keep it (dimensions as JSON text) and the record it holds.
import type { SessionRow } from '../../ports/store.js';

/** Every column of a session record but its id, in the order both stores write them. */
export const SESSION_COLUMNS = [
  'lane',
  'lane_id',
  'arm',
  'dispatch',
  'parent',
  'pid',
  'pid_start',
  'started_at',
  'ended_at',
  'exit_code',
  'signal',
  'outcome',
  'reason',
  'grade',
  'grade_source',
  'dimensions',
  'log_path',
  'task',
] as const;

export type SessionDbRow = Omit<SessionRow, 'dimensions'> & { dimensions: string | null };

export function sessionOfRow(r: SessionDbRow): SessionRow {
  return { ...r, dimensions: r.dimensions ? (JSON.parse(r.dimensions) as Record<string, number>) : null };
}
