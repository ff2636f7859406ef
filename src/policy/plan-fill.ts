// Step 5 of a tick's plan (plan-tick.ts): which idle slots of the ordered lanes take the width.
// One slot per lane first (the top N distinct lanes with a positive score), then further idle
// slots of the chosen lanes while width is left, under the parallel rules. Each task-backed slot
// gets the next task of its lane. Under an external order, its lanes (all their slots) go first;
// the width they leave goes to the other lanes in the built-in order (`fill: builtin`, each such
// slot a recorded `fill` fallback), or stays empty (`fill: none`). Pure.
import type { LaneOrder } from './plan-order.js';
import {
  isActive,
  type ChosenSlot,
  type Decision,
  type LaneScore,
  type LaneView,
  type SlotTask,
} from './plan-types.js';

export interface FillInput {
  view: readonly LaneView[];
  /** Per lane, its idle slots that were not masked. */
  idleSlots: ReadonlyMap<string, LaneView[]>;
  scores: ReadonlyMap<string, LaneScore>;
  /** Per lane, its task candidates: each slot taken takes the first one (changed in place). */
  spare: Record<string, SlotTask[]>;
  /** The width after the resource gate. */
  width: number;
  skipped: Decision['skipped'];
  fallbacks: Decision['fallbacks'];
}

export function fillSlots(f: FillInput, { order, fill, source }: LaneOrder): ChosenSlot[] {
  const chosen: ChosenSlot[] = [];
  const active = f.view.filter((v) => isActive(v.state));
  const exclusiveRunning = active.some((v) => !v.parallel);
  let othersActive = active.length > 0;
  let alone = false;
  const take = (s: LaneScore, slot: LaneView) => {
    const task = f.spare[s.lane]!.shift() ?? null;
    chosen.push({ laneId: slot.laneId, lane: s.lane, task, score: s.score, components: s.components });
  };
  /** One slot per lane of `lanes`, then their further slots; `positiveOnly`: a lane scoring ≤ 0 is not taken. */
  const place = (lanes: readonly LaneScore[], positiveOnly: boolean, onTake: (slot: LaneView) => void = () => {}) => {
    const extra: LaneView[] = [];
    for (const s of lanes) {
      const [first, ...rest] = f.idleSlots.get(s.lane)!;
      const why = alone
        ? 'a lane that runs alone was chosen'
        : positiveOnly && s.score <= 0
          ? `score ${s.score} ≤ 0 (only lanes worth running are taken)`
          : chosen.length >= f.width
            ? 'width reached'
            : exclusiveRunning
              ? 'a lane that runs alone is running'
              : !first!.parallel && othersActive
                ? 'runs alone; others are running'
                : null;
      if (why) {
        for (const v of f.idleSlots.get(s.lane)!) f.skipped.push({ laneId: v.laneId, reason: why });
        continue;
      }
      take(s, first!);
      onTake(first!);
      othersActive = true;
      if (!first!.parallel) alone = true;
      extra.push(...rest);
    }
    for (const slot of extra) {
      if (chosen.length < f.width && !alone) {
        take(f.scores.get(slot.lane)!, slot);
        onTake(slot);
      } else
        f.skipped.push({ laneId: slot.laneId, reason: alone ? 'a lane that runs alone was chosen' : 'width reached' });
    }
  };
  place(order, source === 'builtin');
  // The width an external order left, from the built-in order of the lanes it did not name.
  const ordered = chosen.length;
  place(fill, true, (slot) =>
    f.fallbacks.push({
      step: 'fill',
      reason: `${slot.laneId}: next in the built-in ranking; the selector's lanes took ${ordered} of ${f.width} slots (selector.fill: builtin)`,
    }),
  );
  return chosen;
}
