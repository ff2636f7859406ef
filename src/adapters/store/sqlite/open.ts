// Opens (and creates) the SQLite file in WAL mode with a busy timeout; every writer uses
// BEGIN IMMEDIATE so a read-then-write never fails at once with SQLITE_BUSY.
import type BetterSqlite3 from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { StateDirError, StoreBusyError } from '../../../errors.js';
import { retryBusy } from './busy.js';
import { migrate } from './migrations.js';

export const DB_FILE = 'lanekeeper.db';

// Agents run `lanekeeper claim` often, so opening the store is kept cheap: better-sqlite3 is
// required (not imported, which would make Node lex its CommonJS for named exports), and its
// addon is loaded from its known place rather than searched for by the `bindings` package.
const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as typeof BetterSqlite3;
const ADDON = path.join(
  path.dirname(require.resolve('better-sqlite3/package.json')),
  'build',
  'Release',
  'better_sqlite3.node',
);
const nativeBinding = existsSync(ADDON) ? ADDON : undefined;

export function openDatabase(stateDir: string, opts: { mustExist?: boolean } = {}): BetterSqlite3.Database {
  const file = path.join(stateDir, DB_FILE);
  if (opts.mustExist && !existsSync(file)) {
    throw new StateDirError(
      stateDir,
      `no lanekeeper database at ${file} (has "lanekeeper run" used this state directory?)`,
    );
  }
  try {
    if (!opts.mustExist) mkdirSync(stateDir, { recursive: true });
    // Busy waits are handled by retryBusy (busy.ts), not by SQLite's sleeping busy handler.
    const db = new Database(file, { fileMustExist: !!opts.mustExist, timeout: 0, nativeBinding });
    // A new file gives freed pages back to the file system when asked (journal retention's
    // incremental vacuum). It must be said before anything is written, even the WAL mode; for a
    // file made before, it only tells a later VACUUM on this connection what to switch to.
    retryBusy(() => db.pragma('auto_vacuum = INCREMENTAL'), file);
    // Busy while another process recovers the WAL (SQLITE_BUSY_RECOVERY) or holds the whole file.
    retryBusy(() => db.pragma('journal_mode = WAL'), file);
    db.pragma('synchronous = NORMAL');
    // Checkpoints flush to disk inside whichever write triggers them; let the WAL grow larger
    // before that happens, and let the runtime checkpoint in the background (Store.checkpoint).
    db.pragma('wal_autocheckpoint = 4000');
    migrate(db);
    return db;
  } catch (err) {
    // Locked for longer than anyone waits: nothing is wrong with the directory; try again.
    if (err instanceof StoreBusyError) throw err;
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'EACCES' || e.code === 'SQLITE_CANTOPEN' || e.code === 'SQLITE_READONLY'
        ? `cannot open ${file} for writing (${e.code === 'EACCES' ? 'permission denied' : e.message})`
        : e.code === 'ENOTDIR' || e.code === 'EEXIST'
          ? 'a file is in the way where the directory should be'
          : e.message;
    throw new StateDirError(stateDir, why);
  }
}
