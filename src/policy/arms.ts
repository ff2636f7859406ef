// Which arm (`backend:model`) a lane's session runs on. Pure and seeded: the caller gathers the
// facts (configured arms, quota and crash-loop blocks, the arm learning state) and calls these.
//
// 1. Eligibility first. Hard constraints sit outside the learner (algorithms-and-claims §1.6):
//    retired arms, arms outside the lane's tier bounds and arms the caller blocked (quota exhausted
//    until X, crash-loop cooldown until Y, a no-probe failure block — keyed by arm id or by backend
//    name) are removed *before* any random draw, as sleeping arms. `armEligibility` says why each
//    one is out; `chooseArm` is given the eligible arms only, and returns null when there are none.
// 2. Thompson sampling with the same graded posterior as lanes (learning.ts), contextual on the
//    lane: the lane-arm belief `${lane}|${arm}` once it holds at least 3 sessions' evidence, else
//    the arm's global belief `*|${arm}`. Each arm draws from its own stream,
//    `deriveSeed(seed, 'arm:' + lane + ':' + arm)`, so masking one arm never changes another's draw.
//    An override (`prefer: 'top-tier' | 'cheapest'`) restricts the pool to the highest tier or the
//    lowest cost among the eligible arms; Thompson decides within it; a seeded draw breaks ties.
// 3. Credit. `learnArm` records a grade for the arm that actually ran, in both its lane-arm and its
//    global belief, as ONE graded session on the learning clock (the arm state is a Learning of its
//    own, separate from the lanes').
//    Infrastructure failures are NOT grades: when the agent could not start, authentication broke,
//    or the backend refused for quota, callers must not call `learnArm` — the runtime marks the arm
//    unavailable instead (a block passed to `armEligibility`), so the reward posterior is censored,
//    not lowered (algorithms-and-claims §1.5).
// 4. A model version bump is a new arm. `warmStart` gives it the old arm's beliefs with the evidence
//    cut to at most `n0` sessions, so it starts near the old arm's grades but is quickly relearned.
import { draw, learn, summary, type Belief, type Learning } from './learning.js';
import { decay, unobserve, weight } from './posterior.js';
import { deriveSeed, rngFromSeed } from './prng.js';

export interface ArmInfo {
  /** `backend:model` */
  id: string;
  backend: string;
  model: string;
  tier: number;
  cost: number;
  retired?: boolean;
}

export interface ArmAvailability {
  id: string;
  eligible: boolean;
  /** Why the arm is out (every cause, joined by '; '); null when eligible. */
  reason: string | null;
}

/** A lane's tier bounds (inclusive); absent = unbounded. */
export interface TierBounds {
  minTier?: number;
  maxTier?: number;
}

export type ArmPreference = 'top-tier' | 'cheapest' | null;

export type ArmSource = 'lane' | 'global';

/** Evidence a lane-arm belief needs before it is used instead of the arm's global one. */
export const CONTEXT_MIN_EVIDENCE = 3;

/** The key of the global belief of every arm. */
export const GLOBAL_CONTEXT = '*';

export const laneArmKey = (lane: string, arm: string): string => `${lane}|${arm}`;
export const globalArmKey = (arm: string): string => `${GLOBAL_CONTEXT}|${arm}`;

/**
 * One entry per arm of the lane, in the lane's order (a repeated id counts once). An arm is out when
 * it is not configured, retired, outside the tier bounds, or listed in `blocked` by its id or by its
 * backend's name (the value is the caller's reason, e.g. "quota exhausted until 2025-07-01T12:00Z").
 */
export function armEligibility(
  arms: readonly ArmInfo[],
  laneArms: readonly string[],
  bounds: TierBounds,
  blocked: Readonly<Record<string, string>>,
): ArmAvailability[] {
  const byId = new Map(arms.map((a) => [a.id, a]));
  const has = (key: string) => Object.prototype.hasOwnProperty.call(blocked, key);
  const out: ArmAvailability[] = [];
  const seen = new Set<string>();
  for (const id of laneArms) {
    if (seen.has(id)) continue;
    seen.add(id);
    const arm = byId.get(id);
    const reasons: string[] = [];
    if (!arm) reasons.push('unknown arm: not configured');
    else {
      if (arm.retired) reasons.push('retired');
      if (bounds.minTier !== undefined && arm.tier < bounds.minTier)
        reasons.push(`tier ${arm.tier} below min_tier ${bounds.minTier}`);
      if (bounds.maxTier !== undefined && arm.tier > bounds.maxTier)
        reasons.push(`tier ${arm.tier} above max_tier ${bounds.maxTier}`);
      if (has(arm.backend) && arm.backend !== id)
        reasons.push(`backend ${arm.backend} blocked: ${blocked[arm.backend]}`);
    }
    if (has(id)) reasons.push(`arm blocked: ${blocked[id]}`);
    out.push({ id, eligible: reasons.length === 0, reason: reasons.length ? reasons.join('; ') : null });
  }
  return out;
}

/** The arms marked eligible, in the order of `availability` (what `chooseArm` is given). */
export function eligibleArms(arms: readonly ArmInfo[], availability: readonly ArmAvailability[]): ArmInfo[] {
  const byId = new Map(arms.map((a) => [a.id, a]));
  return availability.filter((a) => a.eligible).flatMap((a) => (byId.has(a.id) ? [byId.get(a.id)!] : []));
}

export interface ArmScore {
  arm: string;
  /** The Thompson sample of the arm's mean grade (rounded to 6 places). */
  sample: number;
  /** Which belief was drawn: the lane-arm one, or the arm's global one. */
  source: ArmSource;
  /** Evidence (effective graded sessions) of the belief drawn. */
  evidence: number;
  /** A seeded draw that breaks equal samples (arms without evidence all sample near 1). */
  tiebreak: number;
}

export interface ArmChoice {
  arm: string;
  components: { sample: number; source: ArmSource; evidence: number };
  /** The arms that competed (after `prefer`), best first. */
  ranked: ArmScore[];
}

export interface ChooseArmInput {
  lane: string;
  /** The lane's ELIGIBLE arms only (see `armEligibility`); ids distinct. */
  arms: readonly ArmInfo[];
  learning: Learning;
  prefer?: ArmPreference;
  seed: number;
}

const round = (x: number) => Number(x.toFixed(6));

/** The belief an arm is drawn from in a lane: the lane-arm one with ≥ 3 sessions' evidence, else the global one. */
export function armContext(
  learning: Learning,
  lane: string,
  arm: string,
): { key: string; source: ArmSource; evidence: number } {
  const local = laneArmKey(lane, arm);
  const w = summary(learning, local).weight;
  if (w >= CONTEXT_MIN_EVIDENCE) return { key: local, source: 'lane', evidence: w };
  const global = globalArmKey(arm);
  return { key: global, source: 'global', evidence: summary(learning, global).weight };
}

/** Thompson choice of an arm for one session of `lane`; null when no arm is eligible. */
export function chooseArm(input: ChooseArmInput): ArmChoice | null {
  const { lane, arms, learning, seed } = input;
  if (arms.length === 0) return null;
  let pool: readonly ArmInfo[] = arms;
  if (input.prefer === 'top-tier') {
    const top = Math.max(...arms.map((a) => a.tier));
    pool = arms.filter((a) => a.tier === top);
  } else if (input.prefer === 'cheapest') {
    const low = Math.min(...arms.map((a) => a.cost));
    pool = arms.filter((a) => a.cost === low);
  }
  const ranked = pool.map((a): ArmScore => {
    const rng = rngFromSeed(deriveSeed(seed, `arm:${lane}:${a.id}`));
    const ctx = armContext(learning, lane, a.id);
    const sample = draw(learning, ctx.key, rng);
    return { arm: a.id, sample: round(sample), source: ctx.source, evidence: round(ctx.evidence), tiebreak: rng() };
  });
  ranked.sort((a, b) => b.sample - a.sample || b.tiebreak - a.tiebreak);
  const best = ranked[0]!;
  return { arm: best.arm, components: { sample: best.sample, source: best.source, evidence: best.evidence }, ranked };
}

/**
 * Credits one grade to the arm that actually ran: its lane-arm and its global belief, as one
 * graded session on the learning clock. Not for infrastructure failures (see the header).
 */
export function learnArm(learning: Learning, lane: string, arm: string, grade: number): Learning {
  const local = laneArmKey(lane, arm);
  const global = globalArmKey(arm);
  // Both updates are computed from the same state, so both beliefs are brought up to the same
  // clock and the clock moves by one session, not two.
  const a = learn(learning, local, grade);
  if (local === global) return a;
  const b = learn(learning, global, grade);
  return { ...a, beliefs: { ...a.beliefs, [global]: b.beliefs[global]! } };
}

/**
 * For a model version bump: gives `toArm` the beliefs of `fromArm` (its global one and every
 * lane-arm one) with the evidence cut to at most `n0` sessions. The grades' mean and spread are
 * kept (the posterior mean moves slightly toward the optimistic prior, as for any belief with less
 * evidence). Beliefs `toArm` already has are kept: its own evidence wins, and a repeated call
 * changes nothing. The detector's statistics start afresh and the beliefs count as fresh (not
 * stale). The clock does not move; `fromArm`'s beliefs are untouched.
 */
/** Replaces a grade learned earlier for `arm` in `lane` with another (a late grade); both keys. */
export function relearnArm(learning: Learning, lane: string, arm: string, previous: number, grade: number): Learning {
  const taken = [laneArmKey(lane, arm), globalArmKey(arm)].reduce(
    (l, key) =>
      l.beliefs[key]
        ? {
            ...l,
            beliefs: {
              ...l.beliefs,
              [key]: { ...l.beliefs[key]!, posterior: unobserve(l.beliefs[key]!.posterior, previous) },
            },
          }
        : l,
    learning,
  );
  return learnArm(taken, lane, arm, grade);
}

export function warmStart(learning: Learning, fromArm: string, toArm: string, n0 = 5): Learning {
  if (!(n0 >= 0) || !Number.isFinite(n0)) throw new RangeError(`warmStart: n0 must be a finite number ≥ 0, got ${n0}`);
  if (fromArm === toArm) return learning;
  const suffix = `|${fromArm}`;
  const added: Record<string, Belief> = {};
  for (const [key, b] of Object.entries(learning.beliefs)) {
    if (!key.endsWith(suffix)) continue;
    const context = key.slice(0, key.length - suffix.length);
    if (context.length === 0) continue;
    const target = laneArmKey(context, toArm);
    if (learning.beliefs[target]) continue;
    // The idle decay the belief is owed, then the cut to n0.
    const owed = Math.pow(learning.forgetting.idleDecay, learning.clock - b.since);
    let posterior = decay(b.posterior, owed);
    const w = weight(posterior);
    if (w > n0) posterior = decay(posterior, n0 / w);
    added[target] = { posterior, since: learning.clock };
  }
  return Object.keys(added).length ? { ...learning, beliefs: { ...learning.beliefs, ...added } } : learning;
}
