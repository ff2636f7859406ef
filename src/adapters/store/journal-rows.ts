// A journal row as both stores keep it (the event's own fields, the payload as JSON text) and the
// stamped event it holds.
import type { StampedEvent } from '../../machines/events.js';

export interface JournalRow {
  seq: number;
  at: number;
  type: string;
  seed: number | null;
  payload: string;
}

export function eventOfRow(r: JournalRow): StampedEvent {
  const payload = JSON.parse(r.payload) as object;
  return {
    ...payload,
    type: r.type,
    seq: r.seq,
    now: r.at,
    ...(r.seed === null ? {} : { seed: r.seed }),
  } as StampedEvent;
}
