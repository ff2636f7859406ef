// The append-only journal of every event; what the machines made of each (intents, lane states
// that changed); and checkpoints of the actor system, so replay and restarts need not begin at seq 1.
import type Database from 'better-sqlite3';
import { retryBusy, writer } from './busy.js';
import type { Intent } from '../../../machines/intents.js';
import type { JournalPort } from '../../../ports/store.js';
import { checkpointOfRow, entriesOf, eventOfRow, type JournalRow } from '../journal-rows.js';
import { sqlitePrune } from './prune.js';

/** Where the run holding seq ? began (the journal_runs index answers it). */
export const RUN_START_SQL = "SELECT MAX(seq) FROM journal WHERE type = 'RUNTIME_STARTED' AND seq <= ?";

export function sqliteJournal(db: Database.Database): JournalPort {
  const insert = db.prepare('INSERT INTO journal (seq, at, type, seed, payload) VALUES (?, ?, ?, ?, ?)');
  const insertEffect = db.prepare('INSERT INTO effects (seq, idx, intent) VALUES (?, ?, ?)');
  const insertTransition = db.prepare('INSERT OR REPLACE INTO transitions (seq, lanes) VALUES (?, ?)');
  const last = db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM journal').pluck();
  const read = db.prepare('SELECT seq, at, type, seed, payload FROM journal WHERE seq >= ? ORDER BY seq LIMIT ?');
  const effects = db.prepare('SELECT intent FROM effects WHERE seq = ? ORDER BY idx').pluck();
  const effectRange = db.prepare('SELECT seq, intent FROM effects WHERE seq >= ? AND seq <= ? ORDER BY seq, idx');
  const transitionRange = db.prepare('SELECT seq, lanes FROM transitions WHERE seq >= ? AND seq <= ?');
  const runStart = db.prepare(RUN_START_SQL).pluck();
  const insertCheckpoint = db.prepare('INSERT OR REPLACE INTO checkpoints (seq, version, snapshot) VALUES (?, ?, ?)');
  const checkpoint = db.prepare(
    'SELECT seq, version, snapshot FROM checkpoints WHERE seq <= ? ORDER BY seq DESC LIMIT 1',
  );
  const since = db.prepare('SELECT MIN(seq) FROM journal WHERE at >= ?').pluck();
  const recordTaken = writer(
    db,
    (seq: number, intents: readonly Intent[], changed: Readonly<Record<string, string>>) => {
      intents.forEach((intent, i) => insertEffect.run(seq, i, JSON.stringify(intent)));
      insertTransition.run(seq, JSON.stringify(changed));
    },
  );

  return {
    async append(event) {
      const { seq, now, seed, type, ...payload } = event;
      retryBusy(() => insert.run(seq, now, type, seed ?? null, JSON.stringify(payload)));
    },
    async recordEffects(seq, intents, changed) {
      recordTaken(seq, intents, changed);
    },
    async lastSeq() {
      return retryBusy(() => last.get() as number);
    },
    async read(opts = {}) {
      const rows = retryBusy(() => read.all(opts.fromSeq ?? 1, opts.limit ?? -1) as JournalRow[]);
      return rows.map(eventOfRow);
    },
    async effects(seq) {
      return retryBusy(() => effects.all(seq) as string[]).map((s) => JSON.parse(s) as Intent);
    },
    async entries(fromSeq, limit) {
      const rows = retryBusy(() => read.all(fromSeq, limit) as JournalRow[]);
      if (!rows.length) return [];
      const range = [rows[0]!.seq, rows.at(-1)!.seq];
      return entriesOf(
        rows,
        retryBusy(() => effectRange.all(...range) as { seq: number; intent: string }[]),
        retryBusy(() => transitionRange.all(...range) as { seq: number; lanes: string }[]),
      );
    },
    async runStart(seq) {
      return retryBusy(() => runStart.get(seq) as number | null);
    },
    async saveCheckpoint(c) {
      retryBusy(() => insertCheckpoint.run(c.seq, c.version, JSON.stringify(c.state)));
    },
    async checkpoint(seq) {
      return checkpointOfRow(
        retryBusy(() => checkpoint.get(seq) as { seq: number; version: string; snapshot: string } | undefined),
      );
    },
    async firstSeqSince(at) {
      return retryBusy(() => since.get(at) as number | null);
    },
    ...sqlitePrune(db),
  };
}
