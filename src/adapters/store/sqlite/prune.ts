// Journal retention on SQLite (JournalPort.pruneFloor, pruneBelow): where a prune may cut (the
// newest checkpoint old enough), then the journal below it deleted in short transactions from the
// oldest up, and the freed pages given back to the file system by incremental vacuum, two
// megabytes per transaction, so the runtime and `lanekeeper claim` never wait long for the lock.
//
// A file made before retention (auto_vacuum NONE) cannot vacuum incrementally until it has been
// rewritten once: its first prune that deletes anything does that, right after deleting, when the
// file is as small as it will get (VACUUM: it holds the write lock while it copies what is kept).
import type Database from 'better-sqlite3';
import { retryBusy, writer } from './busy.js';
import type { JournalPort, Pruned } from '../../../ports/store.js';

/**
 * Seqs deleted per transaction, and pages given back per incremental vacuum step (4 KiB each: 2 MiB):
 * each holds the write lock for a few milliseconds (6 and 9 ms at the median on the development VM;
 * 5,000 seqs and 8 MiB took 14 and 95 ms), so other writers hardly wait, for about the same total.
 */
export const PRUNE_BATCH = 2000;
const VACUUM_PAGES = 512;
/** SQLite's auto_vacuum mode INCREMENTAL (0 is NONE, 1 FULL). */
const INCREMENTAL = 2;

/**
 * better-sqlite3 is synchronous: between two transactions the process's own event loop gets a turn,
 * so a runtime pruning its own store goes on handling events, timers and sessions meanwhile
 * (a prune of 750,000 events is a few hundred transactions, seconds in all).
 */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export function sqlitePrune(db: Database.Database): Pick<JournalPort, 'pruneFloor' | 'pruneBelow'> {
  // The checkpoints are few (one per checkpoint_every events) and read newest first; each one's
  // time is its event's, looked up by seq.
  const floor = db.prepare(
    `SELECT c.seq AS seq, j.at AS at FROM checkpoints c JOIN journal j ON j.seq = c.seq
     WHERE j.at <= @before AND (@version IS NULL OR c.version = @version) ORDER BY c.seq DESC LIMIT 1`,
  );
  const first = db.prepare('SELECT COALESCE(MIN(seq), 0) FROM journal').pluck();
  // The lowest seq anything of the journal still has: where a prune cut off part way goes on.
  const lowest = db
    .prepare(
      `SELECT MIN(s) FROM (SELECT MIN(seq) AS s FROM journal UNION ALL SELECT MIN(seq) FROM effects
       UNION ALL SELECT MIN(seq) FROM transitions UNION ALL SELECT MIN(seq) FROM checkpoints)`,
    )
    .pluck();
  const hasCheckpoint = db.prepare('SELECT 1 FROM checkpoints WHERE seq = ?').pluck();
  const deletes = ['journal', 'effects', 'transitions', 'checkpoints'].map((table) =>
    db.prepare(`DELETE FROM ${table} WHERE seq >= ? AND seq < ?`),
  );
  /** One batch, [lo, hi) of every table in one transaction, while the kept checkpoint is there. */
  const batch = writer(db, (keep: number, lo: number, hi: number): number[] | null => {
    if (hasCheckpoint.get(keep) === undefined) return null;
    return deletes.map((d) => d.run(lo, hi).changes);
  });
  const pragma = (text: string) => retryBusy(() => db.pragma(text, { simple: true }) as number, db.name);

  /** Gives the free pages back to the file system; how. */
  const shrink = async (rewrite: boolean): Promise<Pruned['vacuum']> => {
    if (pragma('auto_vacuum') !== INCREMENTAL) {
      if (!rewrite) return 'deferred';
      // Opening set auto_vacuum = INCREMENTAL on this connection: the rewrite switches the file.
      retryBusy(() => db.exec('VACUUM'), db.name);
      return 'rewritten';
    }
    // Until no page is free, or a step frees none (another writer is freeing pages meanwhile).
    let left = pragma('freelist_count');
    for (let was = Infinity; left > 0 && left < was; left = pragma('freelist_count')) {
      was = left;
      retryBusy(() => db.pragma(`incremental_vacuum(${VACUUM_PAGES})`), db.name);
      await turn();
    }
    return 'incremental';
  };
  /**
   * The file shrinks when the WAL is checkpointed into it; the WAL, which the deletions grew, is
   * emptied too. Not done while a reader still reads an older snapshot (it is, later, by the
   * runtime's checkpoints); that is not an error.
   */
  const settle = () => retryBusy(() => db.pragma('wal_checkpoint(TRUNCATE)'), db.name);

  return {
    async pruneFloor(before, opts = {}) {
      const row = retryBusy(
        () => floor.get({ before, version: opts.version ?? null }) as { seq: number; at: number } | undefined,
      );
      if (!row) return null;
      return { first: retryBusy(() => first.get() as number), checkpoint: { seq: row.seq, at: row.at } };
    },
    async pruneBelow(keep, opts = {}) {
      if (retryBusy(() => hasCheckpoint.get(keep)) === undefined) return null;
      const done: Pruned = { events: 0, effects: 0, transitions: 0, checkpoints: 0, freedBytes: 0, vacuum: null };
      const pagesBefore = pragma('page_count');
      for (let lo = retryBusy(() => lowest.get() as number | null) ?? keep; lo < keep; lo += PRUNE_BATCH) {
        const n = batch(keep, lo, Math.min(lo + PRUNE_BATCH, keep));
        if (!n) return null;
        done.events += n[0]!;
        done.effects += n[1]!;
        done.transitions += n[2]!;
        done.checkpoints += n[3]!;
        await turn();
      }
      if (done.events + done.effects + done.transitions + done.checkpoints > 0) {
        done.vacuum = await shrink(opts.rewrite ?? true);
        settle();
      }
      done.freedBytes = Math.max(0, pagesBefore - pragma('page_count')) * pragma('page_size');
      return done;
    },
  };
}
