// The demo's golden journal in a SQLite store of its own, as the runtime would have written it:
// each event with what was recorded of it, and checkpoints of the fleet folded to the seqs asked
// for. For the journal retention tests.
import path from 'node:path';
import { openJournalFile } from '../../src/adapters/journal-file/read.js';
import { openSqliteStore } from '../../src/adapters/store/sqlite/index.js';
import type { Intent } from '../../src/machines/intents.js';
import type { JournalEntry, Store } from '../../src/ports/store.js';
import { MACHINES_VERSION } from '../../src/streams/fleet-host.js';
import { fold } from '../../src/streams/fold.js';
import { storeJournalSource } from '../../src/streams/journal-source.js';

export const DEMO_JOURNAL = path.resolve(import.meta.dirname, '../fixtures/journals/demo.jsonl');

export async function demoEntries(): Promise<JournalEntry[]> {
  const all: JournalEntry[] = [];
  for await (const e of (await openJournalFile(DEMO_JOURNAL)).entries(1)) all.push(e);
  return all;
}

/** The demo's journal written into the store in `dir` (made if need be), with a checkpoint after each seq in `checkpoints`. */
export async function writeDemoJournal(
  dir: string,
  checkpoints: number[],
): Promise<{ store: Store; entries: JournalEntry[] }> {
  const entries = await demoEntries();
  const store = openSqliteStore(dir);
  for (const e of entries) {
    await store.journal.append(e.event);
    if (e.changed)
      await store.journal.recordEffects(
        e.event.seq,
        e.effects.map((i) => JSON.parse(i) as Intent),
        e.changed,
      );
  }
  for (const seq of checkpoints) {
    const source = storeJournalSource(store.journal, 'demo');
    const { host, fleet } = await fold(source, { from: 1, until: seq, start: { host: null, fleet: null } });
    await store.journal.saveCheckpoint({
      seq,
      version: MACHINES_VERSION,
      state: { fleet: fleet!, actors: JSON.parse(JSON.stringify(host!.persist())) as unknown },
    });
    host!.stop();
  }
  return { store, entries };
}

/** When the event at `seq` happened. */
export const timeOf = (entries: JournalEntry[], seq: number) => entries.find((e) => e.event.seq === seq)!.event.now;
