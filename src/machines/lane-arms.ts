// The arm a lane slot runs its next session on, chosen when its lane slot is granted: eligibility
// first (the lane's arms, its tier bounds, and what the shell reported blocked with the grant),
// then a Thompson draw per eligible arm from what the selector has learned about arms in this lane
// (or, with less than 3 sessions of evidence here, about the arm everywhere). Pure: the learning,
// the seed and the blocked arms all come with the grant (the selector hands it to the lane with
// what it has learned about arms).
import {
  armEligibility,
  chooseArm,
  eligibleArms,
  type ArmInfo,
  type ArmPreference,
  type TierBounds,
} from '../policy/arms.js';
import type { Learning } from '../policy/learning.js';
import type { ArmDecision } from './types.js';

export type { ArmDecision } from './types.js';

export interface LaneArms {
  lane: string;
  arms: readonly string[];
  armInfo: readonly ArmInfo[];
  bounds: TierBounds;
  prefer: ArmPreference;
}

export function decideArm(
  lane: LaneArms,
  learning: Learning,
  blocked: Readonly<Record<string, string>>,
  seed: number,
): ArmDecision {
  const availability = armEligibility(lane.armInfo, lane.arms, lane.bounds, blocked);
  const excluded = Object.fromEntries(
    availability.filter((a) => !a.eligible).map((a) => [a.id, a.reason ?? 'not eligible']),
  );
  const choice = chooseArm({
    lane: lane.lane,
    arms: eligibleArms(lane.armInfo, availability),
    learning,
    prefer: lane.prefer,
    seed,
  });
  return choice
    ? { arm: choice.arm, excluded, sample: choice.components.sample, source: choice.components.source }
    : { arm: null, excluded, sample: null, source: null };
}
