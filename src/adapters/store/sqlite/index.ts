// The embedded store: one SQLite file in the state directory.
import { openDatabase } from './open.js';
import { sqliteClaims, type Clock } from './claims.js';
import { sqliteDecisions } from './decisions.js';
import { sqliteJournal } from './journal.js';
import { sqliteLanes } from './lanes.js';
import { sqliteSessions } from './sessions.js';
import type { Store } from '../ports.js';

export interface SqliteStoreOptions {
  /** The claims' clock; the host clock unless a test injects one. */
  clock?: Clock;
  /** For readers such as `status`: fail rather than create a new, empty store. */
  mustExist?: boolean;
}

export function openSqliteStore(stateDir: string, opts: SqliteStoreOptions = {}): Store {
  const db = openDatabase(stateDir, { mustExist: opts.mustExist });
  return {
    location: db.name,
    journal: sqliteJournal(db),
    sessions: sqliteSessions(db),
    lanes: sqliteLanes(db),
    decisions: sqliteDecisions(db),
    claims: sqliteClaims(db, opts.clock ?? Date.now),
    async close() {
      if (db.open) db.close();
    },
  };
}
