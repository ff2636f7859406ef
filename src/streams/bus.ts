// The event bus: one RxJS stream that merges every source (timer ticks, deadline wake-ups, control
// events and what the adapters report), stamps each event (seq, now, and a seed where a decision
// needs randomness) and appends it to the journal before anyone downstream sees it.
import { concatMap, map, merge, Subject, takeUntil, type Observable } from 'rxjs';
import type { JournalPort } from '../ports/store.js';
import { SEEDED_EVENTS, type BusEvent, type StampedEvent } from '../machines/events.js';

export interface BusOptions {
  journal: JournalPort;
  /** The last seq already in the journal; the next event gets lastSeq + 1. */
  lastSeq: number;
  clock: () => number;
  /** Draws a 32-bit seed for events that carry one. */
  seed: () => number;
  sources?: Observable<BusEvent>[];
  /** Emits once to end the bus: later pushes are dropped; events already in flight are journaled. */
  until: Observable<unknown>;
}

export interface Bus {
  /** Stamped, journaled events, in seq order. Subscribe once. */
  readonly events$: Observable<StampedEvent>;
  /** Adapters and control code report here. */
  push(event: BusEvent): void;
}

export function createBus(opts: BusOptions): Bus {
  const pushed$ = new Subject<BusEvent>();
  let seq = opts.lastSeq;
  const events$ = merge(pushed$, ...(opts.sources ?? [])).pipe(
    takeUntil(opts.until),
    map(
      (event): StampedEvent =>
        ({
          ...event,
          seq: ++seq,
          now: opts.clock(),
          ...(SEEDED_EVENTS.has(event.type) ? { seed: opts.seed() } : {}),
        }) as StampedEvent,
    ),
    concatMap(async (event) => {
      await opts.journal.append(event);
      return event;
    }),
  );
  return {
    events$,
    push: (event) => pushed$.next(event),
  };
}
