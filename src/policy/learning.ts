// What the selector has learned: one posterior per lane (or per arm), with the two-rate forgetting
// of posterior.ts applied the same way by the live selector and by `lanekeeper simulate`, so the
// figures the simulator reports are the figures of the code that runs.
//
// The idle decay fades every belief a little on every graded session anywhere. Applying it to all
// lanes on every update would cost O(lanes); instead each belief remembers the update count
// (`clock`) it was last brought up to date at, and the factor for the updates since is applied
// when it is used. Everything here is plain JSON, so it can be journaled, checkpointed and stored.
import { DEFAULT_FORGETTING, decay, emptyPosterior, mean, observe, sample, weight, type Forgetting, type Model, type Posterior } from './posterior.js';
import type { Rng } from './prng.js';

export interface Belief {
  posterior: Posterior;
  /** The learning clock this belief was last brought up to date at. */
  since: number;
}

export interface Learning {
  model: Model;
  forgetting: Forgetting;
  /** Graded sessions seen so far (all lanes): the clock of the idle decay. */
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

/** Records one grade for `key`. Returns a new Learning; the input is not changed. */
export function learn(l: Learning, key: string, grade: number): Learning {
  const b = beliefOf(l, key);
  const clock = l.clock + 1;
  const posterior = observe(decay(b.posterior, Math.pow(l.forgetting.idleDecay, clock - b.since)), grade, l.forgetting.pullDecay);
  return { ...l, clock, beliefs: { ...l.beliefs, [key]: { posterior, since: clock } } };
}

/** In-place variant for the simulator's hot loop (same result as `learn`). */
export function learnInPlace(l: Learning, key: string, grade: number): void {
  const b = beliefOf(l, key);
  l.clock += 1;
  l.beliefs[key] = { posterior: observe(decay(b.posterior, Math.pow(l.forgetting.idleDecay, l.clock - b.since)), grade, l.forgetting.pullDecay), since: l.clock };
}

/** One Thompson sample of `key`'s mean grade. */
export function draw(l: Learning, key: string, rng: Rng): number {
  const b = beliefOf(l, key);
  return sample(b.posterior, rng, owed(l, b));
}

/** Posterior mean and evidence weight of `key`, as of now (idle decay applied). */
export function summary(l: Learning, key: string): { mean: number; weight: number } {
  const b = beliefOf(l, key);
  const p = decay(b.posterior, owed(l, b));
  return { mean: mean(p), weight: weight(p) };
}
