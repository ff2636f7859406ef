// Whether anyone holds a flock(2) on a file, read from the kernel's table of file locks
// (/proc/locks) and never by taking the lock: a test that took it, even for a moment, could make
// the process that wants it at that moment (a `lanekeeper run` starting, a legacy `flock -n` loop)
// fail to get it.
import { readFileSync, statSync } from 'node:fs';

/** `held`: someone holds a flock on the file (false when there is no file); null when that cannot be told. */
export type FlockState = { held: boolean } | { held: null; reason: string };

export function flockHeld(file: string, locks = '/proc/locks'): FlockState {
  let dev: number;
  let ino: number;
  try {
    ({ dev, ino } = statSync(file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { held: false };
    return { held: null, reason: `cannot read ${file}: ${(err as Error).message}` };
  }
  let table: string;
  try {
    table = readFileSync(locks, 'utf8');
  } catch (err) {
    return { held: null, reason: `cannot read ${locks}: ${(err as Error).message}` };
  }
  // "1: FLOCK  ADVISORY  WRITE 4242 fd:01:123456 0 EOF": major and minor in hex, the inode in decimal.
  const id = `${hex(major(dev))}:${hex(minor(dev))}:${ino}`;
  return {
    held: table
      .split('\n')
      .some((line) => line.trim().split(/\s+/)[1] === 'FLOCK' && line.trim().split(/\s+/)[5] === id),
  };
}

// Linux's encoding of a device number (as glibc's major()/minor()).
const major = (dev: number) => Number(((BigInt(dev) >> 8n) & 0xfffn) | ((BigInt(dev) >> 32n) & ~0xfffn));
const minor = (dev: number) => Number((BigInt(dev) & 0xffn) | ((BigInt(dev) >> 12n) & ~0xffn));
const hex = (n: number) => n.toString(16).padStart(2, '0');
