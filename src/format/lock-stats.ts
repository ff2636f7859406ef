// Lock telemetry computed from the store's own records, in the order the store wrote them (its
// single writer orders them exactly; no clock is trusted to order two processes' events).
//   a hold begins at 'acquired' and ends at the first 'released', 'completed' or 'expired' of its
//   token; `same_lock_violations` counts grants made while the key already had `slots` open holds.
// It must always be 0 — and it can find one: see test/policy/lock-stats.test.ts.
import type { LockRecord } from '../ports/store.js';

export interface LockStats {
  /** Most lane slots held at once: sessions running side by side. */
  peak_concurrency: number;
  total_acquisitions: number;
  same_lock_violations: number;
  /** The first few violations, for a human to look at. */
  violations: { key: string; holder: string; epoch: number | null; at: number; open: string[] }[];
}

const ENDS = new Set(['released', 'completed', 'expired']);

/**
 * `records` in store order. Those before `windowStart` only establish which holds were open when
 * the window began (a hold can outlive the window's start); counting starts at `windowStart`.
 */
export function lockStats(records: readonly LockRecord[], windowStart = -Infinity): LockStats {
  const open = new Map<string, Map<number, string>>(); // key → epoch → holder
  let laneHeld = 0;
  let peak = 0;
  let acquisitions = 0;
  const violations: LockStats['violations'] = [];
  let violationCount = 0;
  for (const r of records) {
    const counting = r.at >= windowStart;
    if (counting) peak = Math.max(peak, laneHeld);
    const holds = open.get(r.key) ?? new Map<number, string>();
    open.set(r.key, holds);
    if (r.event === 'acquired' && r.epoch !== null) {
      if (counting) acquisitions++;
      if (counting && holds.size >= (r.slots ?? 1)) {
        violationCount++;
        if (violations.length < 10)
          violations.push({ key: r.key, holder: r.holder, epoch: r.epoch, at: r.at, open: [...holds.values()] });
      }
      if (!holds.has(r.epoch)) {
        holds.set(r.epoch, r.holder);
        if (r.key.startsWith('lane:')) laneHeld++;
      }
    } else if (ENDS.has(r.event) && r.epoch !== null && holds.delete(r.epoch)) {
      if (r.key.startsWith('lane:')) laneHeld--;
    }
  }
  if (records.length && records[records.length - 1]!.at >= windowStart) peak = Math.max(peak, laneHeld);
  return { peak_concurrency: peak, total_acquisitions: acquisitions, same_lock_violations: violationCount, violations };
}
