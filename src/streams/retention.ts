// Journal retention: a long-lived service's journal stays small. What is older than `keep` goes,
// down to the newest checkpoint at least that old, which stays (with its event and everything
// after it), so replay and every start fold from it as before:
//
//   1. where to cut: the newest checkpoint whose event is at least `keep` old, written by these
//      machines (a checkpoint of others could not be resumed from); none: nothing to do
//   2. archive (with an archive directory): the journal from its first event to that checkpoint's,
//      as `lanekeeper journal export` writes it, so the archives follow on from each other and each
//      replays alone (`replay --journal`); written to a temporary file, checked for gaps, flushed to
//      disk and only then given its name (journal-<first>-<last>.jsonl). A failure deletes nothing.
//   3. delete: every event, effect, transition and checkpoint below the checkpoint's seq, oldest
//      first in short transactions; on SQLite the file then shrinks (incremental vacuum)
//
// Safe beside a running lanekeeper: it only deletes below a checkpoint the runtime no longer reads
// (it appends above it and resumes from its own latest), in transactions as short as an append.
// Two prunes at once (the runtime's and `lanekeeper journal prune`) never lose an event: an
// archive is only named once complete and never overwritten, and one written while another prune
// deleted below it has a gap, so it fails and deletes nothing.
import { existsSync, mkdirSync } from 'node:fs';
import { link, open, unlink } from 'node:fs/promises';
import path from 'node:path';
import { exportJournal } from '../adapters/journal-file/write.js';
import { formatDuration } from '../config/duration.js';
import type { Pruned, Store } from '../ports/store.js';
import { MACHINES_VERSION } from './fleet-host.js';
import { plural } from '../format/event.js';

export interface PruneJournalOptions {
  store: Store;
  /** Keep this much (ms back from `now`); the newest checkpoint at least this old is kept too. */
  keepMs: number;
  /** Archive what is deleted here first (created if need be); null: not archived. */
  archiveDir: string | null;
  /** Now, in ms since the epoch. */
  now: number;
  /** Told what was done (info) and what failed (warn), one line each. */
  log?: { info(msg: string): void; warn(msg: string): void };
  /** A store shared by several hosts: this host's journal is pruned, and its name is in the archive's. */
  host?: string;
  /**
   * SQLite: a file made before retention may be rewritten once, after the delete, to switch it to
   * incremental vacuum (JournalPort.pruneBelow; it holds the write lock while it copies what is
   * kept: `lanekeeper claim` waits, and gives up after 5 s). Default true.
   */
  rewrite?: boolean;
}

export type PruneReport =
  /** Nothing to delete, and why (no checkpoint that old; the journal starts there already). */
  | { status: 'nothing'; why: string; message: string }
  /** Nothing deleted: archiving failed, or the delete did. */
  | { status: 'failed'; why: string; message: string }
  | {
      status: 'pruned';
      /** The seqs deleted: `from` to `to`, both included. */
      from: number;
      to: number;
      /** The checkpoint kept: the journal starts at its seq now. */
      checkpoint: { seq: number; at: number };
      deleted: Pruned;
      /** The archive written (or found written by an earlier prune cut short); null: none asked for. */
      archive: string | null;
      message: string;
    };

/** Prunes the journal once; never throws for what it can report (the report says what happened). */
export async function pruneJournal(opts: PruneJournalOptions): Promise<PruneReport> {
  const { store, log } = opts;
  const journal = store.journal;
  const keep = keepText(opts.keepMs);
  const floor = await journal.pruneFloor(opts.now - opts.keepMs, { version: MACHINES_VERSION });
  if (!floor) {
    const why = `no checkpoint of these machines is older than ${keep} yet`;
    return { status: 'nothing', why, message: `journal prune: nothing to delete (${why})` };
  }
  const cp = floor.checkpoint;
  if (floor.first >= cp.seq) {
    const why = `the journal starts at the checkpoint at seq ${cp.seq} already, the newest older than ${keep}`;
    return { status: 'nothing', why, message: `journal prune: nothing to delete (${why})` };
  }
  const from = floor.first;
  const to = cp.seq - 1;
  let archive: string | null = null;
  if (opts.archiveDir) {
    try {
      archive = await archiveJournal(store, opts.archiveDir, from, cp.seq, opts.now, opts.host);
    } catch (err) {
      const why = `archiving seq ${from}–${cp.seq} to ${opts.archiveDir} failed: ${(err as Error).message}`;
      const message = `journal prune: nothing deleted, ${why}`;
      log?.warn(message);
      return { status: 'failed', why, message };
    }
  }
  let deleted: Pruned | null;
  try {
    deleted = await journal.pruneBelow(cp.seq, { rewrite: opts.rewrite ?? true });
  } catch (err) {
    const why = `deleting seq ${from}–${to} failed: ${(err as Error).message}`;
    const message = `journal prune: ${why}${archive ? ` (archived to ${archive})` : ''}; what was deleted before the failure is gone, the journal starts later`;
    log?.warn(message);
    return { status: 'failed', why, message };
  }
  if (!deleted) {
    const why = `the checkpoint at seq ${cp.seq} went meanwhile (another prune went further)`;
    return { status: 'nothing', why, message: `journal prune: nothing to delete (${why})` };
  }
  const message = prunedText({ from, to, cp, deleted, archive, keep });
  log?.info(message);
  return { status: 'pruned', from, to, checkpoint: cp, deleted, archive, message };
}

function prunedText(r: {
  from: number;
  to: number;
  cp: { seq: number; at: number };
  deleted: Pruned;
  archive: string | null;
  keep: string;
}): string {
  const d = r.deleted;
  const shrank =
    d.vacuum === 'rewritten'
      ? `; the file was rewritten once to switch it to incremental vacuum and gave back ${mb(d.freedBytes ?? 0)}`
      : d.vacuum === 'deferred'
        ? '; the file keeps its size (its free pages are reused) until a prune while lanekeeper is stopped rewrites it once, as a store made before retention needs'
        : d.freedBytes
          ? `; the file gave back ${mb(d.freedBytes)}`
          : '';
  return (
    `journal pruned: seq ${r.from}–${r.to} deleted (${plural(d.events, 'event')}, ${plural(d.effects, 'effect')}, ${plural(d.transitions, 'transition')}, ${plural(d.checkpoints, 'checkpoint')})` +
    `${r.archive ? `, archived to ${r.archive}` : ', not archived'}` +
    `; the journal starts at the checkpoint at seq ${r.cp.seq} (${new Date(r.cp.at).toISOString()}, the newest older than ${r.keep})${shrank}`
  );
}

/** As journal.keep is usually written: "90d" for whole days, else "36h", "1h 30m". */
const keepText = (ms: number) => (ms >= DAY && ms % DAY === 0 ? `${ms / DAY}d` : formatDuration(ms));
const DAY = 86_400_000;
const mb = (bytes: number) =>
  bytes < 1_048_576 ? `${Math.round(bytes / 1024)} KB` : `${(bytes / 1_048_576).toFixed(1)} MB`;

/**
 * Writes the journal from `from` to `to` (its kept checkpoint's seq) into `dir` as an export does,
 * durably, and returns the file's path. A file of that name there already is a complete archive of
 * the same range (one is only named once flushed to disk): it is kept and used.
 */
async function archiveJournal(
  store: Store,
  dir: string,
  from: number,
  to: number,
  now: number,
  host?: string,
): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const pad = (n: number) => String(n).padStart(10, '0');
  const name = `journal-${host ? `${host}-` : ''}${pad(from)}-${pad(to)}.jsonl`;
  const file = path.join(dir, name);
  if (existsSync(file)) return file;
  const partial = path.join(dir, `.${name}.${process.pid}.partial`);
  try {
    await exportJournal(store.journal, {
      fromSeq: from,
      toSeq: to,
      out: partial,
      machines: MACHINES_VERSION,
      now: new Date(now),
      archive: true,
    });
    // link, not rename: an archive another prune named meanwhile is never replaced.
    await link(partial, file).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    await syncDir(dir);
    return file;
  } finally {
    await unlink(partial).catch(() => {});
  }
}

/** The directory's entry for a new file is on disk too (fsync of the directory). */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
