// Late grades (`lanekeeper grade`) from the store to the bus.
import type { Logger } from 'pino';
import type { Store } from '../ports/store.js';
import type { BusEvent } from '../machines/events.js';

/**
 * Pending late grades as events, skipping those already on their way (`inFlight`). Each is marked
 * applied when its event has been journaled and handled, so a crash in between only means it is
 * learned again at the next start, which replaces it with itself. A grade for a session this store
 * does not know is dropped with a warning (nothing could learn it).
 */
export async function lateGradeEvents(store: Store, log: Logger, inFlight: Set<number>): Promise<BusEvent[]> {
  const events: BusEvent[] = [];
  for (const row of await store.lateGrades.pending()) {
    if (inFlight.has(row.id)) continue;
    const s = await store.sessions.get(row.session);
    if (!s) {
      log.warn(`late grade for unknown session ${row.session} dropped`);
      await store.lateGrades.applied(row.id);
      continue;
    }
    inFlight.add(row.id);
    events.push({
      type: 'SESSION_REGRADED',
      laneId: s.lane_id,
      sessionId: s.id,
      grade: row.grade,
      dimensions: row.dimensions,
      arm: s.arm,
      lateGradeId: row.id,
    });
  }
  return events;
}
