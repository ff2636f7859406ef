// Deadline wake-ups: the shell tells this stream the earliest deadline any lane waits for, and it
// emits one WAKE when that moment comes. A new deadline replaces the old one; setting the same
// deadline again re-arms it (a WAKE that came a millisecond early must not strand a lane).
import { EMPTY, map, Subject, switchMap, timer, type Observable } from 'rxjs';
import type { WakeEvent } from '../machines/events.js';

export interface Wakeups {
  readonly events$: Observable<WakeEvent>;
  /** The earliest deadline (ms since the epoch), or null for none. */
  setDeadline(deadline: number | null): void;
  close(): void;
}

export function wakeups(clock: () => number = Date.now): Wakeups {
  const deadlines = new Subject<number | null>();
  const events$ = deadlines.pipe(
    switchMap((d) => (d === null ? EMPTY : timer(Math.max(0, d - clock() + 1)))),
    map((): WakeEvent => ({ type: 'WAKE' })),
  );
  return {
    events$,
    setDeadline: (d) => deadlines.next(d),
    close: () => deadlines.complete(),
  };
}
