// Tick decisions on PostgreSQL (chosen lanes, ranking, skipped lanes with reasons), for status and
// debugging (as sqlite/decisions.ts). Newest first: by seq, then by the order they were recorded.
import type { DecisionsPort } from '../../../ports/store.js';
import type { Db } from './db.js';

/** Each host's decisions (their seqs are its journal's): `status` shows this host's. */
export function postgresDecisions(db: Db, host: string): DecisionsPort {
  return {
    async record(row) {
      await db.rows(
        'lk_decisions_record',
        'INSERT INTO decisions (seq, at, kind, chosen, detail, host) VALUES ($1, $2, $3, $4, $5, $6)',
        [row.seq, row.at, row.kind, JSON.stringify(row.chosen), JSON.stringify(row.detail), host],
        // After a lost connection: the same decision for the same event is this one, not a second.
        {
          name: 'lk_decisions_recorded',
          text: 'SELECT id FROM decisions WHERE seq = $1 AND at = $2 AND kind = $3 AND chosen = $4 AND detail = $5 AND host = $6',
        },
      );
    },
    async list(opts = {}) {
      const limit = opts.limit === undefined ? 20 : opts.limit < 0 ? null : opts.limit;
      const rows = await db.rows<{ seq: number; at: number; kind: string; chosen: string; detail: string }>(
        'lk_decisions_list',
        'SELECT seq, at, kind, chosen, detail FROM decisions WHERE host = $3 AND at >= $1 ORDER BY seq DESC, id DESC LIMIT $2',
        [opts.since ?? 0, limit, host],
      );
      return rows.map((r) => ({
        ...r,
        chosen: JSON.parse(r.chosen) as string[],
        detail: JSON.parse(r.detail) as unknown,
      }));
    },
  };
}
