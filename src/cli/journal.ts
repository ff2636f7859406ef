// lanekeeper journal export [--state DIR] [--since SEQ|DURATION] --out FILE
// Writes a self-contained journal file (adapters/journal-file/format.ts) that `replay --journal`
// reads: from the start of the run (or a later checkpoint) that holds the first wanted event.
import { exportJournal } from '../adapters/journal-file/write.js';
import { checkDurationFlag, parseDuration } from '../config/duration.js';
import { UsageError } from '../errors.js';
import { MACHINES_VERSION } from '../streams/fleet-host.js';
import { out } from './io.js';
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
