// Opens (and creates) the SQLite file in WAL mode with a busy timeout; every writer uses
// BEGIN IMMEDIATE so a read-then-write never fails at once with SQLITE_BUSY.
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { StateDirError } from '../../../errors.js';
import { retryBusy } from './busy.js';
import { migrate } from './migrations.js';

export const DB_FILE = 'lanekeeper.db';

export function openDatabase(stateDir: string, opts: { mustExist?: boolean } = {}): Database.Database {
  const file = path.join(stateDir, DB_FILE);
  if (opts.mustExist && !existsSync(file)) {
    throw new StateDirError(stateDir, `no lanekeeper database at ${file} (has "lanekeeper run" used this state directory?)`);
  }
  try {
    if (!opts.mustExist) mkdirSync(stateDir, { recursive: true });
    // Busy waits are handled by retryBusy (busy.ts), not by SQLite's sleeping busy handler.
    const db = new Database(file, { fileMustExist: !!opts.mustExist, timeout: 0 });
    retryBusy(() => db.pragma('journal_mode = WAL'));
    db.pragma('synchronous = NORMAL');
    migrate(db);
    return db;
  } catch (err) {
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
