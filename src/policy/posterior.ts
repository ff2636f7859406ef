// What lanekeeper believes about a lane (or an arm) from its graded sessions, how it draws a
// Thompson sample from that belief, and how it notices that a lane has changed. Pure and seeded.
//
// Reward model. Grades are numbers in [0,1], not successes, so the default model uses their
// spread: non-parametric Thompson sampling (NPTS, Riou & Honda, ALT 2020) on a grade grid. Each
// grade is split between its two neighbouring grid points (0, 0.1, …, 1) in proportion, which keeps
// its mean and bounds memory to 11 numbers per lane. A sample is a Dirichlet-weighted mean of the
// grid, with one extra pseudo-observation at 1 so that little evidence means optimism, not neglect.
// The fractional Beta model (α += g, β += 1 − g) is kept as an alternative and a baseline. A finer
// grid does not pay: with 21 or 41 points stationary regret moved by under 2% (the split adds at
// most h²/4 to a grade's variance, a few per cent of the spread of real grades).
//
// Forgetting. A constant discount is the wrong tool: the old default (0.98 per pull, 0.999 per
// update) cost 3.6× the regret of no forgetting when nothing changed, because it caps the evidence
// of every lane, and it still took ~226 decisions to notice a neglected lane that got better.
// Forgetting is now driven by evidence that a lane changed. Four parts, each configurable, each off
// when absent (so states journaled before they existed replay as before):
//  - `pullDecay`: per-pull discount of the lane being graded. Kept, default 1 (none): with the
//    detector it bought nothing measurable and 0.999 cost ~1.5% when nothing changes.
//  - `idleDecay`: slow all-lanes discount per graded session anywhere. Kept, default 1 (none):
//    0.9999 cost ~7% when nothing changes, for nothing the staleness below does not do better.
//  - `staleAfter`: a lane left alone loosens. From about `staleAfter` graded sessions elsewhere its
//    evidence is scaled down steeply *for drawing only* (`loosening`), so each neglected lane is
//    tried again about once per period whatever its mean; a grade that agrees with what was known
//    loses nothing. This is the only way to see that a neglected lane got better, and its price is
//    one pull of each neglected lane per period, linear in time (the stationary ratio to no
//    forgetting grows from 1.5× at 3,000 sessions to 2.4× at 10,000).
//  - `detector`: a two-sided CUSUM (Page 1954) on each graded lane, in units of the lane's own
//    grade spread; on an alarm the lane's evidence is cut to `keep` sessions, so a favourite that
//    got worse is relearned from its new grades within a few of them. The first grade after a lane
//    went stale starts the upward statistic at `staleStart`: a clearly better grade (1.5 spreads
//    above the old mean) makes the lane suspect, drawn loosely until its next grade, and a second
//    one confirms. This two-step test is what lets the period be long: one grade alone is too noisy
//    (a one-grade test either misses a real change or relearns healthy lanes too often).
//    State: two numbers per lane.
// Tuned with `lanekeeper simulate` (bench/simulate.mjs; figures in bench/results/selector.md).
import { gamma } from './random.js';
import type { Rng } from './prng.js';

export const GRID = Array.from({ length: 11 }, (_, i) => i / 10);

export type Posterior = { model: 'npts'; counts: number[] } | { model: 'beta'; alpha: number; beta: number };
export type Model = Posterior['model'];

/** The change detector's settings; statistics are in units of the lane's grade spread. */
export interface Detector {
  /** Allowance per grade (CUSUM k): drift smaller than this is not accumulated. */
  slack: number;
  /** Alarm when either statistic exceeds this (CUSUM h). */
  threshold: number;
  /** Where the upward statistic starts for the first grade after the lane went stale. */
  staleStart: number;
  /** Above this, the upward statistic marks the lane suspect: drawn loosely until graded again. */
  suspectAt: number;
  /** On an alarm the lane's evidence is cut to this many sessions' worth. */
  keep: number;
  /** The detector watches a lane only once it has this much evidence. */
  minWeight: number;
}

export interface Forgetting {
  /** Multiplies a lane's evidence each time it is graded; 1 = never forget. */
  pullDecay: number;
  /** Multiplies every lane's evidence on every update anywhere; 1 = never forget. */
  idleDecay: number;
  /** Graded sessions elsewhere after which a lane is drawn loosened (tried again); absent or null = never. */
  staleAfter?: number | null;
  /** Change detector on each graded lane; absent or null = none. */
  detector?: Detector | null;
}

export const DEFAULT_DETECTOR: Detector = {
  slack: 0.5,
  threshold: 8,
  staleStart: 5,
  suspectAt: 6,
  keep: 1,
  minWeight: 5,
};

/** The tuned defaults (bench/results/selector.md). */
export const DEFAULT_FORGETTING: Forgetting = {
  pullDecay: 1,
  idleDecay: 1,
  staleAfter: 140,
  detector: DEFAULT_DETECTOR,
};

/** No forgetting at all: the static baselines of the simulator. */
export const NO_FORGETTING: Forgetting = { pullDecay: 1, idleDecay: 1, staleAfter: null, detector: null };

export function emptyPosterior(model: Model): Posterior {
  return model === 'npts' ? { model, counts: GRID.map(() => 0) } : { model, alpha: 1, beta: 1 };
}

/** Fades the evidence by `factor` (toward the prior). */
export function decay(p: Posterior, factor: number): Posterior {
  if (factor === 1) return p;
  if (p.model === 'npts') return { model: 'npts', counts: p.counts.map((c) => c * factor) };
  return { model: 'beta', alpha: 1 + (p.alpha - 1) * factor, beta: 1 + (p.beta - 1) * factor };
}

/** Adds one grade (after the pull decay). Grades outside [0,1] are clamped by the caller's contract. */
export function observe(p: Posterior, grade: number, pullDecay = 1): Posterior {
  const g = Math.min(1, Math.max(0, grade));
  const d = decay(p, pullDecay);
  if (d.model === 'beta') return { model: 'beta', alpha: d.alpha + g, beta: d.beta + (1 - g) };
  const counts = d.counts.slice();
  const x = g * 10;
  const lo = Math.floor(x);
  const frac = x - lo;
  counts[lo] = counts[lo]! + (1 - frac);
  if (frac > 0) counts[lo + 1] = counts[lo + 1]! + frac;
  return { model: 'npts', counts };
}

/**
 * Takes one grade back out (a late grade replaces an earlier one). Exact while the evidence has
 * not been faded since; after a fade, what is left of the grade is at most what was added, so the
 * counts are clamped at the prior rather than going below it.
 */
export function unobserve(p: Posterior, grade: number): Posterior {
  const g = Math.min(1, Math.max(0, grade));
  if (p.model === 'beta')
    return { model: 'beta', alpha: Math.max(1, p.alpha - g), beta: Math.max(1, p.beta - (1 - g)) };
  const counts = p.counts.slice();
  const x = g * 10;
  const lo = Math.floor(x);
  const frac = x - lo;
  counts[lo] = Math.max(0, counts[lo]! - (1 - frac));
  if (frac > 0) counts[lo + 1] = Math.max(0, counts[lo + 1]! - frac);
  return { model: 'npts', counts };
}

/** The amount of evidence (effective number of graded sessions). */
export function weight(p: Posterior): number {
  return p.model === 'npts' ? p.counts.reduce((a, b) => a + b, 0) : p.alpha + p.beta - 2;
}

/** The posterior mean grade (with the optimistic pseudo-observation for NPTS). */
export function mean(p: Posterior): number {
  if (p.model === 'beta') return p.alpha / (p.alpha + p.beta);
  const n = weight(p);
  return (p.counts.reduce((a, c, i) => a + c * GRID[i]!, 0) + 1) / (n + 1);
}

/**
 * Mean and standard deviation of the grades seen (no prior, no pseudo-observation); null without
 * evidence. The Beta model keeps no spread, so it reports the Bernoulli bound √(m(1−m)).
 */
export function gradeStats(p: Posterior): { mean: number; sd: number } | null {
  const n = weight(p);
  if (!(n > 0)) return null;
  if (p.model === 'beta') {
    const m = (p.alpha - 1) / n;
    return { mean: m, sd: Math.sqrt(Math.max(0, m * (1 - m))) };
  }
  let s = 0;
  for (let i = 0; i < GRID.length; i++) s += p.counts[i]! * GRID[i]!;
  const m = s / n;
  let v = 0;
  for (let i = 0; i < GRID.length; i++) v += p.counts[i]! * (GRID[i]! - m) ** 2;
  return { mean: m, sd: Math.sqrt(v / n) };
}

/**
 * How much of a lane's evidence is used for drawing after `idle` graded sessions elsewhere: 1 while
 * it is fresh, ½ at `staleAfter`, falling fast after (1 / (1 + (idle/staleAfter)^8)). Steep on
 * purpose, so each neglected lane is tried again about once per period whatever its mean.
 */
export function loosening(idle: number, staleAfter: number | null | undefined): number {
  if (!staleAfter || idle <= 0) return 1;
  const x = idle / staleAfter;
  return 1 / (1 + x * x * x * x * x * x * x * x);
}

/** A lane is stale once its loosening has passed one half. */
export const isStale = (idle: number, staleAfter: number | null | undefined): boolean =>
  !!staleAfter && idle > staleAfter;

/** The detector's state for one lane: upward and downward CUSUM statistics. */
export interface Change {
  up: number;
  down: number;
}

/** Grade spreads below this are treated as this, so a lane with very steady grades does not alarm on noise. */
const MIN_SPREAD = 0.05;

/**
 * One step of the change detector for a grade about to be added to `p`. `lead`: where the upward
 * statistic starts at the least (the detector's `staleStart` for a stale lane, else 0). Returns
 * the new statistics and whether they alarmed (then they are back to 0 and the caller cuts the
 * evidence).
 */
export function detectChange(
  p: Posterior,
  c: Change,
  grade: number,
  lead: number,
  d: Detector,
): { change: Change; alarm: boolean } {
  const stats = weight(p) >= d.minWeight ? gradeStats(p) : null;
  if (!stats) return { change: { up: 0, down: 0 }, alarm: false };
  const r = (Math.min(1, Math.max(0, grade)) - stats.mean) / Math.max(MIN_SPREAD, stats.sd);
  const up = Math.max(0, Math.max(c.up, lead) + r - d.slack);
  const down = Math.max(0, c.down - r - d.slack);
  if (up > d.threshold || down > d.threshold) return { change: { up: 0, down: 0 }, alarm: true };
  return { change: { up, down }, alarm: false };
}

/**
 * One Thompson sample of the lane's mean grade. `scale` fades the evidence on the fly (an idle
 * decay not yet applied, or a loosening), which is the same as sampling from decay(p, scale).
 */
export function sample(p: Posterior, rng: Rng, scale = 1): number {
  if (p.model === 'beta') {
    const x = gamma(1 + (p.alpha - 1) * scale, rng);
    const y = gamma(1 + (p.beta - 1) * scale, rng);
    return x + y === 0 ? 0.5 : x / (x + y);
  }
  let total = gamma(1, rng); // the pseudo-observation at 1
  let acc = total;
  for (let i = 0; i < GRID.length; i++) {
    const c = p.counts[i]! * scale;
    if (c <= 1e-9) continue;
    const w = gamma(c, rng);
    total += w;
    acc += w * GRID[i]!;
  }
  return total === 0 ? 1 : acc / total;
}
