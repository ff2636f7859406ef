// Waiting for SQLite's single write lock. SQLite's own busy handler sleeps 1, 2, 5, 10 … 100 ms
// between tries and is unfair under contention, so one writer can wait seconds while others get
// in again and again. The connection's busy timeout is 0 instead, and a busy write is retried
// here after short randomized sleeps (50 µs doubling up to 0.5 ms) until a 5 s deadline. Longer
// sleeps only lengthen the tail: the lock is never idle while others wait (bench/claims-contention).
// Still busy at the deadline, it gives up with a StoreBusyError: the caller is told to try again.
import type Database from 'better-sqlite3';
import { StoreBusyError } from '../../../errors.js';

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const DEADLINE_MS = 5000;

/**
 * Every busy variant: SQLITE_BUSY and its extended codes (_RECOVERY while another connection
 * rebuilds the WAL index, which opening the store meets when many processes come and go; _SNAPSHOT;
 * _TIMEOUT), and SQLITE_LOCKED with its own.
 */
function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/** Runs `fn`, retrying while the database is busy; `file` names it if it stays busy. */
export function retryBusy<T>(fn: () => T, file = 'the SQLite database'): T {
  let waitMs = 0.05;
  const start = performance.now();
  for (;;) {
    try {
      return fn();
    } catch (err) {
      if (!isBusy(err)) throw err;
      if (performance.now() - start > DEADLINE_MS)
        throw new StoreBusyError(file, DEADLINE_MS, (err as { code: string }).code);
      Atomics.wait(sleeper, 0, 0, waitMs * (0.5 + Math.random()));
      waitMs = Math.min(waitMs * 2, 0.5);
    }
  }
}

/** A BEGIN IMMEDIATE transaction around `fn`, retried while the database is busy. */
export function writer<A extends unknown[], R>(db: Database.Database, fn: (...args: A) => R): (...args: A) => R {
  const tx = db.transaction(fn);
  return (...args: A) => retryBusy(() => tx.immediate(...args), db.name);
}
