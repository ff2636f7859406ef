// lanekeeper journal export [--state DIR] [--since SEQ|DURATION] --out FILE
// Writes a self-contained journal file (adapters/journal-file/format.ts) that `replay --journal`
// reads: from the start of the run (or a later checkpoint) that holds the first wanted event.
//
// lanekeeper journal prune [--config F | --state DIR] [--keep DURATION] [--archive-dir DIR] [--json]
// Journal retention once (streams/retention.ts), with the configuration's journal.keep and
// journal.archive_dir unless the flags say otherwise.
import path from 'node:path';
import { exportJournal } from '../adapters/journal-file/write.js';
import { instanceState } from '../adapters/instance/held.js';
import { checkDurationFlag, parseDuration } from '../config/duration.js';
import { UsageError } from '../errors.js';
import { MACHINES_VERSION } from '../streams/fleet-host.js';
import { pruneJournal } from '../streams/retention.js';
import { EXIT, err, out } from './io.js';
import { openReaderStore } from './reader-store.js';

export interface ExportOptions {
  state?: string;
  config?: string;
  since?: string;
  out: string;
}

export async function journalExportCommand(opts: ExportOptions): Promise<void> {
  // Checked before the store is opened: a seq, or a duration back from now.
  const since = opts.since === undefined ? null : sinceArg(opts.since);
  const { store, dir, url } = await openReaderStore(opts, process.env);
  try {
    const last = await store.journal.lastSeq();
    if (last === 0) throw new UsageError(`the journal in ${url ? store.location : dir} is empty: nothing to export`);
    let fromSeq = 1;
    if (since) {
      fromSeq = 'seq' in since ? since.seq : ((await store.journal.firstSeqSince(Date.now() - since.ms)) ?? last);
      if (fromSeq > last) throw new UsageError(`--since ${opts.since}: the journal ends at seq ${last}`);
    }
    const r = await exportJournal(store.journal, {
      fromSeq,
      out: opts.out,
      machines: MACHINES_VERSION,
      now: new Date(),
    });
    const begins =
      r.begins === 'checkpoint' ? 'a checkpoint' : r.begins === 'run' ? "the run's start" : 'the first event';
    out(
      `wrote ${r.events} event${r.events === 1 ? '' : 's'} (seq ${r.first}–${r.last}, from ${begins}) to ${opts.out}; replay it with: lanekeeper replay --journal ${opts.out}`,
    );
  } finally {
    await store.close();
  }
}

function sinceArg(text: string): { seq: number } | { ms: number } {
  if (/^\d+$/.test(text)) return { seq: Number(text) };
  const r = checkDurationFlag('--since', text);
  if ('ms' in r) return r;
  throw new UsageError(
    parseDuration(text) === null
      ? `--since: expected a seq (e.g. 1200) or a duration (e.g. 2h), got ${JSON.stringify(text)}`
      : r.problem,
  );
}

export interface PruneOptions {
  state?: string;
  config?: string;
  /** ms (the flag, checked like journal.keep). */
  keep?: number;
  archiveDir?: string;
  json?: boolean;
}

/**
 * Prunes once and says what it did in one line: exit 0 when it deleted something or found nothing
 * to delete, 1 when archiving or the delete failed (nothing, or only part, was deleted).
 *
 * Beside a running lanekeeper it is safe (streams/retention.ts): it deletes only below a checkpoint
 * the runtime no longer reads, in transactions as short as the runtime's own. What it does not do
 * then is rewrite a SQLite file made before retention (the one-time switch to incremental vacuum):
 * that holds the write lock for seconds, longer than the runtime waits for it.
 */
export async function journalPruneCommand(opts: PruneOptions): Promise<void> {
  const { store, dir, url, host, config } = await openReaderStore(opts, process.env);
  try {
    const keepMs = opts.keep ?? config?.journal.keepMs ?? null;
    if (keepMs === null)
      throw new UsageError(
        config
          ? `${config.source}: journal.keep is not set (retention is off); pass --keep (e.g. --keep 90d) to prune once`
          : 'how much to keep? pass --keep (e.g. --keep 90d), or --config with journal.keep set',
      );
    const archiveDir = opts.archiveDir ? path.resolve(opts.archiveDir) : (config?.journal.archiveDir ?? null);
    // A shared store (PostgreSQL) is never rewritten; a SQLite one only while no lanekeeper runs.
    const running = url ? null : instanceState(dir).running;
    const report = await pruneJournal({
      store,
      keepMs,
      archiveDir,
      now: Date.now(),
      rewrite: running === false,
      ...(store.shared && host ? { host } : {}),
    });
    if (opts.json) out(JSON.stringify(report));
    else if (report.status === 'failed') err(report.message);
    else out(report.message);
    if (report.status === 'failed') process.exitCode = EXIT.failed;
  } finally {
    await store.close();
  }
}
