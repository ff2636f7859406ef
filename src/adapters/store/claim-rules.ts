// The claim rules every store applies, apart from its SQL: given a key's rows, what an acquire
// does. The SQLite store uses it twice, on a plain read (to deny without the write lock) and
// inside its transaction (to decide for real); the PostgreSQL store on the rows its one-slot
// statement read, to tell a denial from a row that changed meanwhile. And when a claim ended by
// expiry, which the PostgreSQL store's statements spell out in SQL (claims-sql.ts, LAPSED).
import type { AcquireResult, ClaimRow } from '../../ports/store.js';

/** What the rules read of a claim row. */
export type RuleRow = Pick<ClaimRow, 'slot' | 'holder' | 'state' | 'expires_at'>;

export type AcquireDecision<R extends RuleRow = ClaimRow> =
  /** The holder already holds a live slot: extend it, same token. */
  | { kind: 'extend'; row: R }
  /** A free slot (absent, released or expired): grant it with a new token. */
  | { kind: 'grant'; slot: number; previous: R | undefined }
  | { kind: 'deny'; result: Extract<AcquireResult, { granted: false }> };

export function decideAcquire<R extends RuleRow>(
  key: string,
  rows: readonly R[],
  holder: string,
  slots: number,
  now: number,
): AcquireDecision<R> {
  const live = rows.filter((r) => r.state === 'claimed' && r.expires_at >= now);
  const mine = live.find((r) => r.holder === holder);
  if (mine) return { kind: 'extend', row: mine };
  const completed = rows.find((r) => r.state === 'completed');
  if (completed)
    return {
      kind: 'deny',
      result: { granted: false, key, holder: completed.holder, expiresAt: null, state: 'completed' },
    };
  if (live.length < slots) {
    const taken = new Set(live.map((r) => r.slot));
    let slot = 0;
    while (taken.has(slot)) slot++;
    return { kind: 'grant', slot, previous: rows.find((r) => r.slot === slot) };
  }
  const soonest = live.reduce((a, b) => (b.expires_at < a.expires_at ? b : a));
  return {
    kind: 'deny',
    result: { granted: false, key, holder: soonest.holder, expiresAt: soonest.expires_at, state: 'claimed' },
  };
}

/**
 * Whether a claim's lease ran out, whether or not the sweeper has been by: still `claimed` past its
 * expiry, or `released` by an expiry (the sweeper, a holder's renewal or a fenced call settling it).
 * A row's renewed_at is when it last changed, and a claim is only released or completed while it
 * is live, so a released row changed after its expiry is one that expired. Expiry decides what a
 * renew, release or complete with this claim's token does, not when the sweeper ran.
 */
export function lapsed(row: Pick<ClaimRow, 'state' | 'renewed_at' | 'expires_at' | 'result'>, now: number): boolean {
  return (
    (row.state === 'claimed' && row.expires_at < now) ||
    // Swept: marked after its expiry; or by an older lanekeeper, which left only its result.
    (row.state === 'released' && (row.renewed_at > row.expires_at || row.result === 'expired'))
  );
}

/**
 * Lock records are appended in time order, give or take this much: each one's time is read inside
 * the write that orders it, so only a step of the clock (or, on PostgreSQL, transactions committing
 * in another order than they took their ids) puts one out of order. The records of a window are
 * those after the last record older than the window by this much, found by reading back from the
 * newest: there is no index on their time, which would cost every claim one more page written.
 */
export const LOCK_RECORD_SKEW_MS = 3_600_000;
