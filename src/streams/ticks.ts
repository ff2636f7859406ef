// The tick schedule: a TICK at start (if configured) and then every interval plus a random jitter.
// Whoever wants to know when the next timer tick is due (the runtime, for `status`) passes
// `onScheduled`: it hears the planned time each time a timer is set, and null once the schedule is
// unsubscribed (a drain), when no further tick will come.
import { defer, EMPTY, finalize, of, repeat, timer, concat, map, type Observable } from 'rxjs';
import type { TickEvent } from '../machines/events.js';

export interface TickSchedule {
  intervalMs: number;
  jitterMs: number;
  tickOnStart: boolean;
}

export interface TickOptions {
  random?: () => number;
  /** The clock `onScheduled` times are read from (default: the host clock). */
  now?: () => number;
  /** Told the time of each planned timer tick as it is set, and null when the schedule stops. */
  onScheduled?: (at: number | null) => void;
}

export function ticks(schedule: TickSchedule, opts: TickOptions = {}): Observable<TickEvent> {
  const { random = Math.random, now = Date.now, onScheduled } = opts;
  const first: Observable<TickEvent> = schedule.tickOnStart ? of({ type: 'TICK', reason: 'start' }) : EMPTY;
  const periodic = defer(() => {
    const delay = schedule.intervalMs + Math.round(random() * schedule.jitterMs);
    onScheduled?.(now() + delay);
    return timer(delay);
  }).pipe(
    map((): TickEvent => ({ type: 'TICK', reason: 'timer' })),
    repeat(),
  );
  return onScheduled ? concat(first, periodic).pipe(finalize(() => onScheduled(null))) : concat(first, periodic);
}
