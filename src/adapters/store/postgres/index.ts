// The shared store: the same ports as the SQLite store, on a PostgreSQL database that several
// lanekeeper hosts (and their agents' `lanekeeper claim`) can use at once. Opening connects once
// (an unreachable server is a StoreError naming host and port) and brings the schema up to date.
import os from 'node:os';
import { StoreError } from '../../../errors.js';
import type { Store } from '../../../ports/store.js';
import { postgresClaims } from './claims.js';
import { database } from './db.js';
import { postgresDecisions } from './decisions.js';
import { postgresJournal } from './journal.js';
import { postgresLanes } from './lanes.js';
import { postgresLateGrades } from './late-grades.js';
import { postgresLearning } from './learning.js';
import { migrate } from './migrations.js';
import { describeUrl, openPool, redactUrl, type PoolOptions } from './open.js';
import { postgresRuntimeInfo } from './runtime-info.js';
import { postgresSessions } from './sessions.js';
import { hostHeld } from './host-held.js';
import { lockHost } from './host-lock.js';

export interface PostgresStoreOptions extends PoolOptions {
  /** For readers such as `status`: fail rather than set up lanekeeper's tables in an empty database. */
  mustExist?: boolean;
  /**
   * The host this store reads and writes for: its journal, lane rows, runtime info and open
   * sessions (several hosts share one database); the machine's host name by default.
   */
  host?: string;
  /** Told when the database stops answering and when it answers again (statements wait meanwhile). */
  onAvailability?: (up: boolean, detail: string) => void;
}

export async function openPostgresStore(url: string, opts: PostgresStoreOptions = {}): Promise<Store> {
  const where = describeUrl(url).where;
  const host = opts.host ?? os.hostname();
  // Each connection says whose it is in pg_stat_activity (`lanekeeper:<host>`), so an operator
  // can tell the hosts' connections apart, and end one host's without touching the others.
  const pool = await openPool(url, { ...opts, applicationName: opts.applicationName ?? `lanekeeper:${host}` });
  try {
    await migrate(pool, { mustExist: opts.mustExist, where: opts.schema ? `${where} (schema ${opts.schema})` : where });
  } catch (err) {
    await pool.end().catch(() => {});
    // A server error while setting up (no right to create tables, no such schema): the user's to fix.
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code))
      throw new StoreError(
        `cannot set up lanekeeper's tables in the PostgreSQL store at ${where}: ${(err as Error).message}`,
      );
    throw err;
  }
  const db = database(pool, { onAvailability: opts.onAvailability });
  let closed = false;
  return {
    location: redactUrl(url, opts.schema),
    shared: true,
    journal: postgresJournal(db, host),
    sessions: postgresSessions(db, host),
    lanes: postgresLanes(db, host),
    decisions: postgresDecisions(db, host),
    learning: postgresLearning(db),
    lateGrades: postgresLateGrades(db, host),
    claims: postgresClaims(db),
    runtimeInfo: postgresRuntimeInfo(db, host),
    lockHost: (o) => lockHost(pool, host, o),
    hostRunning: (h) => hostHeld(db, h ?? host),
    // Nothing to do off the hot path: autovacuum keeps the tables.
    async checkpoint() {},
    async close() {
      if (closed) return;
      closed = true;
      db.close();
      await pool.end();
    },
  };
}
