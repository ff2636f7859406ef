// Schema of the PostgreSQL store, as numbered migrations tracked in `lanekeeper_schema`. The
// tables mirror the SQLite store's (sqlite/migrations.ts at its version 8), with PostgreSQL's
// types: times are bigint ms, JSON stays text (so it reads back byte for byte, as replay compares
// it), names that lists are ordered by use the "C" collation (byte order, as SQLite sorts).
//
// Several processes may start together on a new database: each migrates inside one transaction
// that first takes a transaction-level advisory lock for the schema and then reads the version
// again, so exactly one of them runs each migration and the others find the work done.
import type pg from 'pg';
import { StoreError } from '../../../errors.js';

const MIGRATIONS: readonly string[] = [
  // 1: everything the SQLite store has, for several hosts: each host has its own journal (seq
  // counts per host, so each replays on its own), lane rows, runtime info and open sessions.
  `
  CREATE TABLE journal (
    host    text   NOT NULL,
    seq     bigint NOT NULL,
    at      bigint NOT NULL,
    type    text   NOT NULL,
    seed    bigint,
    payload text   NOT NULL,
    PRIMARY KEY (host, seq)
  );
  CREATE INDEX journal_at ON journal (host, at);
  CREATE TABLE effects (
    host   text    NOT NULL,
    seq    bigint  NOT NULL,
    idx    integer NOT NULL,
    intent text    NOT NULL,
    PRIMARY KEY (host, seq, idx)
  );
  CREATE TABLE transitions (
    host  text   NOT NULL,
    seq   bigint NOT NULL,
    lanes text   NOT NULL,
    PRIMARY KEY (host, seq)
  );
  CREATE TABLE checkpoints (
    host     text   NOT NULL,
    seq      bigint NOT NULL,
    version  text   NOT NULL,
    snapshot text   NOT NULL,
    PRIMARY KEY (host, seq)
  );
  CREATE TABLE sessions (
    id           text COLLATE "C" PRIMARY KEY,
    -- the host whose runtime runs it (only that host may adopt or close it after a crash)
    host         text    NOT NULL DEFAULT '',
    lane         text    NOT NULL,
    lane_id      text    NOT NULL,
    arm          text    NOT NULL,
    dispatch     text    NOT NULL,
    parent       text,
    pid          integer,
    -- the agent's start time as /proc gives it, to recognise it after a crash
    pid_start    text,
    started_at   bigint  NOT NULL,
    ended_at     bigint,
    exit_code    integer,
    signal       text,
    outcome      text,
    reason       text,
    grade        double precision,
    grade_source text,
    dimensions   text,
    log_path     text,
    task         text
  );
  CREATE INDEX sessions_started ON sessions (started_at);
  CREATE INDEX sessions_open ON sessions (host) WHERE ended_at IS NULL;
  CREATE TABLE lanes (
    host         text COLLATE "C" NOT NULL DEFAULT '',
    lane_id      text COLLATE "C" NOT NULL,
    lane         text COLLATE "C" NOT NULL,
    slot         integer NOT NULL,
    state        text    NOT NULL,
    since        bigint  NOT NULL,
    session      text,
    target_share double precision,
    PRIMARY KEY (host, lane_id)
  );
  CREATE TABLE decisions (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    host   text   NOT NULL DEFAULT '',
    seq    bigint NOT NULL,
    at     bigint NOT NULL,
    kind   text   NOT NULL,
    chosen text   NOT NULL,
    detail text   NOT NULL
  );
  CREATE INDEX decisions_seq ON decisions (host, seq);
  -- One store-wide fencing sequence: tokens never go back, even when claim rows are deleted.
  CREATE SEQUENCE claim_fence;
  -- Updated in place on every claim: room on each page lets PostgreSQL keep the new row version on
  -- the same page (a HOT update, no index write). No index beyond the key for the same reason.
  CREATE TABLE claims (
    key         text COLLATE "C" NOT NULL,
    slot        integer NOT NULL DEFAULT 0,
    holder      text    NOT NULL,
    epoch       bigint  NOT NULL,
    state       text    NOT NULL CHECK (state IN ('claimed', 'released', 'completed')),
    acquired_at bigint  NOT NULL,
    renewed_at  bigint  NOT NULL,
    expires_at  bigint  NOT NULL,
    ttl_ms      bigint  NOT NULL DEFAULT 0,
    keep        integer NOT NULL DEFAULT 0,
    attempt     integer NOT NULL DEFAULT 1,
    result      text,
    PRIMARY KEY (key, slot)
  ) WITH (fillfactor = 70);
  -- Lock telemetry: every grant, renewal, release, completion and expiry (denials write nothing).
  CREATE TABLE lock_events (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at     bigint  NOT NULL,
    key    text    NOT NULL,
    slot   integer,
    slots  integer,
    holder text    NOT NULL,
    epoch  bigint,
    event  text    NOT NULL
  );
  -- A completion or release that came with a stale token: kept for the record, never applied.
  CREATE TABLE orphans (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at     bigint NOT NULL,
    op     text   NOT NULL,
    key    text   NOT NULL,
    holder text   NOT NULL,
    token  bigint NOT NULL,
    result text,
    reason text   NOT NULL
  );
  CREATE TABLE posteriors (
    scope      text COLLATE "C" NOT NULL,
    arm        text COLLATE "C" NOT NULL,
    data       text   NOT NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (scope, arm)
  );
  CREATE TABLE late_grades (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session    text    NOT NULL,
    grade      double precision NOT NULL,
    dimensions text,
    at         bigint  NOT NULL,
    applied    boolean NOT NULL DEFAULT false
  );
  CREATE TABLE runtime_info (
    host  text NOT NULL DEFAULT '',
    key   text NOT NULL,
    value text NOT NULL,
    PRIMARY KEY (host, key)
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Indexes and columns that a lanekeeper of the same schema version without them works with just as
 * well: each is made where it is missing, without a version step. Several hosts share one store and
 * are upgraded one by one; a version step would make every host not yet upgraded refuse the store.
 * `present` tells whether it is made (one cheap read on the usual path).
 */
const ADDITIONS: readonly { present: string; sql: string }[] = [
  // Where each run of a host's runtime began, found without reading its journal back to it
  // (replay asks it every time).
  {
    present: `to_regclass('journal_runs') IS NOT NULL`,
    sql: `CREATE INDEX IF NOT EXISTS journal_runs ON journal (host, seq) WHERE type = 'RUNTIME_STARTED'`,
  },
  // What a cooling down or waiting lane waits for, kept when the runtime stops (every start resumes
  // the lanes), so status and plan say how long is left. A host not yet upgraded leaves it null.
  {
    present: `EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'lanes' AND column_name = 'deadline')`,
    sql: 'ALTER TABLE lanes ADD COLUMN IF NOT EXISTS deadline bigint',
  },
  // The decisions of a window (stats --since) found by time, not by reading every decision.
  {
    present: `to_regclass('decisions_at') IS NOT NULL`,
    sql: 'CREATE INDEX IF NOT EXISTS decisions_at ON decisions (host, at)',
  },
];

/**
 * The schema's version (0 where lanekeeper has not set it up) and whether every addition is made.
 * Two cheap reads on the usual path.
 */
async function schemaState(c: pg.Pool | pg.PoolClient): Promise<{ version: number; additions: boolean }> {
  const checks = ADDITIONS.map((a) => `(${a.present})`).join(' AND ') || 'true';
  const found = await c.query<{ present: boolean; additions: boolean }>(
    `SELECT to_regclass('lanekeeper_schema') IS NOT NULL AS present, ${checks} AS additions`,
  );
  const { present, additions } = found.rows[0]!;
  if (!present) return { version: 0, additions };
  const r = await c.query<{ version: number }>('SELECT version FROM lanekeeper_schema');
  return { version: r.rows[0]?.version ?? 0, additions };
}

/**
 * Brings the schema up to date. `mustExist` (readers): a database without lanekeeper's tables is
 * an error, not something to set up. `where` names the store in messages.
 */
export async function migrate(pool: pg.Pool, opts: { mustExist?: boolean; where: string }): Promise<void> {
  const { version: current, additions } = await schemaState(pool);
  if (current > SCHEMA_VERSION) {
    throw new StoreError(
      `the PostgreSQL store at ${opts.where} has schema version ${current}, newer than this lanekeeper (${SCHEMA_VERSION}); upgrade lanekeeper`,
    );
  }
  if (current === SCHEMA_VERSION && additions) return;
  if (current === 0 && opts.mustExist) {
    throw new StoreError(`no lanekeeper store at ${opts.where} yet (has "lanekeeper run" used it?)`, 'missing');
  }
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // Per schema, so stores in different schemas of one database do not wait for each other.
    await client.query(
      `SELECT pg_advisory_xact_lock(hashtext('lanekeeper migrate ' || coalesce(current_schema(), '')))`,
    );
    await client.query('CREATE TABLE IF NOT EXISTS lanekeeper_schema (version integer NOT NULL)');
    // Read again under the lock: another process may have migrated meanwhile.
    const { version: v } = await schemaState(client);
    if (v > SCHEMA_VERSION)
      throw new StoreError(
        `the PostgreSQL store at ${opts.where} has schema version ${v}, newer than this lanekeeper (${SCHEMA_VERSION}); upgrade lanekeeper`,
      );
    for (let next = v; next < SCHEMA_VERSION; next++) await client.query(MIGRATIONS[next]!);
    for (const a of ADDITIONS) await client.query(a.sql);
    await client.query('DELETE FROM lanekeeper_schema');
    await client.query('INSERT INTO lanekeeper_schema (version) VALUES ($1)', [Math.max(v, SCHEMA_VERSION)]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
