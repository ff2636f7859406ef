// Housekeeping as sources of the bus, merged with the timer and the wake-ups: late grades read
// every second, the claim sweep (with the WAL checkpoint, off the claims' hot path) on the live
// configuration's period, and journal retention (`journal.keep`) once an hour. Each job runs one at a time (`exhaustMap`): while a shared store
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
  timer,
  type Observable,
} from 'rxjs';
import type { Logger } from 'pino';
import type { Store } from '../ports/store.js';
import type { BusEvent } from '../machines/events.js';
import { plural } from '../format/event.js';
import { pruneJournal } from '../streams/retention.js';
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

/** The first prune a minute after the start (not in its way), then one an hour. */
const PRUNE_TIMES = { afterMs: 60_000, everyMs: 3_600_000 };

/**
 * Journal retention while the service runs, when `journal.keep` is set (a reload may set, change
 * or clear it). Never the one-time rewrite of a file made before retention: it would hold the
 * event loop for seconds; `lanekeeper journal prune` does that (the log says so when it is due).
 */
export function retention$(
  store: Store,
  log: Logger,
  live: LiveConfig,
  clock: () => number,
  times = PRUNE_TIMES,
): Observable<never> {
  return live.changes$.pipe(
    map((c) => c.journal),
    distinctUntilChanged((a, b) => a.keepMs === b.keepMs && a.archiveDir === b.archiveDir),
    switchMap((journal) =>
      journal.keepMs === null ? EMPTY : timer(times.afterMs, times.everyMs).pipe(map(() => journal)),
    ),
    exhaustMap((journal) =>
      round(
        () =>
          pruneJournal({
            store,
            keepMs: journal.keepMs!,
            archiveDir: journal.archiveDir,
            now: clock(),
            log,
            ...(store.shared ? { host: live.current.host } : {}),
            rewrite: false,
          }),
        log,
        'journal retention failed',
      ),
    ),
    ignoreElements(),
  );
}
