// The tick schedule: a TICK at start (if configured) and then every interval plus a random jitter.
import { defer, EMPTY, of, repeat, timer, concat, map, type Observable } from 'rxjs';
import type { TickEvent } from '../machines/events.js';

export interface TickSchedule {
  intervalMs: number;
  jitterMs: number;
  tickOnStart: boolean;
}

export function ticks(schedule: TickSchedule, random: () => number = Math.random): Observable<TickEvent> {
  const first: Observable<TickEvent> = schedule.tickOnStart ? of({ type: 'TICK', reason: 'start' }) : EMPTY;
  const periodic = defer(() => timer(schedule.intervalMs + Math.round(random() * schedule.jitterMs))).pipe(
    map((): TickEvent => ({ type: 'TICK', reason: 'timer' })),
    repeat(),
  );
  return concat(first, periodic);
}
