// Session records on PostgreSQL: one row per session, written as it starts, exits and is graded
// (as sqlite/sessions.ts). Dimensions are JSON text.
import type { SessionsPort } from '../../../ports/store.js';
import type { Db } from './db.js';
import { SESSION_COLUMNS, sessionOfRow, type SessionDbRow } from '../session-rows.js';

const COLUMNS = SESSION_COLUMNS;
const SELECT = `SELECT id, ${COLUMNS.join(', ')} FROM sessions`;

type DbRow = SessionDbRow;

/** Sessions of every host; `host` is the one this store writes for (its open sessions are its own). */
export function postgresSessions(db: Db, host: string): SessionsPort {
  return {
    async insert(row) {
      await db.rows(
        'lk_sessions_insert',
        'INSERT INTO sessions (id, lane, lane_id, arm, dispatch, parent, started_at, log_path, task, host) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
        [
          row.id,
          row.lane,
          row.lane_id,
          row.arm,
          row.dispatch,
          row.parent,
          row.started_at,
          row.log_path,
          row.task ?? null,
          host,
        ],
        // After a lost connection: a session of that id is this one (ids are never reused).
        { name: 'lk_sessions_inserted', text: 'SELECT id FROM sessions WHERE id = $1', values: [row.id] },
      );
    },
    async update(id, patch) {
      const keys = COLUMNS.filter((c) => c in patch);
      if (!keys.length) return;
      // The column names come from COLUMNS, never from the caller.
      const sql = `UPDATE sessions SET ${keys.map((k, i) => `${k} = $${i + 2}`).join(', ')} WHERE id = $1`;
      const values = keys.map((k) =>
        k === 'dimensions' && patch.dimensions ? JSON.stringify(patch.dimensions) : patch[k],
      );
      // Named by which columns it sets (a bit each): names longer than 63 bytes would be cut short.
      const mask = keys.reduce((m, k) => m + 2 ** COLUMNS.indexOf(k), 0);
      await db.rows(`lk_sessions_update_${mask.toString(36)}`, sql, [id, ...values]);
    },
    async list(opts = {}) {
      const limit = opts.limit === undefined || opts.limit < 0 ? null : opts.limit;
      const rows = await db.rows<DbRow>(
        'lk_sessions_list',
        `${SELECT} WHERE started_at >= $1 ORDER BY started_at DESC, id DESC LIMIT $2`,
        [opts.since ?? 0, limit],
      );
      return rows.map(sessionOfRow);
    },
    async open() {
      return (
        await db.rows<DbRow>(
          'lk_sessions_open',
          `${SELECT} WHERE host = $1 AND ended_at IS NULL ORDER BY started_at, id`,
          [host],
        )
      ).map(sessionOfRow);
    },
    async get(id) {
      const row = await db.row<DbRow>('lk_sessions_get', `${SELECT} WHERE id = $1`, [id]);
      return row ? sessionOfRow(row) : null;
    },
  };
}
