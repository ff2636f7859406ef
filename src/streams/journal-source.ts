// Where replay reads a journal from: a state directory's store, or an exported journal file
// (adapters/journal-file). Either way: events in seq order with what was recorded of each, the
// checkpoints, and where each run of the runtime began.
import type { Checkpoint, JournalEntry, JournalPort } from '../ports/store.js';

/** How to open a store's journal again (a replay worker thread does): what openStore takes. */
export interface SourceOrigin {
  stateDir: string;
  url: string | null;
  host?: string;
}

export interface JournalSource {
  /** For messages: the state directory or the file. */
  readonly name: string;
  /** Where another thread can open the same journal (absent: only here, e.g. a file). */
  readonly origin?: SourceOrigin;
  /** The first and last seq it holds (0, 0 when empty). */
  bounds(): Promise<{ first: number; last: number }>;
  /** The seq of the last RUNTIME_STARTED at or before `seq`, or null. */
  runStart(seq: number): Promise<number | null>;
  /** The latest checkpoint at or before `seq`, or null. */
  checkpoint(seq: number): Promise<Checkpoint | null>;
  /** Entries from `fromSeq` on, in seq order. */
  entries(fromSeq: number): AsyncIterable<JournalEntry>;
  close(): Promise<void>;
}

const BATCH = 5000;

/** A store's journal, read in batches so a journal of millions of events never sits in memory. */
export function storeJournalSource(
  journal: JournalPort,
  name: string,
  close: () => Promise<void> = async () => {},
  origin?: SourceOrigin,
): JournalSource {
  return {
    name,
    ...(origin ? { origin } : {}),
    async bounds() {
      const last = await journal.lastSeq();
      const [first] = await journal.entries(1, 1);
      return { first: first?.event.seq ?? 0, last };
    },
    runStart: (seq) => journal.runStart(seq),
    checkpoint: (seq) => journal.checkpoint(seq),
    async *entries(fromSeq) {
      let next = fromSeq;
      for (;;) {
        const batch = await journal.entries(next, BATCH);
        yield* batch;
        if (batch.length < BATCH) return;
        next = batch.at(-1)!.event.seq + 1;
      }
    },
    close,
  };
}
