/*
 * Selector machine: answers a tick with DISPATCH to the chosen lane slots.
 *
 *   ready --SELECT-->  ready   plan the tick (policy/plan-tick.ts) from the lanes' current states
 *                              and the tick's seed; DISPATCH the chosen slots; record the decision
 *         --PIVOT-->   ready   a slot of this tick was denied its claim: dispatch the next-ranked
 *                              idle lane of the same tick instead (a denial is a routing event)
 *
 * It reads the lane actors' snapshots through the system registry when an event arrives, so the
 * view is the one after the lanes handled the same event (a cooldown that just ended is idle).
 * No clock, no I/O: `now`, `seq` and `seed` come with the events.
 */
import { enqueueActions, setup, type AnyActorRef } from 'xstate';
import { pivotTarget, planTick, type LaneView } from '../policy/plan-tick.js';
import type { RecordDecisionIntent } from './intents.js';
import type { DispatchEvent } from './lane.js';

export interface LaneSpec {
  laneId: string;
  lane: string;
  enabled: boolean;
  parallel: boolean;
}

export interface SelectorInput {
  width: number;
  lanes: readonly LaneSpec[];
}

export interface SelectorContext extends SelectorInput {
  /** The current tick's ranking, kept so a denied slot can pivot to the next lane. */
  tick: { seq: number; ranked: string[]; denied: string[] } | null;
}

export type SelectorEvent =
  | { type: 'SELECT'; seq: number; now: number; seed: number }
  | { type: 'PIVOT'; seq: number; now: number; tickSeq: number | null; laneId: string };

/** The top-level state name of a lane snapshot: running.grading → running. */
export function topState(value: unknown): string {
  return typeof value === 'string' ? value : Object.keys(value as object)[0] ?? 'unknown';
}

function laneViews(lanes: readonly LaneSpec[], system: { get: (id: string) => AnyActorRef | undefined }): LaneView[] {
  return lanes.map((l) => ({
    laneId: l.laneId,
    lane: l.lane,
    enabled: l.enabled,
    parallel: l.parallel,
    state: topState(system.get(l.laneId)?.getSnapshot().value),
  }));
}

export const selectorMachine = setup({
  types: {
    context: {} as SelectorContext,
    input: {} as SelectorInput,
    events: {} as SelectorEvent,
  },
  actions: {
    recordDecision: (_, _params: RecordDecisionIntent) => {},
  },
}).createMachine({
  id: 'selector',
  context: ({ input }) => ({ ...input, tick: null }),
  initial: 'ready',
  states: {
    ready: {
      on: {
        SELECT: {
          actions: enqueueActions(({ context, event, system, enqueue }) => {
            const view = laneViews(context.lanes, system);
            const plan = planTick(view, event.seed, context.width);
            enqueue.assign({ tick: { seq: event.seq, ranked: plan.ranked.map((r) => r.laneId), denied: [] } });
            enqueue({
              type: 'recordDecision',
              params: { type: 'recordDecision', kind: 'tick', seq: event.seq, seed: event.seed, width: context.width, chosen: plan.chosen, ranked: plan.ranked, skipped: plan.skipped },
            });
            for (const laneId of plan.chosen) {
              const dispatch: DispatchEvent = { type: 'DISPATCH', seq: event.seq, now: event.now, dispatch: 'tick', tickSeq: event.seq };
              enqueue.sendTo(system.get(laneId)!, dispatch);
            }
          }),
        },
        PIVOT: {
          guard: ({ context, event }) => context.tick !== null && event.tickSeq === context.tick.seq,
          actions: enqueueActions(({ context, event, system, enqueue }) => {
            const tick = context.tick!;
            const denied = [...tick.denied, event.laneId];
            enqueue.assign({ tick: { ...tick, denied } });
            const view = laneViews(context.lanes, system);
            const next = pivotTarget(view, tick.ranked, denied);
            const skipped = denied.map((laneId) => ({ laneId, reason: 'claim denied this tick' }));
            enqueue({
              type: 'recordDecision',
              params: {
                type: 'recordDecision',
                kind: 'pivot',
                seq: event.seq,
                seed: null,
                width: 1,
                chosen: next ? [next] : [],
                ranked: [],
                skipped: next ? skipped : [...skipped, { laneId: '*', reason: 'no idle lane left in this tick' }],
              },
            });
            if (next) {
              const dispatch: DispatchEvent = { type: 'DISPATCH', seq: event.seq, now: event.now, dispatch: 'tick', tickSeq: tick.seq };
              enqueue.sendTo(system.get(next)!, dispatch);
            }
          }),
        },
      },
    },
  },
});
