// Writes a store's journal to a self-contained file (format.ts): from the start of the run that
// holds the first wanted event, or from a later checkpoint, so replay needs nothing else.
import { createWriteStream } from 'node:fs';
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

export async function exportJournal(
  journal: JournalPort,
  opts: { fromSeq: number; out: string; machines: string; now: Date },
): Promise<ExportResult> {
  const last = await journal.lastSeq();
  const want = Math.min(Math.max(1, opts.fromSeq), last);
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
  await write(header);
  if (useCheckpoint) await write({ checkpoint: cp });
  let events = 0;
  for (let next = first; next <= last;) {
    const batch = await journal.entries(next, 5000);
    if (!batch.length) break;
    for (const e of batch) {
      await write({ event: e.event, effects: e.effects.map((s) => JSON.parse(s) as unknown), changed: e.changed });
      events++;
    }
    next = batch.at(-1)!.event.seq + 1;
  }
  out.end();
  await Promise.race([once(out, 'finish'), failed]);
  return { first, last, events, begins };
}
