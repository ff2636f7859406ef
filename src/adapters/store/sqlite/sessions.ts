// Session records: one row per session, written as it starts, exits and is graded.
import type Database from 'better-sqlite3';
import { retryBusy } from './busy.js';
import type { SessionsPort } from '../../../ports/store.js';
import { SESSION_COLUMNS, sessionOfRow, type SessionDbRow } from '../session-rows.js';

const COLUMNS = SESSION_COLUMNS;

type DbRow = SessionDbRow;

export function sqliteSessions(db: Database.Database): SessionsPort {
  const insert = db.prepare(
    'INSERT INTO sessions (id, lane, lane_id, arm, dispatch, parent, started_at, log_path, task) VALUES (@id, @lane, @lane_id, @arm, @dispatch, @parent, @started_at, @log_path, @task)',
  );
  const get = db.prepare('SELECT * FROM sessions WHERE id = ?');
  const list = db.prepare('SELECT * FROM sessions WHERE started_at >= ? ORDER BY started_at DESC, id DESC LIMIT ?');
  const open = db.prepare('SELECT * FROM sessions WHERE ended_at IS NULL ORDER BY started_at, id');
  const updates = new Map<string, Database.Statement>();

  return {
    async insert(row) {
      retryBusy(() => insert.run({ task: null, ...row }));
    },
    async update(id, patch) {
      const keys = COLUMNS.filter((c) => c in patch);
      if (!keys.length) return;
      const sql = `UPDATE sessions SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE id = @id`;
      let stmt = updates.get(sql);
      if (!stmt) updates.set(sql, (stmt = db.prepare(sql)));
      const values: Record<string, unknown> = { id };
      for (const k of keys)
        values[k] = k === 'dimensions' && patch.dimensions ? JSON.stringify(patch.dimensions) : patch[k];
      retryBusy(() => stmt.run(values));
    },
    async list(opts = {}) {
      return retryBusy(() => list.all(opts.since ?? 0, opts.limit ?? -1) as DbRow[]).map(sessionOfRow);
    },
    async open() {
      return retryBusy(() => open.all() as DbRow[]).map(sessionOfRow);
    },
    async get(id) {
      const row = retryBusy(() => get.get(id) as DbRow | undefined);
      return row ? sessionOfRow(row) : null;
    },
  };
}
