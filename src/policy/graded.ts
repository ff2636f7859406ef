// How a grade enters what was learned: the lane's posterior, the arm's (in the lane and across
// lanes), and the list of recently learned sessions that makes it happen once. A grade for a
// session already learned is ignored; a late grade (regrade) replaces the one learned before.
// One pure function, used by the selector machine and by a store shared by several hosts (which
// applies each grade atomically to the fleet's posteriors), so both fold grades the same way.
import { learnArm, relearnArm } from './arms.js';
import { learn, relearn, type Learning } from './learning.js';

/**
 * How many recently learned sessions are remembered with their grade, so a repeated grade is never
 * learned twice and a late grade replaces the one learned (kept across restarts).
 */
export const GRADED_MEMORY = 1000;

export interface Posteriors {
  learning: Learning;
  arms: Learning;
  graded: [string, number][];
}

export interface GradeUpdate {
  session: string;
  lane: string;
  /** The arm credited, when known. */
  arm: string | null;
  grade: number;
  /** A late grade: replaces the session's earlier grade instead of being ignored after it. */
  regrade?: boolean;
}

/** The posteriors after `u`, or the same object when it changes nothing (a grade seen before). */
export function applyGrade(p: Posteriors, u: GradeUpdate): Posteriors {
  const previous = p.graded.find(([id]) => id === u.session)?.[1];
  if (!u.regrade) {
    if (previous !== undefined) return p;
    return {
      learning: learn(p.learning, u.lane, u.grade),
      arms: u.arm ? learnArm(p.arms, u.lane, u.arm, u.grade) : p.arms,
      graded: [...p.graded, [u.session, u.grade] as [string, number]].slice(-GRADED_MEMORY),
    };
  }
  const learning = previous === undefined ? learn(p.learning, u.lane, u.grade) : relearn(p.learning, u.lane, previous, u.grade);
  const arms = !u.arm ? p.arms : previous === undefined ? learnArm(p.arms, u.lane, u.arm, u.grade) : relearnArm(p.arms, u.lane, u.arm, previous, u.grade);
  const graded = [...p.graded.filter(([id]) => id !== u.session), [u.session, u.grade] as [string, number]].slice(-GRADED_MEMORY);
  return { learning, arms, graded };
}
