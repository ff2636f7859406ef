// Tick decisions (chosen lanes, ranking, skipped lanes with reasons), for status and debugging.
import type Database from 'better-sqlite3';
import { retryBusy } from './busy.js';
import type { DecisionsPort } from '../../../ports/store.js';

export function sqliteDecisions(db: Database.Database): DecisionsPort {
  const insert = db.prepare('INSERT INTO decisions (seq, at, kind, chosen, detail) VALUES (?, ?, ?, ?, ?)');
  const list = db.prepare(
    'SELECT seq, at, kind, chosen, detail FROM decisions WHERE at >= ? ORDER BY seq DESC, rowid DESC LIMIT ?',
  );
  return {
    async record(row) {
      retryBusy(() => insert.run(row.seq, row.at, row.kind, JSON.stringify(row.chosen), JSON.stringify(row.detail)));
    },
    async list(opts = {}) {
      return (
        retryBusy(() => list.all(opts.since ?? 0, opts.limit ?? 20)) as {
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
