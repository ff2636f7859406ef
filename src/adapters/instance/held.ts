// Whether a lanekeeper runs on a state directory, for readers (`status`, `stats`): the kernel's
// table of file locks (/proc/locks) is asked whether anyone holds the instance lock's flock. It is
// only read: taking the lock to test it, even for a moment, could make a `lanekeeper run` starting
// at that moment refuse to run.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { LOCK_FILE } from './lock.js';

/** `running`: someone holds the lock; null when that cannot be told (the reason says why). */
export type InstanceState = { running: boolean } | { running: null; reason: string };

export function instanceState(stateDir: string, locks = '/proc/locks'): InstanceState {
  const file = path.join(stateDir, LOCK_FILE);
  let dev: number;
  let ino: number;
  try {
    ({ dev, ino } = statSync(file));
  } catch (err) {
    // No lock file: no run ever held this directory.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { running: false };
    return { running: null, reason: `cannot read ${file}: ${(err as Error).message}` };
  }
  let table: string;
  try {
    table = readFileSync(locks, 'utf8');
  } catch (err) {
    return { running: null, reason: `cannot read ${locks}: ${(err as Error).message}` };
  }
  // "1: FLOCK  ADVISORY  WRITE 4242 fd:01:123456 0 EOF": major and minor in hex, the inode in decimal.
  const id = `${hex(major(dev))}:${hex(minor(dev))}:${ino}`;
  const held = table.split('\n').some((line) => {
    const f = line.trim().split(/\s+/);
    return f[1] === 'FLOCK' && f[5] === id;
  });
  return { running: held };
}

// Linux's encoding of a device number (as glibc's major()/minor()).
const major = (dev: number) => Number(((BigInt(dev) >> 8n) & 0xfffn) | ((BigInt(dev) >> 32n) & ~0xfffn));
const minor = (dev: number) => Number((BigInt(dev) & 0xffn) | ((BigInt(dev) >> 12n) & ~0xffn));
const hex = (n: number) => n.toString(16).padStart(2, '0');
