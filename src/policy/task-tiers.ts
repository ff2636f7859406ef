// Task tiers, as in the gptme/Bob CASCADE selector (notes §3.2): within a lane, `active` tasks
// come first (tier 1), then `ready` tasks (tier 2), each by priority then id; a lane with neither
// offers lane-level work (tier 3). A task that waits on something (`waiting_for`) is never a
// candidate. A task whose claim is held long-lived by someone else is `claim_blocked` and left
// out (notes §6.5); short races are not filtered here but settled by the claim itself.
import type { Task } from './task.js';

export type TaskTier = 1 | 2;
export type LaneTier = 1 | 2 | 3;

export interface LaneWork {
  /** In the order to try them: tier, then priority (higher first), then id. */
  candidates: { task: Task; tier: TaskTier }[];
  /** Would-be candidates left out, in the same order, with why (`claim_blocked`). */
  blocked: { task: Task; reason: string }[];
  tier: LaneTier;
}

export interface LaneSupply {
  /** Active and ready count only pickable tasks: one with `waiting_for` counts as waiting. */
  active: number;
  ready: number;
  waiting: number;
  backlog: number;
}

/** The claim key of a lane's slots. */
export const laneKey = (lane: string): string => `lane:${lane}`;

/** Whether a claim key is a lane slot (not a task or an agent's own key). */
export const isLaneKey = (key: string): boolean => key.startsWith('lane:');

/** The claim key a task-backed session takes before it starts. */
export function taskKey(id: string): string {
  return `task:${id}`;
}

/** `blockedKeys`: claim keys held long-lived by others (e.g. `task:fix-login`). */
export function laneWork(tasks: readonly Task[], lane: string, blockedKeys: ReadonlySet<string>): LaneWork {
  const eligible: { task: Task; tier: TaskTier }[] = [];
  for (const task of tasks) {
    const tier = pickableTier(task);
    if (task.lane === lane && tier !== null) eligible.push({ task, tier });
  }
  eligible.sort(byTierPriorityId);
  const candidates: LaneWork['candidates'] = [];
  const blocked: LaneWork['blocked'] = [];
  for (const c of eligible) {
    if (blockedKeys.has(taskKey(c.task.id))) blocked.push({ task: c.task, reason: 'claim_blocked' });
    else candidates.push(c);
  }
  return { candidates, blocked, tier: candidates[0]?.tier ?? 3 };
}

/** Supply per configured lane, for `lanekeeper stats`; `done` is not supply and is not counted. */
export function supply(tasks: readonly Task[], lanes: readonly string[]): Record<string, LaneSupply> {
  const out: Record<string, LaneSupply> = Object.fromEntries(
    lanes.map((l) => [l, { active: 0, ready: 0, waiting: 0, backlog: 0 }]),
  );
  for (const task of tasks) {
    const s = Object.hasOwn(out, task.lane) ? out[task.lane] : undefined;
    if (!s) continue; // a lane no longer configured
    if (task.state === 'backlog') s.backlog++;
    else if (task.state === 'waiting' || (task.waitingFor !== null && task.state !== 'done')) s.waiting++;
    else if (task.state === 'active') s.active++;
    else if (task.state === 'ready') s.ready++;
  }
  return out;
}

function pickableTier(task: Task): TaskTier | null {
  if (task.waitingFor !== null) return null;
  return task.state === 'active' ? 1 : task.state === 'ready' ? 2 : null;
}

function byTierPriorityId(a: { task: Task; tier: TaskTier }, b: { task: Task; tier: TaskTier }): number {
  if (a.tier !== b.tier) return a.tier - b.tier;
  if (a.task.priority !== b.task.priority) return b.task.priority - a.task.priority;
  // Plain code-unit order, not localeCompare: the same on every machine.
  return a.task.id < b.task.id ? -1 : a.task.id > b.task.id ? 1 : 0;
}
