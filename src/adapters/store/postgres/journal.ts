// The journal on PostgreSQL: events, what the machines made of each (intents, lane states that
// changed) and checkpoints, as in the SQLite store (sqlite/journal.ts). The runtime still stamps
// each event's seq (lastSeq + 1) and the primary key on seq refuses a second event with the same
// seq, so two writers can never interleave silently: the loser's append fails. Each row also
// records the host that appended it, for when several hosts share one journal.
import type { Intent } from '../../../machines/intents.js';
import type { JournalEntry, JournalPort } from '../../../ports/store.js';
import type { Db, Reconcile } from './db.js';
import { checkpointOfRow, entriesOf, eventOfRow, type JournalRow } from '../journal-rows.js';
import { postgresPrune } from './prune.js';

const READ =
  'SELECT seq, at, type, seed, payload FROM journal WHERE host = $3 AND seq >= $1::bigint ORDER BY seq LIMIT $2::bigint';

// Effects and the transition of one event in one statement, so they are recorded together or not at all.
const RECORD_TAKEN = `
WITH fx AS (
  INSERT INTO effects (host, seq, idx, intent)
  SELECT $4, $1::bigint, i - 1, intent FROM unnest($2::text[]) WITH ORDINALITY AS t(intent, i)
  ON CONFLICT DO NOTHING
)
INSERT INTO transitions (host, seq, lanes) VALUES ($4, $1::bigint, $3::text)
ON CONFLICT (host, seq) DO UPDATE SET lanes = excluded.lanes`;

/**
 * After a lost connection: whether the append went through. Only this very event counts; another
 * event at its seq (a second writer) still makes the append fail on the primary key.
 */
const APPENDED: Reconcile = {
  name: 'lk_journal_appended',
  text: 'SELECT seq FROM journal WHERE seq = $1 AND at = $2 AND type = $3 AND seed IS NOT DISTINCT FROM $4::bigint AND payload = $5 AND host = $6',
};

/** Where the run of host $2 holding seq $1 began (the journal_runs index answers it). */
export const RUN_START_SQL = `SELECT MAX(seq) AS seq FROM journal WHERE host = $2 AND type = 'RUNTIME_STARTED' AND seq <= $1`;

/** The journal of one host: every read and write is of that host's events (its seq is its own). */
export function postgresJournal(db: Db, host: string): JournalPort {
  return {
    async append(event) {
      const { seq, now, seed, type, ...payload } = event;
      await db.rows(
        'lk_journal_append',
        'INSERT INTO journal (seq, at, type, seed, payload, host) VALUES ($1, $2, $3, $4, $5, $6)',
        [seq, now, type, seed ?? null, JSON.stringify(payload), host],
        APPENDED,
      );
    },
    async recordEffects(seq, intents, changed) {
      await db.rows('lk_journal_record_taken', RECORD_TAKEN, [
        seq,
        intents.map((i) => JSON.stringify(i)),
        JSON.stringify(changed),
        host,
      ]);
    },
    async lastSeq() {
      return (await db.row<{ seq: number }>(
        'lk_journal_last',
        'SELECT COALESCE(MAX(seq), 0)::bigint AS seq FROM journal WHERE host = $1',
        [host],
      ))!.seq;
    },
    async read(opts = {}) {
      return (await db.rows<JournalRow>('lk_journal_read', READ, [opts.fromSeq ?? 1, limitOf(opts.limit), host])).map(
        eventOfRow,
      );
    },
    async effects(seq) {
      const rows = await db.rows<{ intent: string }>(
        'lk_journal_effects',
        'SELECT intent FROM effects WHERE host = $2 AND seq = $1 ORDER BY idx',
        [seq, host],
      );
      return rows.map((r) => JSON.parse(r.intent) as Intent);
    },
    entries: (fromSeq, limit) => readEntries(db, host, fromSeq, limitOf(limit)),
    async runStart(seq) {
      const r = await db.row<{ seq: number | null }>('lk_journal_run_start', RUN_START_SQL, [seq, host]);
      return r?.seq ?? null;
    },
    ...postgresCheckpoints(db, host),
    async firstSeqSince(at) {
      const r = await db.row<{ seq: number | null }>(
        'lk_journal_since',
        'SELECT MIN(seq) AS seq FROM journal WHERE host = $2 AND at >= $1',
        [at, host],
      );
      return r?.seq ?? null;
    },
    ...postgresPrune(db, host),
  };
}

/** -1 or undefined: no limit (LIMIT NULL is LIMIT ALL). */
const limitOf = (n: number | undefined) => (n === undefined || n < 0 ? null : n);

/** Events from `fromSeq` on with what was recorded of each (replay, export): three reads joined. */
async function readEntries(db: Db, host: string, fromSeq: number, limit: number | null): Promise<JournalEntry[]> {
  const rows = await db.rows<JournalRow>('lk_journal_read', READ, [fromSeq, limit, host]);
  if (!rows.length) return [];
  const range = [rows[0]!.seq, rows.at(-1)!.seq, host];
  const effectRows = await db.rows<{ seq: number; intent: string }>(
    'lk_journal_effect_range',
    'SELECT seq, intent FROM effects WHERE host = $3 AND seq >= $1 AND seq <= $2 ORDER BY seq, idx',
    range,
  );
  const transitionRows = await db.rows<{ seq: number; lanes: string }>(
    'lk_journal_transition_range',
    'SELECT seq, lanes FROM transitions WHERE host = $3 AND seq >= $1 AND seq <= $2',
    range,
  );
  return entriesOf(rows, effectRows, transitionRows);
}

/** One host's checkpoints of the actor system. */
function postgresCheckpoints(db: Db, host: string): Pick<JournalPort, 'saveCheckpoint' | 'checkpoint'> {
  return {
    async saveCheckpoint(c) {
      await db.rows(
        'lk_journal_save_checkpoint',
        'INSERT INTO checkpoints (host, seq, version, snapshot) VALUES ($4, $1, $2, $3) ON CONFLICT (host, seq) DO UPDATE SET version = excluded.version, snapshot = excluded.snapshot',
        [c.seq, c.version, JSON.stringify(c.state), host],
      );
    },
    async checkpoint(seq) {
      const row = await db.row<{ seq: number; version: string; snapshot: string }>(
        'lk_journal_checkpoint',
        'SELECT seq, version, snapshot FROM checkpoints WHERE host = $2 AND seq <= $1 ORDER BY seq DESC LIMIT 1',
        [seq, host],
      );
      return checkpointOfRow(row);
    },
  };
}
