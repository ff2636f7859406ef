// What lanekeeper believes about a lane (or an arm) from its graded sessions, and how it draws a
// Thompson sample from that belief. Pure and seeded.
//
// Grades are numbers in [0,1], not successes, so the default model uses their spread:
// non-parametric Thompson sampling (Riou & Honda, ALT 2020) on a grade grid. Each grade is split
// between its two neighbouring grid points (0, 0.1, …, 1) in proportion, which keeps its mean and
// bounds memory to 11 numbers per lane. A sample is a Dirichlet-weighted mean of the grid, with one
// extra pseudo-observation at 1 so that little evidence means optimism, not neglect.
// The fractional Beta model (α += g, β += 1 − g) is kept as an alternative and a baseline.
//
// Forgetting has two rates: `pullDecay` fades the evidence of a lane each time it is graded (so a
// favourite that got worse is noticed), `idleDecay` fades every lane a little on every update (so
// a neglected lane that got better is tried again). Both multiply the counts.
import { gamma } from './random.js';
import type { Rng } from './prng.js';

export const GRID = Array.from({ length: 11 }, (_, i) => i / 10);

export type Posterior = { model: 'npts'; counts: number[] } | { model: 'beta'; alpha: number; beta: number };
export type Model = Posterior['model'];

export interface Forgetting {
  /** Multiplies a lane's evidence each time it is graded; 1 = never forget. */
  pullDecay: number;
  /** Multiplies every lane's evidence on every update anywhere; 1 = never forget. */
  idleDecay: number;
}

export const DEFAULT_FORGETTING: Forgetting = { pullDecay: 0.98, idleDecay: 0.999 };

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
 * One Thompson sample of the lane's mean grade. `scale` fades the evidence on the fly (an idle
 * decay not yet applied), which is the same as sampling from decay(p, scale).
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
