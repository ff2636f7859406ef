// Writes a store's journal to a self-contained file (format.ts): from the start of the run that
// holds the first wanted event, or from a later checkpoint, so replay needs nothing else. Journal
// retention archives what it prunes the same way (streams/retention.ts), to `toSeq`, checking
// that no event is missing and making the file durable before anything is deleted.
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { once } from 'node:events';
import type { JournalPort } from '../../ports/store.js';
import { JOURNAL_FILE_VERSION, type JournalFileHeader } from './format.js';

export interface ExportResult {
  first: number;
  last: number;
  events: number;
  /** Where it begins: a run's start, a checkpoint, or the journal's first event (older journals). */
  begins: 'run' | 'checkpoint' | 'journal';
}

export interface ExportOptions {
  fromSeq: number;
  /** The last seq to write (default: the journal's last). */
  toSeq?: number;
  out: string;
  machines: string;
  now: Date;
  /**
   * For an archive: every seq from the first written to `toSeq` must be there (the journal has no
   * gaps; one means events were deleted while they were read), else it throws; and the file is
   * flushed to disk (fsync) before it returns.
   */
  archive?: boolean;
}

export async function exportJournal(journal: JournalPort, opts: ExportOptions): Promise<ExportResult> {
  const last = Math.min(await journal.lastSeq(), opts.toSeq ?? Infinity);
  // A pruned journal starts later (at the checkpoint retention kept): nothing before is asked for.
  const head = (await journal.read({ fromSeq: 1, limit: 1 }))[0]?.seq ?? 1;
  const want = Math.min(Math.max(head, opts.fromSeq), last);
  const run = await journal.runStart(want);
  const cp = await journal.checkpoint(want);
  const useCheckpoint = cp !== null && (run === null || cp.seq >= run);
  const first = useCheckpoint ? cp.seq + 1 : (run ?? 1);
  const begins = useCheckpoint ? 'checkpoint' : run !== null ? 'run' : 'journal';
  const out = createWriteStream(opts.out);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  const write = async (line: unknown) => {
    if (!out.write(`${JSON.stringify(line)}\n`)) await Promise.race([once(out, 'drain'), failed]);
  };
  const header: JournalFileHeader = {
    lanekeeper_journal: JOURNAL_FILE_VERSION,
    exported_at: opts.now.toISOString(),
    first_seq: first,
    last_seq: last,
    machines: opts.machines,
  };
  try {
    await write(header);
    if (useCheckpoint) await write({ checkpoint: cp });
    let events = 0;
    let expect = first;
    for (let next = first; next <= last;) {
      const batch = await journal.entries(next, 5000);
      if (!batch.length) break;
      for (const e of batch) {
        // Events appended while it was written (a running lanekeeper) are not its.
        if (e.event.seq > last) break;
        if (opts.archive && e.event.seq !== expect)
          throw new Error(
            `seq ${e.event.seq} came where seq ${expect} was due: events were deleted while they were read`,
          );
        await write({ event: e.event, effects: e.effects.map((s) => JSON.parse(s) as unknown), changed: e.changed });
        events++;
        expect = e.event.seq + 1;
      }
      next = batch.at(-1)!.event.seq + 1;
    }
    if (opts.archive && expect !== last + 1)
      throw new Error(
        `the journal ends at seq ${expect - 1}, before seq ${last}: events were deleted while they were read`,
      );
    out.end();
    await Promise.race([once(out, 'finish'), failed]);
    if (opts.archive) {
      const fh = await open(opts.out, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    return { first, last, events, begins };
  } finally {
    // Closed before it returns or throws: a file still being opened would appear after the caller
    // removed it.
    if (!out.closed) {
      out.destroy();
      await once(out, 'close');
    }
  }
}
