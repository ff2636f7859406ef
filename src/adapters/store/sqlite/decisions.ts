// Tick decisions (chosen lanes, ranking, skipped lanes with reasons), for status and debugging.
import type Database from 'better-sqlite3';
import { retryBusy } from './busy.js';
import type { DecisionsPort } from '../../../ports/store.js';

export function sqliteDecisions(db: Database.Database): DecisionsPort {
  const insert = db.prepare('INSERT INTO decisions (seq, at, kind, chosen, detail) VALUES (?, ?, ?, ?, ?)');
  // The newest (status): read newest first along the seq index, as many as asked for. Those of a
  // window (stats --since): found by their time (decisions_at), then ordered; without that index
  // SQLite would read the seq index back to the first decision, every row of a year of ticks.
  const newest = db.prepare(
    'SELECT seq, at, kind, chosen, detail FROM decisions ORDER BY seq DESC, rowid DESC LIMIT ?',
  );
  const since = db.prepare(
    'SELECT seq, at, kind, chosen, detail FROM decisions INDEXED BY decisions_at WHERE at >= ? ORDER BY seq DESC, rowid DESC LIMIT ?',
  );
  return {
    async record(row) {
      retryBusy(() => insert.run(row.seq, row.at, row.kind, JSON.stringify(row.chosen), JSON.stringify(row.detail)));
    },
    async list(opts = {}) {
      return (
        retryBusy(() => (opts.since ? since.all(opts.since, opts.limit ?? 20) : newest.all(opts.limit ?? 20))) as {
          seq: number;
          at: number;
          kind: string;
          chosen: string;
          detail: string;
        }[]
      ).map((r) => ({
        ...r,
        chosen: JSON.parse(r.chosen) as string[],
        detail: JSON.parse(r.detail) as unknown,
      }));
    },
  };
}
