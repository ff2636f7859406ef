// Whether a lanekeeper runs on a state directory, for readers (`status`, `stats`, the view):
// whether anyone holds the instance lock's flock, as the kernel's lock table says (never by
// taking it: a `lanekeeper run` starting at that moment would be refused).
import path from 'node:path';
import { flockHeld } from '../flock/held.js';
import { LOCK_FILE } from './lock-file.js';

/** `running`: someone holds the lock; null when that cannot be told (the reason says why). */
export type InstanceState = { running: boolean } | { running: null; reason: string };

export function instanceState(stateDir: string): InstanceState {
  const s = flockHeld(path.join(stateDir, LOCK_FILE));
  return s.held === null ? { running: null, reason: s.reason } : { running: s.held };
}
