// Waiting for SQLite's single write lock. SQLite's own busy handler sleeps 1, 2, 5, 10 … 100 ms
// between tries and is unfair under contention, so one writer can wait seconds while others get
// in again and again. The connection's busy timeout is 0 instead, and a busy write is retried
// here after short randomized sleeps (50 µs doubling up to 0.5 ms) until a 5 s deadline. Longer
// sleeps only lengthen the tail: the lock is never idle while others wait (bench/claims-contention).
import type Database from 'better-sqlite3';

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const DEADLINE_MS = 5000;

function isBusy(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
}

/** Runs `fn`, retrying while the database is busy. */
export function retryBusy<T>(fn: () => T): T {
  let waitMs = 0.05;
  const start = performance.now();
  for (;;) {
    try {
      return fn();
    } catch (err) {
      if (!isBusy(err) || performance.now() - start > DEADLINE_MS) throw err;
      Atomics.wait(sleeper, 0, 0, waitMs * (0.5 + Math.random()));
      waitMs = Math.min(waitMs * 2, 0.5);
    }
  }
}

/** A BEGIN IMMEDIATE transaction around `fn`, retried while the database is busy. */
export function writer<A extends unknown[], R>(db: Database.Database, fn: (...args: A) => R): (...args: A) => R {
  const tx = db.transaction(fn);
  return (...args: A) => retryBusy(() => tx.immediate(...args));
}
