// The append-only journal of every event, and the intents each event produced.
import type Database from 'better-sqlite3';
import { retryBusy, writer } from './busy.js';
import type { StampedEvent } from '../../../machines/events.js';
import type { Intent } from '../../../machines/intents.js';
import type { JournalPort } from '../ports.js';

interface JournalRecord {
  seq: number;
  at: number;
  type: string;
  seed: number | null;
  payload: string;
}

export function sqliteJournal(db: Database.Database): JournalPort {
  const insert = db.prepare('INSERT INTO journal (seq, at, type, seed, payload) VALUES (?, ?, ?, ?, ?)');
  const insertEffect = db.prepare('INSERT INTO effects (seq, idx, intent) VALUES (?, ?, ?)');
  const last = db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM journal').pluck();
  const read = db.prepare('SELECT seq, at, type, seed, payload FROM journal WHERE seq >= ? ORDER BY seq LIMIT ?');
  const effects = db.prepare('SELECT intent FROM effects WHERE seq = ? ORDER BY idx').pluck();
  const appendEffects = writer(db, (seq: number, intents: readonly Intent[]) => {
    intents.forEach((intent, i) => insertEffect.run(seq, i, JSON.stringify(intent)));
  });

  return {
    async append(event) {
      const { seq, now, seed, type, ...payload } = event;
      retryBusy(() => insert.run(seq, now, type, seed ?? null, JSON.stringify(payload)));
    },
    async recordEffects(seq, intents) {
      if (intents.length) appendEffects(seq, intents);
    },
    async lastSeq() {
      return retryBusy(() => last.get() as number);
    },
    async read(opts = {}) {
      const rows = retryBusy(() => read.all(opts.fromSeq ?? 1, opts.limit ?? -1) as JournalRecord[]);
      return rows.map(toEvent);
    },
    async effects(seq) {
      return retryBusy(() => effects.all(seq) as string[]).map((s) => JSON.parse(s) as Intent);
    },
  };
}

function toEvent(r: JournalRecord): StampedEvent {
  const payload = JSON.parse(r.payload) as object;
  return { ...payload, type: r.type, seq: r.seq, now: r.at, ...(r.seed === null ? {} : { seed: r.seed }) } as StampedEvent;
}
