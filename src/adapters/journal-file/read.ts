// Reads an exported journal (format.ts) as a replay source. The file is streamed twice: once to
// check every line and index it (runs, checkpoint, bounds), once per replay to yield its events,
// so a journal of a million events never sits in memory. A damaged file is a JournalFileError
// naming the line.
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { JournalFileError } from '../../errors.js';
import type { StampedEvent } from '../../machines/events.js';
import type { JournalSource } from '../../streams/journal-source.js';
import type { Checkpoint, JournalEntry } from '../../ports/store.js';
import { JOURNAL_FILE_VERSION, type JournalFileHeader } from './format.js';

export async function openJournalFile(file: string): Promise<JournalSource> {
  if (!existsSync(file)) throw new JournalFileError(file, 0, 'no such file');
  let header: JournalFileHeader | null = null;
  let checkpoint: Checkpoint | null = null;
  const runs: number[] = [];
  let first = 0;
  let last = 0;
  for await (const { n, value } of lines(file)) {
    if (n === 1) {
      header = value as unknown as JournalFileHeader;
      if (typeof header?.lanekeeper_journal !== 'number')
        throw new JournalFileError(file, 1, 'not a lanekeeper journal (export one with `lanekeeper journal export`)');
      if (header.lanekeeper_journal > JOURNAL_FILE_VERSION)
        throw new JournalFileError(
          file,
          1,
          `journal format ${header.lanekeeper_journal} is newer than this lanekeeper reads (${JOURNAL_FILE_VERSION})`,
        );
      continue;
    }
    if (isObject(value) && 'checkpoint' in value) {
      if (first) throw new JournalFileError(file, n, 'a checkpoint after the first event');
      checkpoint = value.checkpoint as Checkpoint;
      if (typeof checkpoint?.seq !== 'number' || typeof checkpoint.version !== 'string' || !isObject(checkpoint.state))
        throw new JournalFileError(file, n, 'a checkpoint needs seq, version and state');
      continue;
    }
    const event = isObject(value) && isObject(value.event) ? value.event : null;
    if (
      !event ||
      typeof event.seq !== 'number' ||
      typeof event.type !== 'string' ||
      typeof event.now !== 'number' ||
      !Array.isArray(value.effects)
    ) {
      throw new JournalFileError(
        file,
        n,
        'expected {"event": {seq, type, now, …}, "effects": […], "changed": {…} | null}',
      );
    }
    if (event.seq <= last)
      throw new JournalFileError(file, n, `seq ${event.seq} after seq ${last}: events must come in rising seq order`);
    if (!first) first = event.seq;
    last = event.seq;
    if (event.type === 'RUNTIME_STARTED') runs.push(event.seq);
  }
  if (!header) throw new JournalFileError(file, 0, 'the file is empty');
  return {
    name: file,
    bounds: async () => ({ first, last }),
    runStart: async (seq) => runs.filter((r) => r <= seq).at(-1) ?? null,
    checkpoint: async (seq) => (checkpoint && checkpoint.seq <= seq ? checkpoint : null),
    async *entries(fromSeq) {
      for await (const { value } of lines(file)) {
        if (!isObject(value) || !isObject(value.event)) continue;
        const event = value.event as unknown as StampedEvent;
        if (event.seq < fromSeq) continue;
        const entry: JournalEntry = {
          event,
          effects: (value.effects as unknown[]).map((i) => JSON.stringify(i)),
          changed: (value.changed as Record<string, string> | null) ?? null,
        };
        yield entry;
      }
    },
    close: async () => {},
  };
}

async function* lines(file: string): AsyncGenerator<{ n: number; value: Record<string, unknown> }> {
  let n = 0;
  for await (const text of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    n++;
    if (!text.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new JournalFileError(file, n, `not JSON (${(err as Error).message})`);
    }
    yield { n, value: value as Record<string, unknown> };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
