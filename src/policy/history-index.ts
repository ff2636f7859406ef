// The selector's history of session starts, kept cheap to extend and to count.
//
// The history is a list in the selector's context (it is checkpointed and journaled as JSON),
// never changed in place: each start makes a new one, a trail (trail.ts) that shares the array
// of the one before instead of copying it, or a plain array as read back. Both operations on it ran
// over the whole window (up to HISTORY_MAX marks) on every start and every tick, which made them
// the largest cost of a tick and of replaying a journal. So each history gets an index — the
// number of starts per lane, whether the starts are in time order, the streak at its end — and
// the index moves with the newest history: a start derives the next index from the last one in
// O(starts dropped), and a tick counts the window from it in O(starts that left the window).
// A history without an index (restored from a checkpoint, say) gets one built once. The results
// are exactly those of the plain filter and count; a history out of time order (a clock stepped
// back) takes the plain way.
//
// Pure as far as anyone can tell: the index is a cache keyed weakly by the history.

import { Trail, type List } from './trail.js';

export interface SessionMark {
  lane: string;
  at: number;
}

interface HistoryIndex {
  /** Starts per lane in the whole history. */
  counts: Map<string, number>;
  /** Every start at or after the one before it. */
  ordered: boolean;
  last: string | undefined;
  /** How many starts at the end are of `last`. */
  streak: number;
}

const indexes = new WeakMap<List<SessionMark>, HistoryIndex>();

function indexOf(history: List<SessionMark>): HistoryIndex {
  let index = indexes.get(history);
  if (index) return index;
  const counts = new Map<string, number>();
  let ordered = true;
  let before = -Infinity;
  for (const m of history) {
    counts.set(m.lane, (counts.get(m.lane) ?? 0) + 1);
    if (before > m.at) ordered = false;
    before = m.at;
  }
  const last = history.at(-1)?.lane;
  let streak = 0;
  for (let i = history.length - 1; i >= 0 && history.at(i)!.lane === last; i--) streak++;
  index = { counts, ordered, last, streak };
  indexes.set(history, index);
  return index;
}

/**
 * `history` without the starts before `cutoff`, with `mark` appended, at most `max` long: the same
 * as `[...history.filter((m) => m.at >= cutoff), mark].slice(-max)`.
 */
export function appendMark(
  history: List<SessionMark>,
  mark: SessionMark,
  cutoff: number,
  max: number,
): Trail<SessionMark> {
  const index = indexOf(history);
  if (!index.ordered) return Trail.of([...[...history].filter((m) => m.at >= cutoff), mark].slice(-max));
  // In time order, the starts before the cutoff are a prefix, and so are those beyond `max`.
  const from = Math.max(firstAtOrAfter(history, cutoff), history.length + 1 - max);
  const next = Trail.of(history).append(mark, from);
  // The index moves to the new history (the old one builds a fresh index if it is ever asked).
  indexes.delete(history);
  const { counts } = index;
  for (let i = 0; i < from; i++) {
    const lane = history.at(i)!.lane;
    counts.set(lane, counts.get(lane)! - 1);
  }
  counts.set(mark.lane, (counts.get(mark.lane) ?? 0) + 1);
  const streak = mark.lane === index.last ? Math.min(index.streak, history.length - from) + 1 : 1;
  indexes.set(next, {
    counts,
    ordered: history.length === from || history.at(-1)!.at <= mark.at,
    last: mark.lane,
    streak,
  });
  return next;
}

/** Starts per lane at or after `cutoff`, their total, the lane of the last start and its streak. */
export function windowCounts(
  history: List<SessionMark>,
  cutoff: number,
): { counts: Map<string, number>; total: number; last: string | undefined; streak: number } {
  const index = indexOf(history);
  const counts = new Map<string, number>();
  let total = 0;
  if (index.ordered) {
    for (const [lane, n] of index.counts) counts.set(lane, n);
    total = history.length;
    // The starts that have left the window since are a prefix.
    for (let i = 0; i < history.length && history.at(i)!.at < cutoff; i++) {
      const lane = history.at(i)!.lane;
      counts.set(lane, counts.get(lane)! - 1);
      total--;
    }
  } else {
    for (const m of history) {
      if (m.at < cutoff) continue;
      total++;
      counts.set(m.lane, (counts.get(m.lane) ?? 0) + 1);
    }
  }
  return { counts, total, last: index.last, streak: index.streak };
}

/** The index of the first start at or after `t` in a history in time order. */
function firstAtOrAfter(history: List<SessionMark>, t: number): number {
  let lo = 0;
  let hi = history.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (history.at(mid)!.at < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
