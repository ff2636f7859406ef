// The policies `lanekeeper simulate` compares. Each picks `width` distinct lanes per decision and
// learns from the grades it sees. `lanekeeper` is the selector's reward model with its default
// forgetting (NPTS, stale-lane loosening and a change detector: policy/posterior.ts); `npts-static`
// is the same model without forgetting, `npts-two-rate` the same model with the constant two-rate
// discount lanekeeper used before (0.98 per pull, 0.999 per update); the rest are baselines,
// including the silent-allowlist failure.
import { DEFAULT_FORGETTING, NO_FORGETTING, type Forgetting, type Model } from '../policy/posterior.js';
import { draw, emptyLearning, learnInPlace } from '../policy/learning.js';
import type { Rng } from '../policy/prng.js';

export interface SimPolicy {
  choose(width: number, t: number, rng: Rng): number[];
  update(lane: number, grade: number): void;
}

export const POLICIES = [
  'lanekeeper',
  'uniform',
  'round-robin',
  'allowlist',
  'epsilon-greedy',
  'ucb1',
  'kl-ucb',
  'ts-beta',
  'npts-static',
  'npts-two-rate',
] as const;
export type PolicyId = (typeof POLICIES)[number];

const topN = (scores: number[], n: number) =>
  scores
    .map((s, i) => [s, i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, n)
    .map(([, i]) => i);

function shuffled(k: number, rng: Rng): number[] {
  const a = Array.from({ length: k }, (_, i) => i);
  for (let i = k - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Thompson sampling over the selector's learning state (policy/learning.ts), with its forgetting or none. */
function thompson(k: number, model: Model, forgetting: Forgetting): SimPolicy {
  const l = emptyLearning(model, forgetting);
  const keys = Array.from({ length: k }, (_, i) => String(i));
  return {
    choose: (width, _t, rng) =>
      topN(
        keys.map((key) => draw(l, key, rng)),
        width,
      ),
    update: (lane, grade) => learnInPlace(l, keys[lane]!, grade),
  };
}

/** Bernoulli KL divergence. */
function kl(p: number, q: number): number {
  const e = 1e-12;
  p = Math.min(Math.max(p, e), 1 - e);
  q = Math.min(Math.max(q, e), 1 - e);
  return p * Math.log(p / q) + (1 - p) * Math.log((1 - p) / (1 - q));
}

/**
 * Each lane's KL-UCB index after `total` grades: the largest mean whose divergence from the lane's
 * mean fits the confidence bound (found by bisection); Infinity for a lane never tried.
 */
function klUcbIndex(n: readonly number[], sum: readonly number[], total: number): number[] {
  const bound = Math.log(Math.max(total, 1)) + 3 * Math.log(Math.max(Math.log(Math.max(total, 1)), 1));
  return n.map((c, i) => {
    if (c === 0) return Infinity;
    const mu = sum[i]! / c;
    let lo = mu;
    let hi = 1;
    for (let it = 0; it < 20; it++) {
      const mid = (lo + hi) / 2;
      if (c * kl(mu, mid) <= bound) lo = mid;
      else hi = mid;
    }
    return lo;
  });
}

export function makePolicy(id: PolicyId, k: number): SimPolicy {
  const n = new Array<number>(k).fill(0);
  const sum = new Array<number>(k).fill(0);
  const stats = {
    update: (lane: number, grade: number) => ((n[lane] = n[lane]! + 1), (sum[lane] = sum[lane]! + grade)),
  };
  const untried = (width: number) =>
    n
      .map((c, i) => [c, i] as const)
      .filter(([c]) => c === 0)
      .slice(0, width)
      .map(([, i]) => i);
  let total = 0;
  switch (id) {
    case 'lanekeeper':
      return thompson(k, 'npts', DEFAULT_FORGETTING);
    case 'npts-static':
      return thompson(k, 'npts', NO_FORGETTING);
    case 'npts-two-rate':
      return thompson(k, 'npts', { ...NO_FORGETTING, pullDecay: 0.98, idleDecay: 0.999 });
    case 'ts-beta':
      return thompson(k, 'beta', NO_FORGETTING);
    case 'uniform':
      return { choose: (width, _t, rng) => shuffled(k, rng).slice(0, width), update: () => {} };
    case 'round-robin':
      return { choose: (width, t) => Array.from({ length: width }, (_, i) => (t * width + i) % k), update: () => {} };
    case 'allowlist':
      return { choose: (width) => Array.from({ length: width }, (_, i) => i % k), update: () => {} };
    case 'epsilon-greedy':
      return {
        choose(width, _t, rng) {
          const first = untried(width);
          if (first.length)
            return [
              ...first,
              ...topN(
                n.map((c, i) => (first.includes(i) ? -1 : sum[i]! / Math.max(c, 1))),
                width - first.length,
              ),
            ];
          if (rng() < 0.1) return shuffled(k, rng).slice(0, width);
          return topN(
            n.map((c, i) => sum[i]! / c),
            width,
          );
        },
        update: stats.update,
      };
    case 'ucb1':
      return {
        choose(width) {
          const first = untried(width);
          if (first.length === width) return first;
          const ln = Math.log(Math.max(total, 1));
          return topN(
            n.map((c, i) => (c === 0 ? Infinity : sum[i]! / c + Math.sqrt((2 * ln) / c))),
            width,
          );
        },
        update: (lane, grade) => (stats.update(lane, grade), total++),
      };
    case 'kl-ucb':
      return {
        choose: (width) => topN(klUcbIndex(n, sum, total), width),
        update: (lane, grade) => (stats.update(lane, grade), total++),
      };
  }
}
