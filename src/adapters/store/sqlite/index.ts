// The embedded store: one SQLite file in the state directory.
import { retryBusy } from './busy.js';
import { openDatabase } from './open.js';
import { sqliteClaims, type Clock } from './claims.js';
import { sqliteDecisions } from './decisions.js';
import { sqliteJournal } from './journal.js';
import { sqliteLateGrades } from './late-grades.js';
import { sqliteLearning } from './learning.js';
import { sqliteLanes } from './lanes.js';
import { sqliteRuntimeInfo } from './runtime-info.js';
import { sqliteSessions } from './sessions.js';
import type { Store } from '../../../ports/store.js';

export interface SqliteStoreOptions {
  /** The claims' clock; the host clock unless a test injects one. */
  clock?: Clock;
  /** For readers such as `status`: fail rather than create a new, empty store. */
  mustExist?: boolean;
}

export function openSqliteStore(stateDir: string, opts: SqliteStoreOptions = {}): Store {
  const db = openDatabase(stateDir, { mustExist: opts.mustExist });
  // Each port prepares its statements on first use: `lanekeeper claim` touches only claims.
  const lazy = <T>(make: () => T) => {
    let port: T | undefined;
    return () => (port ??= make());
  };
  const journal = lazy(() => sqliteJournal(db));
  const sessions = lazy(() => sqliteSessions(db));
  const lanes = lazy(() => sqliteLanes(db));
  const decisions = lazy(() => sqliteDecisions(db));
  const learning = lazy(() => sqliteLearning(db));
  const lateGrades = lazy(() => sqliteLateGrades(db));
  const claims = lazy(() => sqliteClaims(db, opts.clock ?? Date.now));
  const runtimeInfo = lazy(() => sqliteRuntimeInfo(db));
  return {
    location: db.name,
    shared: false,
    get journal() {
      return journal();
    },
    get sessions() {
      return sessions();
    },
    get lanes() {
      return lanes();
    },
    get decisions() {
      return decisions();
    },
    get learning() {
      return learning();
    },
    get lateGrades() {
      return lateGrades();
    },
    get claims() {
      return claims();
    },
    get runtimeInfo() {
      return runtimeInfo();
    },
    async checkpoint() {
      retryBusy(() => db.pragma('wal_checkpoint(PASSIVE)'));
    },
    async close() {
      if (db.open) db.close();
    },
  };
}
