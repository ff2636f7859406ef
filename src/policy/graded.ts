// How a grade enters what was learned: the lane's posterior, the arm's (in the lane and across
// lanes), and the list of recently learned sessions that makes it happen once. A grade for a
// session already learned is ignored; a late grade (regrade) replaces the one learned before.
// One pure function, used by the selector machine and by a store shared by several hosts (which
// applies each grade atomically to the fleet's posteriors), so both fold grades the same way.
import { learnArm, relearnArm } from './arms.js';
import { learn, relearn, type Learning } from './learning.js';
import { Trail, type List } from './trail.js';

/**
 * How many recently learned sessions are remembered with their grade, so a repeated grade is never
 * learned twice and a late grade replaces the one learned (kept across restarts).
 */
export const GRADED_MEMORY = 1000;

/** Recently learned sessions with their grade, oldest first. */
export type GradedList = List<readonly [string, number]>;

export interface Posteriors {
  learning: Learning;
  arms: Learning;
  graded: GradedList;
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
  const previous = gradeLearned(p.graded, u.session);
  if (!u.regrade) {
    if (previous !== undefined) return p;
    const graded = appendGraded(p.graded, u.session, u.grade);
    return {
      learning: learn(p.learning, u.lane, u.grade),
      arms: u.arm ? learnArm(p.arms, u.lane, u.arm, u.grade) : p.arms,
      graded,
    };
  }
  const learning =
    previous === undefined ? learn(p.learning, u.lane, u.grade) : relearn(p.learning, u.lane, previous, u.grade);
  const arms = !u.arm
    ? p.arms
    : previous === undefined
      ? learnArm(p.arms, u.lane, u.arm, u.grade)
      : relearnArm(p.arms, u.lane, u.arm, previous, u.grade);
  const graded = Trail.of(
    [...[...p.graded].filter(([id]) => id !== u.session), [u.session, u.grade] as const].slice(-GRADED_MEMORY),
  );
  return { learning, arms, graded };
}

/*
 * Which sessions a list holds is asked on every grade, and the list holds up to GRADED_MEMORY of
 * them, so each list gets an index (session → grade) that moves with the newest list as a grade is
 * appended: O(1) per grade instead of a scan and a copy (the list itself is a trail, trail.ts).
 * Lists are never changed in place; one without an index (restored, say) gets one built once. A
 * list that names a session twice (none written here does) keeps the plain scan, whose first
 * match wins.
 */
const indexes = new WeakMap<GradedList, Map<string, number> | null>();

function indexOf(graded: GradedList): Map<string, number> | null {
  let index = indexes.get(graded);
  if (index !== undefined) return index;
  index = new Map(graded);
  if (index.size !== graded.length) index = null;
  indexes.set(graded, index);
  return index;
}

/** The grade learned for `session`, if it is among those remembered. */
export function gradeLearned(graded: GradedList, session: string): number | undefined {
  const index = indexOf(graded);
  if (index) return index.get(session);
  for (const [id, grade] of graded) if (id === session) return grade;
  return undefined;
}

/** `[...graded, [session, grade]].slice(-GRADED_MEMORY)` for a session not in `graded`, without copying it. */
function appendGraded(graded: GradedList, session: string, grade: number): Trail<readonly [string, number]> {
  const from = Math.max(0, graded.length + 1 - GRADED_MEMORY);
  const next = Trail.of(graded).append([session, grade], from);
  const index = indexOf(graded);
  if (index) {
    indexes.delete(graded);
    for (let i = 0; i < from; i++) index.delete(graded.at(i)![0]);
    index.set(session, grade);
    indexes.set(next, index);
  }
  return next;
}
