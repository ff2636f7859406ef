// Housekeeping as sources of the bus, merged with the timer and the wake-ups: late grades read
// every second, and the claim sweep (with the WAL checkpoint, off the claims' hot path) on the
// live configuration's period. Each job runs one at a time (`exhaustMap`): while a shared store
// does not answer, a round is skipped rather than piled up. A failed round is logged and the next
// one runs; the sources end with the bus.
import {
  catchError,
  distinctUntilChanged,
  EMPTY,
  exhaustMap,
  from,
  ignoreElements,
  interval,
  map,
  mergeMap,
  switchMap,
  type Observable,
} from 'rxjs';
import type { Logger } from 'pino';
import type { Store } from '../ports/store.js';
import type { BusEvent } from '../machines/events.js';
import { plural } from '../format/event.js';
import { lateGradeEvents } from './late-grades.js';
import type { LiveConfig } from './live-config.js';

const LATE_GRADES_EVERY_MS = 1000;

/** One round of a job, its failure logged so the next round still runs. */
const round = <T>(work: () => Promise<T>, log: Logger, what: string): Observable<T> =>
  from(work()).pipe(
    catchError((err: unknown) => {
      log.error({ err }, what);
      return EMPTY;
    }),
  );

/** Late grades (`lanekeeper grade`) as SESSION_REGRADED events: a cheap read of a small table. */
export function lateGrades$(store: Store, log: Logger, inFlight: Set<number>): Observable<BusEvent> {
  return interval(LATE_GRADES_EVERY_MS).pipe(
    exhaustMap(() => round(() => lateGradeEvents(store, log, inFlight), log, 'could not read late grades')),
    mergeMap((events) => from(events)),
  );
}

/** Claims whose holders died (a crashed agent, a runtime killed earlier) free themselves; the WAL is checkpointed. */
export function sweeps$(store: Store, log: Logger, live: LiveConfig): Observable<never> {
  const sweep = async () => {
    const n = await store.claims.sweep();
    if (n) log.info(`released ${plural(n, 'expired claim')}`);
    await store.checkpoint();
  };
  return live.changes$.pipe(
    map((c) => c.claims.sweepEveryMs),
    distinctUntilChanged(),
    switchMap((ms) => interval(ms)),
    exhaustMap(() => round(sweep, log, 'claim sweep failed')),
    ignoreElements(),
  );
}
