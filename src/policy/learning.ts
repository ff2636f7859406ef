// What the selector has learned: one posterior per lane (or per arm), with the forgetting of
// posterior.ts applied the same way by the live selector and by `lanekeeper simulate`, so the
// figures the simulator reports are the figures of the code that runs.
//
// Time is the learning clock: the number of graded sessions seen, all lanes together. Each belief
// remembers the clock it was last graded at (`since`); everything that depends on how long a lane
// was left alone is computed from `clock − since` when the belief is used, so an update costs
// O(1) lanes, not O(lanes):
//  - the idle decay (`idleDecay`^(clock − since)) is owed by the belief and applied when it is
//    next graded, and on the fly when it is drawn or summarised;
//  - the loosening of a stale lane (posterior.ts) applies to draws only: it makes a lane left alone
//    for about `staleAfter` sessions likely to be tried, and is dropped once the lane is graded;
//  - the change detector's statistics (`up`, `down`) move only when the lane is graded. A stale
//    lane's first grade starts `up` at `staleStart`; an alarm cuts the lane's evidence to `keep`
//    sessions; a suspect lane (`up` above `suspectAt`, not yet alarming) is drawn with at most
//    `keep` sessions of evidence, so it is graded again soon and the suspicion settled.
// Draws take no extra randomness for any of this, so the same state and seed give the same draw.
// Everything here is plain JSON, so it can be journaled, checkpointed and stored. Beliefs and
// settings written before staleness and the detector existed read as "no detector state" and
// "off", and replay exactly as they did.
import {
  DEFAULT_FORGETTING,
  decay,
  detectChange,
  emptyPosterior,
  isStale,
  loosening,
  mean,
  observe,
  sample,
  weight,
  type Forgetting,
  type Model,
  type Posterior,
  unobserve,
} from './posterior.js';
import type { Rng } from './prng.js';

export interface Belief {
  posterior: Posterior;
  /** The learning clock this belief was last brought up to date at (its last grade). */
  since: number;
  /** Upward CUSUM statistic of the change detector (absent = 0). */
  up?: number;
  /** Downward CUSUM statistic of the change detector (absent = 0). */
  down?: number;
}

export interface Learning {
  model: Model;
  forgetting: Forgetting;
  /** Graded sessions seen so far (all lanes): the clock of the idle decay and of staleness. */
  clock: number;
  beliefs: Record<string, Belief>;
}

export function emptyLearning(model: Model = 'npts', forgetting: Forgetting = DEFAULT_FORGETTING): Learning {
  return { model, forgetting, clock: 0, beliefs: {} };
}

/** The idle-decay factor a belief is owed since it was last updated. */
function owed(l: Learning, b: Belief): number {
  return Math.pow(l.forgetting.idleDecay, l.clock - b.since);
}

function beliefOf(l: Learning, key: string): Belief {
  return l.beliefs[key] ?? { posterior: emptyPosterior(l.model), since: l.clock };
}

/** The belief after one more grade, at clock `l.clock + 1`. */
function graded(l: Learning, b: Belief, grade: number): Belief {
  const f = l.forgetting;
  const clock = l.clock + 1;
  let posterior = decay(b.posterior, Math.pow(f.idleDecay, clock - b.since));
  let up = 0;
  let down = 0;
  if (f.detector) {
    const lead = isStale(l.clock - b.since, f.staleAfter) ? f.detector.staleStart : 0;
    const d = detectChange(posterior, { up: b.up ?? 0, down: b.down ?? 0 }, grade, lead, f.detector);
    ({ up, down } = d.change);
    const w = weight(posterior);
    if (d.alarm && w > f.detector.keep) posterior = decay(posterior, f.detector.keep / w);
  }
  return { posterior: observe(posterior, grade, f.pullDecay), since: clock, up, down };
}

/** Records one grade for `key`. Returns a new Learning; the input is not changed. */
export function learn(l: Learning, key: string, grade: number): Learning {
  const belief = graded(l, beliefOf(l, key), grade);
  return { ...l, clock: l.clock + 1, beliefs: { ...l.beliefs, [key]: belief } };
}

/**
 * Replaces a grade learned earlier for `key` with another: the old one is taken out, the new one
 * learned. The clock moves once (for the new grade), so one session never counts twice.
 */
export function relearn(l: Learning, key: string, previous: number, grade: number): Learning {
  const b = l.beliefs[key];
  if (!b) return learn(l, key, grade);
  const taken = { ...l, beliefs: { ...l.beliefs, [key]: { ...b, posterior: unobserve(b.posterior, previous) } } };
  return learn(taken, key, grade);
}

/** In-place variant for the simulator's hot loop (same result as `learn`). */
export function learnInPlace(l: Learning, key: string, grade: number): void {
  l.beliefs[key] = graded(l, beliefOf(l, key), grade);
  l.clock += 1;
}

/**
 * How much of a belief's evidence a draw uses now: the idle decay it is owed, times its loosening
 * when stale, capped at `keep` sessions' worth while the detector suspects a change.
 */
export function drawScale(l: Learning, key: string): number {
  const b = l.beliefs[key];
  return b ? scaleOf(l, b) : 1;
}

function scaleOf(l: Learning, b: Belief): number {
  const f = l.forgetting;
  const idle = l.clock - b.since;
  let scale = owed(l, b) * loosening(idle, f.staleAfter);
  if (f.detector && (b.up ?? 0) > f.detector.suspectAt) {
    const w = weight(b.posterior);
    if (w > f.detector.keep) scale = Math.min(scale, f.detector.keep / w);
  }
  return scale;
}

/** One Thompson sample of `key`'s mean grade. */
export function draw(l: Learning, key: string, rng: Rng): number {
  const b = l.beliefs[key];
  return b ? sample(b.posterior, rng, scaleOf(l, b)) : sample(emptyPosterior(l.model), rng);
}

/** Posterior mean and evidence weight of `key`, as of now (idle decay applied; the loosening of draws is not). */
export function summary(l: Learning, key: string): { mean: number; weight: number } {
  const b = beliefOf(l, key);
  const p = decay(b.posterior, owed(l, b));
  return { mean: mean(p), weight: weight(p) };
}
