// No-op backoff (gptme-bob-scheduler §2.9): a lane whose sessions keep finding nothing to do is
// dispatched less often. After 3, 6 or 10 consecutive noop sessions, 50%, 75% or 87.5% of the
// lane's dispatches are skipped by a seeded draw; a productive session resets the count. Pure.
//
// What moves the count (`noteOutcome`):
//  - noop → +1; productive → 0.
//  - failed, timeout, refused, unknown → unchanged. None of them says whether the lane has work:
//    a failure or a timeout is about the agent or the arm (crash-loop and quota blocks handle
//    those), a refusal (exit 75) is contention (a lock or a slot was busy), and unknown is no
//    verdict at all. Counting them as noops would back a lane off for an arm's trouble; resetting
//    on them would let an intermittently failing agent hide a real noop streak.
import type { Outcome } from './outcome.js';
import { deriveSeed, rngFromSeed } from './prng.js';

/** Consecutive noops from which each skip rate applies, highest first. */
export const NOOP_BACKOFF: readonly { readonly after: number; readonly rate: number }[] = [
  { after: 10, rate: 0.875 },
  { after: 6, rate: 0.75 },
  { after: 3, rate: 0.5 },
];

/** The share of a lane's dispatches skipped after `consecutiveNoops` noop sessions in a row. */
export function noopSkipRate(consecutiveNoops: number): number {
  for (const step of NOOP_BACKOFF) if (consecutiveNoops >= step.after) return step.rate;
  return 0;
}

/** The lane's consecutive-noop count after a session with this outcome. */
export function noteOutcome(count: number, outcome: Outcome): number {
  if (outcome === 'noop') return count + 1;
  if (outcome === 'productive') return 0;
  return count;
}

/**
 * Whether this dispatch of `lane` is skipped. One seeded draw in [0,1), always taken (so the
 * decision can be journaled and replayed the same way at every rate); skipped when draw < rate.
 */
export function skipDispatch(count: number, seed: number, lane: string): { skip: boolean; rate: number; draw: number } {
  const rate = noopSkipRate(count);
  const draw = rngFromSeed(deriveSeed(seed, `noop:${lane}`))();
  return { skip: draw < rate, rate, draw };
}
