// The instance lock's file name, apart from the code that takes the lock (lock.ts), so that the
// readers who only ask whether it is held (held.ts: status, stats) do not load that code and
// the process runner under it.
export const LOCK_FILE = 'lanekeeper.lock';
