// Where a denied slot goes next, within the same tick: the selector asks this after a claim of the
// tick's plan (plan-tick.ts) was denied, so the place goes to the next slot the plan would take.
// Pure: the lane slots' view, the tick's order and what was denied come in.
import { isActive, type LaneView, type SlotTask } from './plan-types.js';

/**
 * Where a denied slot goes next, within the same tick. A denied task claim tries the lane's next
 * task once; a second denial in the lane (or a denied lane slot) moves on to the next lane of the
 * tick's order that is idle, was not denied, and may run beside what runs now.
 */
export function pivotTarget(
  view: readonly LaneView[],
  order: readonly string[],
  denied: readonly string[],
  deniedLane: { lane: string; laneId: string; taskDenied: boolean; denials: number },
  spare: Readonly<Record<string, SlotTask[]>>,
): { laneId: string; lane: string; task: SlotTask | null; reason: string } | null {
  const byLane = new Map<string, LaneView[]>();
  for (const v of view) byLane.set(v.lane, [...(byLane.get(v.lane) ?? []), v]);
  const active = view.filter((v) => isActive(v.state));
  if (active.some((v) => !v.parallel)) return null;
  if (deniedLane.taskDenied && deniedLane.denials < 2) {
    const next = spare[deniedLane.lane]?.[0];
    const slot = view.find((v) => v.laneId === deniedLane.laneId);
    if (next && slot?.state === 'idle')
      return { laneId: slot.laneId, lane: slot.lane, task: next, reason: 'task claim denied: next task of the lane' };
  }
  for (const lane of order) {
    if (denied.includes(lane)) continue;
    const slot = byLane.get(lane)?.find((v) => v.state === 'idle' && v.enabled);
    if (!slot) continue;
    if (!slot.parallel && active.length > 0) continue;
    const reason =
      lane === deniedLane.lane
        ? 'task claim denied and no other task: lane-level work in the same lane'
        : !deniedLane.taskDenied
          ? 'lane slot denied: next lane'
          : deniedLane.denials >= 2
            ? 'second task denial in the lane: next lane'
            : 'task claim denied and no other task here: next lane';
    return { laneId: slot.laneId, lane, task: spare[lane]?.[0] ?? null, reason };
  }
  return null;
}
