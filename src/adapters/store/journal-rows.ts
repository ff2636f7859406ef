// A journal row as both stores keep it (the event's own fields, the payload as JSON text) and the
// stamped event it holds.
import type { StampedEvent } from '../../machines/events.js';
import type { Checkpoint, JournalEntry } from '../../ports/store.js';

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

/** Journal rows joined with their effect rows (in order) and transition rows: what replay reads. */
export function entriesOf(
  rows: readonly JournalRow[],
  effectRows: readonly { seq: number; intent: string }[],
  transitionRows: readonly { seq: number; lanes: string }[],
): JournalEntry[] {
  const fx = new Map<number, string[]>();
  for (const r of effectRows) {
    const list = fx.get(r.seq);
    if (list) list.push(r.intent);
    else fx.set(r.seq, [r.intent]);
  }
  const taken = new Map(transitionRows.map((r) => [r.seq, r.lanes]));
  return rows.map((r): JournalEntry => {
    const lanes = taken.get(r.seq);
    return {
      event: eventOfRow(r),
      effects: fx.get(r.seq) ?? [],
      changed: lanes === undefined ? null : (JSON.parse(lanes) as Record<string, string>),
    };
  });
}

/** A checkpoint row as both stores keep it (the snapshot as JSON text). */
export function checkpointOfRow(
  row: { seq: number; version: string; snapshot: string } | undefined,
): Checkpoint | null {
  return row ? { seq: row.seq, version: row.version, state: JSON.parse(row.snapshot) as Checkpoint['state'] } : null;
}
