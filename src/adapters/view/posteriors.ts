// What the selector has learned, as the local view charts it: for each lane (and each lane's arms)
// the posterior mean grade, the evidence behind it, and a band of ±2 posterior standard deviations.
// The mean and evidence are policy/learning.ts's `summary` (idle decay applied); the band is the
// spread of the same posterior: for NPTS, of the Dirichlet-weighted mean of the grade grid with its
// optimistic pseudo-observation at 1; for the Beta model, of Beta(α, β).
import type { SelectorMemory } from '../../ports/store.js';
import { summary, type Learning } from '../../policy/learning.js';
import { decay, GRID, type Posterior } from '../../policy/posterior.js';

export interface PosteriorBar {
  /** The lane (or, for arms, `lane|arm` split into its two parts). */
  lane: string;
  arm: string | null;
  mean: number;
  /** Effective number of graded sessions behind the mean. */
  evidence: number;
  low: number;
  high: number;
}

export interface PosteriorView {
  model: Learning['model'];
  /** Graded sessions seen, all lanes together. */
  clock: number;
  lanes: PosteriorBar[];
  arms: PosteriorBar[];
}

const clamp = (x: number) => Math.min(1, Math.max(0, x));
const round = (x: number) => Number(x.toFixed(4));

/** Standard deviation of the posterior's mean grade. */
export function posteriorSd(p: Posterior): number {
  if (p.model === 'beta') {
    const n = p.alpha + p.beta;
    return Math.sqrt((p.alpha * p.beta) / (n * n * (n + 1)));
  }
  // Dirichlet(counts + the pseudo-observation at 1): Var(Σ wᵢxᵢ) = (E[x²] − E[x]²) / (α₀ + 1).
  const alphas = p.counts.map((c, i) => c + (i === GRID.length - 1 ? 1 : 0));
  const a0 = alphas.reduce((a, b) => a + b, 0);
  const m = alphas.reduce((a, c, i) => a + c * GRID[i]!, 0) / a0;
  const m2 = alphas.reduce((a, c, i) => a + c * GRID[i]! ** 2, 0) / a0;
  return Math.sqrt(Math.max(0, m2 - m * m) / (a0 + 1));
}

function bar(l: Learning, key: string, lane: string, arm: string | null): PosteriorBar {
  const b = l.beliefs[key]!;
  const { mean, weight } = summary(l, key);
  const sd = posteriorSd(decay(b.posterior, Math.pow(l.forgetting.idleDecay, l.clock - b.since)));
  return {
    lane,
    arm,
    mean: round(mean),
    evidence: round(weight),
    low: round(clamp(mean - 2 * sd)),
    high: round(clamp(mean + 2 * sd)),
  };
}

export function posteriorView(memory: SelectorMemory | null): PosteriorView | null {
  if (!memory) return null;
  const { learning, arms } = memory;
  const lanes = Object.keys(learning.beliefs)
    .sort()
    .map((lane) => bar(learning, lane, lane, null));
  // Arm beliefs are keyed `lane|arm`, and `*|arm` for what an arm did across lanes.
  const armBars = arms
    ? Object.keys(arms.beliefs)
        .sort()
        .map((key) => {
          const cut = key.indexOf('|');
          return bar(arms, key, key.slice(0, cut), key.slice(cut + 1));
        })
    : [];
  return { model: learning.model, clock: learning.clock, lanes, arms: armBars };
}
