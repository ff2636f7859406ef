// Journal retention on PostgreSQL (JournalPort.pruneFloor, pruneBelow), as on SQLite
// (sqlite/prune.ts), for one host's journal: the newest checkpoint old enough is kept, and what
// lies below it is deleted in short statements from the oldest up. Each statement deletes one
// range of seqs from every table at once, and only while the kept checkpoint is there; run again
// after a lost connection it deletes nothing more. The space is reused once autovacuum has been
// by (the files do not shrink: that would take VACUUM FULL, which locks the tables).
import type { JournalPort, Pruned } from '../../../ports/store.js';
import type { Db } from './db.js';

/** Seqs deleted per statement. */
export const PRUNE_BATCH = 5000;

const FLOOR = `
SELECT c.seq AS seq, j.at AS at FROM checkpoints c JOIN journal j ON j.host = c.host AND j.seq = c.seq
WHERE c.host = $1 AND j.at <= $2 AND ($3::text IS NULL OR c.version = $3::text)
ORDER BY c.seq DESC LIMIT 1`;

/** The lowest seq anything of the host's journal still has: where a prune part way through goes on. */
const LOWEST = `
SELECT LEAST((SELECT MIN(seq) FROM journal WHERE host = $1), (SELECT MIN(seq) FROM effects WHERE host = $1),
  (SELECT MIN(seq) FROM transitions WHERE host = $1), (SELECT MIN(seq) FROM checkpoints WHERE host = $1)) AS seq`;

const BATCH = `
WITH kept AS (SELECT 1 FROM checkpoints WHERE host = $1 AND seq = $2),
  j AS (DELETE FROM journal WHERE host = $1 AND seq >= $3 AND seq < $4 AND EXISTS (SELECT 1 FROM kept) RETURNING 1),
  e AS (DELETE FROM effects WHERE host = $1 AND seq >= $3 AND seq < $4 AND EXISTS (SELECT 1 FROM kept) RETURNING 1),
  t AS (DELETE FROM transitions WHERE host = $1 AND seq >= $3 AND seq < $4 AND EXISTS (SELECT 1 FROM kept) RETURNING 1),
  c AS (DELETE FROM checkpoints WHERE host = $1 AND seq >= $3 AND seq < $4 AND EXISTS (SELECT 1 FROM kept) RETURNING 1)
SELECT EXISTS (SELECT 1 FROM kept) AS kept, (SELECT count(*) FROM j)::int AS events, (SELECT count(*) FROM e)::int AS effects,
  (SELECT count(*) FROM t)::int AS transitions, (SELECT count(*) FROM c)::int AS checkpoints`;

interface BatchRow {
  kept: boolean;
  events: number;
  effects: number;
  transitions: number;
  checkpoints: number;
}

export function postgresPrune(db: Db, host: string): Pick<JournalPort, 'pruneFloor' | 'pruneBelow'> {
  const hasCheckpoint = async (seq: number) =>
    !!(await db.row('lk_prune_has_checkpoint', 'SELECT 1 FROM checkpoints WHERE host = $1 AND seq = $2', [host, seq]));
  return {
    async pruneFloor(before, opts = {}) {
      const row = await db.row<{ seq: number; at: number }>('lk_prune_floor', FLOOR, [
        host,
        before,
        opts.version ?? null,
      ]);
      if (!row) return null;
      const first = await db.row<{ seq: number }>(
        'lk_prune_first',
        'SELECT COALESCE(MIN(seq), 0)::bigint AS seq FROM journal WHERE host = $1',
        [host],
      );
      return { first: first!.seq, checkpoint: { seq: row.seq, at: row.at } };
    },
    async pruneBelow(keep) {
      if (!(await hasCheckpoint(keep))) return null;
      const done: Pruned = { events: 0, effects: 0, transitions: 0, checkpoints: 0, freedBytes: null, vacuum: null };
      let lo = (await db.row<{ seq: number | null }>('lk_prune_lowest', LOWEST, [host]))?.seq ?? keep;
      for (; lo < keep; lo += PRUNE_BATCH) {
        const r = (await db.row<BatchRow>('lk_prune_batch', BATCH, [
          host,
          keep,
          lo,
          Math.min(lo + PRUNE_BATCH, keep),
        ]))!;
        if (!r.kept) return null;
        done.events += r.events;
        done.effects += r.effects;
        done.transitions += r.transitions;
        done.checkpoints += r.checkpoints;
      }
      return done;
    },
  };
}
