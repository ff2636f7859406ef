// One lanekeeper per state directory. `lanekeeper run` (every mode) holds an exclusive flock(2) on
// <state>/lanekeeper.lock for as long as it runs, through the same util-linux `flock` holder the
// lane lock files use (adapters/flock/hold.ts): the lock belongs to a child that exits when this
// process's pipe closes, so even a kill -9 leaves no stale lock behind. The holder writes its pid
// and start time into the file so that a second run can say who holds it. Readers (status, stats,
// the claim commands) never take this lock.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { holdFlock } from '../flock/hold.js';
import { pidAlive } from '../process/runner.js';
import { isoSeconds } from '../../format/time.js';
import { UsageError } from '../../errors.js';
import { LOCK_FILE } from './lock-file.js';

export { LOCK_FILE };

/** Another lanekeeper holds the state directory. A CLI misuse: the CLI prints it and exits 2. */
export class InstanceLockedError extends UsageError {
  override name = 'InstanceLockedError';
}

export interface InstanceLock {
  /** False when the run goes on without the lock (no `flock`): readers cannot tell it runs. */
  held: boolean;
  release(): Promise<void>;
}

interface Holder {
  pid: number;
  started_at: string;
}

/**
 * Takes the state directory's instance lock (the directory must exist). Throws InstanceLockedError
 * naming the holder when another lanekeeper has it. When the lock cannot be taken at all (no
 * `flock` command), `onUnavailable` is told why and the run goes on without it.
 */
export async function lockInstance(
  stateDir: string,
  onUnavailable: (reason: string) => void,
  now = Date.now(),
): Promise<InstanceLock> {
  const file = path.join(stateDir, LOCK_FILE);
  const hold = await holdFlock(file, 5000, { unref: true });
  if (!hold.ok) {
    if (hold.busy)
      throw new InstanceLockedError(
        `another lanekeeper (${await describeHolder(file)}) is running on ${stateDir}; stop it first`,
      );
    onUnavailable(`running without the one-instance lock on ${file}: ${hold.reason}`);
    return { held: false, release: async () => {} };
  }
  // Rewritten in place (same inode): the flock is on the file, not on its name.
  const holder: Holder = { pid: process.pid, started_at: isoSeconds(now) };
  writeFileSync(file, `${JSON.stringify(holder)}\n`);
  return { held: true, release: () => hold.release() };
}

/**
 * "pid 1234, started 2026-11-23T10:00:00Z". A holder that has just taken the lock may not have
 * written it yet (the file still names the previous, dead holder, or nothing): look again for a
 * moment before giving up on the pid.
 */
async function describeHolder(file: string): Promise<string> {
  for (let i = 0; i < 20; i++) {
    const h = readHolder(file);
    if (h && pidAlive(h.pid)) return `pid ${h.pid}, started ${h.started_at}`;
    await new Promise((r) => setTimeout(r, 50));
  }
  return 'pid unknown';
}

function readHolder(file: string): Holder | null {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as Partial<Holder>;
    return typeof h.pid === 'number' && typeof h.started_at === 'string'
      ? { pid: h.pid, started_at: h.started_at }
      : null;
  } catch {
    return null;
  }
}
