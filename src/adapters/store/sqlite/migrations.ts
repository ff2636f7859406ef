// Schema of the SQLite store, as numbered migrations tracked in PRAGMA user_version.
import type Database from 'better-sqlite3';
import { retryBusy, writer } from './busy.js';

const MIGRATIONS: readonly string[] = [
  // 1: the spine
  `
  CREATE TABLE journal (
    seq     INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    type    TEXT    NOT NULL,
    seed    INTEGER,
    payload TEXT    NOT NULL
  );
  CREATE TABLE effects (
    seq     INTEGER NOT NULL,
    idx     INTEGER NOT NULL,
    intent  TEXT    NOT NULL,
    PRIMARY KEY (seq, idx)
  );
  CREATE TABLE checkpoints (
    seq      INTEGER PRIMARY KEY,
    version  TEXT    NOT NULL,
    snapshot TEXT    NOT NULL
  );
  CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    lane         TEXT NOT NULL,
    lane_id      TEXT NOT NULL,
    arm          TEXT NOT NULL,
    dispatch     TEXT NOT NULL,
    parent       TEXT,
    pid          INTEGER,
    started_at   INTEGER NOT NULL,
    ended_at     INTEGER,
    exit_code    INTEGER,
    signal       TEXT,
    outcome      TEXT,
    reason       TEXT,
    grade        REAL,
    grade_source TEXT,
    dimensions   TEXT,
    log_path     TEXT
  );
  CREATE INDEX sessions_started ON sessions (started_at);
  CREATE TABLE lanes (
    lane_id TEXT PRIMARY KEY,
    lane    TEXT    NOT NULL,
    slot    INTEGER NOT NULL,
    state   TEXT    NOT NULL,
    since   INTEGER NOT NULL,
    session TEXT
  );
  CREATE TABLE decisions (
    seq    INTEGER NOT NULL,
    at     INTEGER NOT NULL,
    kind   TEXT    NOT NULL,
    chosen TEXT    NOT NULL,
    detail TEXT    NOT NULL
  );
  CREATE INDEX decisions_seq ON decisions (seq);
  -- One store-wide fencing sequence: tokens never go back, even when claim rows are deleted.
  CREATE TABLE fence (n INTEGER NOT NULL);
  INSERT INTO fence (n) VALUES (0);
  CREATE TABLE claims (
    key         TEXT    NOT NULL,
    slot        INTEGER NOT NULL DEFAULT 0,
    holder      TEXT    NOT NULL,
    epoch       INTEGER NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('claimed', 'released', 'completed')),
    acquired_at INTEGER NOT NULL,
    renewed_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    attempt     INTEGER NOT NULL DEFAULT 1,
    result      TEXT,
    PRIMARY KEY (key, slot)
  );
  -- Lock telemetry: every grant, renewal, release, expiry and denial, for the stats command.
  CREATE TABLE lock_events (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    key    TEXT    NOT NULL,
    slot   INTEGER,
    holder TEXT    NOT NULL,
    epoch  INTEGER,
    event  TEXT    NOT NULL
  );
  CREATE INDEX lock_events_at ON lock_events (at);
  CREATE TABLE posteriors (
    scope      TEXT NOT NULL,
    arm        TEXT NOT NULL,
    data       TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (scope, arm)
  );
  `,
  // 2: claims for agents (their own TTL, left to expire on request), orphaned results, lane targets
  `
  ALTER TABLE claims ADD COLUMN ttl_ms INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE claims ADD COLUMN keep INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE lock_events ADD COLUMN slots INTEGER;
  CREATE INDEX lock_events_key ON lock_events (key, at);
  CREATE INDEX claims_holder ON claims (holder) WHERE state = 'claimed';
  -- A completion or release that came with a stale token: kept for the record, never applied.
  CREATE TABLE orphans (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    op     TEXT    NOT NULL,
    key    TEXT    NOT NULL,
    holder TEXT    NOT NULL,
    token  INTEGER NOT NULL,
    result TEXT,
    reason TEXT    NOT NULL
  );
  ALTER TABLE lanes ADD COLUMN target_share REAL;
  `,
  // 3: fewer pages written per claim. Every commit appends each page it touched to the WAL, and
  // that is most of a claim's cost: claims without a separate rowid tree, and no indexes that
  // only the occasional stats or holder lookup would read (they scan instead).
  `
  DROP INDEX lock_events_key;
  DROP INDEX lock_events_at;
  DROP INDEX claims_holder;
  CREATE TABLE claims_v3 (
    key         TEXT    NOT NULL,
    slot        INTEGER NOT NULL DEFAULT 0,
    holder      TEXT    NOT NULL,
    epoch       INTEGER NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('claimed', 'released', 'completed')),
    acquired_at INTEGER NOT NULL,
    renewed_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    ttl_ms      INTEGER NOT NULL DEFAULT 0,
    keep        INTEGER NOT NULL DEFAULT 0,
    attempt     INTEGER NOT NULL DEFAULT 1,
    result      TEXT,
    PRIMARY KEY (key, slot)
  ) WITHOUT ROWID;
  INSERT INTO claims_v3 SELECT key, slot, holder, epoch, state, acquired_at, renewed_at, expires_at, ttl_ms, keep, attempt, result FROM claims;
  DROP TABLE claims;
  ALTER TABLE claims_v3 RENAME TO claims;
  `,
  // 4: the task a session worked on (task files)
  `
  ALTER TABLE sessions ADD COLUMN task TEXT;
  `,
  // 5: grades given after the fact, until the runtime has learned them
  `
  CREATE TABLE late_grades (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    session    TEXT    NOT NULL,
    grade      REAL    NOT NULL,
    dimensions TEXT,
    at         INTEGER NOT NULL,
    applied    INTEGER NOT NULL DEFAULT 0
  );
  `,
  // 6: what the running lanekeeper publishes for readers (the next tick's time, for status)
  `
  CREATE TABLE runtime_info (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  // 7: each event the runtime took, with the lane states it changed: replay compares against it,
  // and an event without a row was journaled but never taken (the runtime stopped in between)
  `
  CREATE TABLE transitions (
    seq   INTEGER PRIMARY KEY,
    lanes TEXT    NOT NULL
  );
  `,
  // 8: the agent's start time as /proc gives it, so crash recovery tells our agent from another
  // process that was given the same pid later
  `
  ALTER TABLE sessions ADD COLUMN pid_start TEXT;
  CREATE INDEX sessions_open ON sessions (ended_at) WHERE ended_at IS NULL;
  `,
  // 9: where each run of the runtime began, found without reading the whole journal (replay asks
  // it every time; a journal of a million events took 0.6 s to scan)
  `
  CREATE INDEX journal_runs ON journal (seq) WHERE type = 'RUNTIME_STARTED';
  `,
  // 10: what a cooling down or waiting lane waits for, kept when lanekeeper stops (every start
  // resumes the lanes), so status and plan can say how long is left
  `
  ALTER TABLE lanes ADD COLUMN deadline INTEGER;
  `,
  // 11: the decisions of a window (stats --since) found without reading every decision: a year of
  // ticks is tens of thousands of rows of a few kilobytes each, and reading them took 80 ms
  `
  CREATE INDEX decisions_at ON decisions (at);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Reads run before a migration's write lock is taken, so that what the migration reads is in the
 * page cache and the lock is held briefly: other processes wait at most 5 s for it (busy.ts), and
 * indexing a journal of millions of events read from disk could take longer than that.
 */
const WARM: Readonly<Record<number, string>> = {
  9: "SELECT count(*) FROM journal WHERE type = 'RUNTIME_STARTED'",
  11: 'SELECT count(at) FROM decisions',
};

const version = (db: Database.Database) => db.pragma('user_version', { simple: true }) as number;

/** Brings the schema up to date. Safe when several processes open a new file at once. */
export function migrate(db: Database.Database): void {
  const current = retryBusy(() => version(db), db.name);
  if (current > SCHEMA_VERSION) {
    throw new Error(
      `the database has schema version ${current}, newer than this lanekeeper (${SCHEMA_VERSION}); upgrade lanekeeper`,
    );
  }
  if (current === SCHEMA_VERSION) return;
  // A new file (version 0) has no tables to read yet.
  const warm = current > 0 ? Object.entries(WARM).filter(([v]) => Number(v) > current) : [];
  for (const [, sql] of warm) retryBusy(() => db.prepare(sql).get(), db.name);
  writer(db, () => {
    // Read again under the write lock: another process may have migrated meanwhile.
    for (let v = version(db); v < SCHEMA_VERSION; v++) {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }
  })();
}
