// Schema of the SQLite store, as numbered migrations tracked in PRAGMA user_version.
import type Database from 'better-sqlite3';

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
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(`the database has schema version ${current}, newer than this lanekeeper (${SCHEMA_VERSION}); upgrade lanekeeper`);
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
