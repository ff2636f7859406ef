// The selector's memory of where sessions went, for the two rules that are not about reward:
//
// - Target shares, as a constraint: each lane with a target share keeps a deficit counter (the
//   virtual queue of TSCSF-B, Huang et al. 2020): every session started anywhere adds the lane's
//   share, a session of the lane itself takes one away, and it never goes below zero. The counter
//   enters the lane's score, so a lane that falls behind its share climbs until it is chosen,
//   and a lane at its share gets no bonus at all (a free bonus would skew the learning).
// - Plateau (the gptme/Bob plateau detector): a lane that took the last 3+ sessions in a row is
//   flagged `monotony`; an enabled lane under 5% of the last 7 days' sessions is flagged
//   `neglected`. The flags are surfaced in every decision. They move the score only when a
//   penalty or bonus is configured (default 0): a bandit that has found the best lane plays it
//   in streaks on purpose, and shares that must hold are target shares' job, so a built-in nudge
//   would only buy regret.
//
// Pure (history-index.ts keeps the history cheap to extend and count). Memory is bounded: the
// history keeps the window's session starts, at most HISTORY_MAX.

import { appendMark, windowCounts, type SessionMark } from './history-index.js';
import type { List } from './trail.js';

export type { SessionMark } from './history-index.js';

export interface Fairness {
  deficits: Record<string, number>;
  /** Session starts, oldest first. */
  history: List<SessionMark>;
  /** Consecutive noop sessions per lane (no-op backoff); absent in older stores. */
  noops?: Record<string, number>;
}

export interface FairnessSettings {
  /** lane → target share (lanes without one are absent). */
  targets: Readonly<Record<string, number>>;
  /** How much one unit of deficit adds to a score (η⁻¹ in TSCSF-B terms). */
  shareWeight: number;
  monotonyStreak: number;
  monotonyPenalty: number;
  neglectShare: number;
  neglectWindowMs: number;
  /** Below this many sessions in the window, shares say too little to call a lane neglected. */
  neglectMinSessions: number;
  neglectBonus: number;
}

/** Seven days at about 285 sessions a day; a busier fleet's shares cover its last 2,000 sessions. */
export const HISTORY_MAX = 2000;
/** A lane that has been blocked for a long time should not return with an unbounded lead. */
export const DEFICIT_CAP = 5;
/**
 * Deficit a lane may carry before it earns a bonus: one session. Without it the counter would hit
 * its floor of 0 after each of the lane's own sessions and the lane would win again after the very
 * next one elsewhere (a 0.3 share came out near 0.55). With it the counter hovers above the floor,
 * so over time the lane's share settles at its target, and above it only when it earns more.
 */
export const DEFICIT_SLACK = 1;

export const emptyFairness = (): Fairness => ({ deficits: {}, history: [] });

/** Records a session start of `lane` at `at` among the `enabled` lanes. */
export function noteStart(
  f: Fairness,
  lane: string,
  at: number,
  s: FairnessSettings,
  enabled: readonly string[],
): Fairness {
  const deficits = { ...f.deficits };
  for (const l of enabled) {
    const share = s.targets[l];
    if (share === undefined) continue;
    const d = (deficits[l] ?? 0) + share - (l === lane ? 1 : 0);
    deficits[l] = Math.min(DEFICIT_CAP, Math.max(0, Number(d.toFixed(9))));
  }
  return { ...f, deficits, history: appendMark(f.history, { lane, at }, at - s.neglectWindowMs, HISTORY_MAX) };
}

export interface FairnessComponents {
  /** shareWeight × the deficit beyond DEFICIT_SLACK (0 for lanes without a target share). */
  deficit: number;
  /** −penalty when the lane took the last `monotonyStreak`+ sessions, else 0. */
  monotony: number;
  /** +bonus when the lane is under `neglectShare` of the window's sessions, else 0. */
  neglect: number;
  /** The lane's share of the window's sessions (for the record). */
  share: number;
  streak: number;
  /** The plateau rules that fire for the lane: 'monotony', 'neglected'. */
  plateau: string[];
}

export function fairnessComponents(
  f: Fairness,
  lanes: readonly string[],
  now: number,
  s: FairnessSettings,
): Record<string, FairnessComponents> {
  // Counted from the history's index: this runs on every tick, the history holds up to HISTORY_MAX starts.
  const { counts, total: inWindow, last, streak } = windowCounts(f.history, now - s.neglectWindowMs);
  const out: Record<string, FairnessComponents> = {};
  for (const lane of lanes) {
    const share = inWindow ? (counts.get(lane) ?? 0) / inWindow : 0;
    const laneStreak = lane === last ? streak : 0;
    const monotonous = laneStreak >= s.monotonyStreak;
    const neglected = inWindow >= s.neglectMinSessions && share < s.neglectShare;
    out[lane] = {
      deficit: round(s.shareWeight * Math.max(0, (f.deficits[lane] ?? 0) - DEFICIT_SLACK)),
      monotony: monotonous ? -s.monotonyPenalty : 0,
      neglect: neglected ? s.neglectBonus : 0,
      share: round(share),
      streak: laneStreak,
      plateau: [...(monotonous ? ['monotony'] : []), ...(neglected ? ['neglected'] : [])],
    };
  }
  return out;
}

const round = (x: number) => Number(x.toFixed(6));
