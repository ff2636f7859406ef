/*
 * Selector machine: decides which lane slots a tick dispatches, and learns from graded sessions.
 *
 *   ready --SELECT-->            ready  plan the tick (policy/plan-tick.ts) from the lanes' current
 *                                       states, what was learned, the task supply and the tick's
 *                                       inputs; DISPATCH the chosen slots; record the decision
 *         --PIVOT-->             ready  a slot of this tick was denied a claim: a denied task tries
 *                                       the lane's next task once, then the next lane of the tick
 *         --RESPAWN-->           ready  a task-backed session earned a respawn: DISPATCH it on its
 *                                       task while that is not done, else on the lane's next task
 *                                       (policy/respawn-task.ts)
 *         --CLAIM_GRANTED-->     ready  hand the grant to its lane, with what was learned about
 *                                       arms (the lane chooses its arm from it)
 *         --SESSION_GRADED-->    ready  learn the grade, once per session
 *         --SESSION_STARTED-->   ready  count the start for target shares and plateau
 *         --TASKS_CHANGED-->     ready  the new task list
 *         --SELECTOR_RESTORED--> ready  what an earlier run had learned
 *         --CONFIGURE-->         ready  a reload: the width, lanes and selection settings; what
 *                                       was learned stays (it starts afresh only if the model changed)
 *
 * Learning is keyed by lane name, not slot: two slots of one lane share one posterior. The selector
 * reads no other actor: what it sees of the lanes (LaneSight: each one's state and task) comes
 * with SELECT, PIVOT and RESPAWN from the fleet, read after the lanes took the same event (a
 * cooldown that a tick just ended is idle). It sends DISPATCH to lanes by their system id.
 * No clock, no I/O: `now`, `seq`, `seed` and the tick's inputs come with the events.
 */
import { enqueueActions, setup } from 'xstate';
import { emptyFairness, noteStart } from '../policy/fairness.js';
import { applyGrade, gradeLearned } from '../policy/graded.js';
import { noteOutcome } from '../policy/noop-backoff.js';
import { emptyLearning } from '../policy/learning.js';
import { isActive, pivotTarget, planTick, type LaneView, type SlotTask, type TickInputs } from '../policy/plan-tick.js';
import { respawnTask } from '../policy/respawn-task.js';
import { isLaneKey } from '../policy/task-tiers.js';
import type { Forgetting } from '../policy/posterior.js';
import type {
  HandedGrantEvent,
  SelectorRestoredEvent,
  SessionExitedEvent,
  SessionGradedEvent,
  SessionRegradedEvent,
  SessionStartedEvent,
  TasksChangedEvent,
} from './events.js';
import type { RecordDecisionIntent, SaveLearningIntent } from './intents.js';
import type {
  Dispatch,
  DispatchEvent,
  LaneSight,
  LaneSpec,
  SelectionSettings,
  SelectorContext,
  SelectorInput,
  Stamp,
} from './types.js';

export { topState } from './state-value.js';
export type { LaneSpec, SelectionSettings, SelectorContext, SelectorInput } from './types.js';

export type SelectorEvent =
  | {
      type: 'SELECT';
      seq: number;
      now: number;
      seed: number;
      inputs: TickInputs;
      dispatch: Dispatch;
      sight: LaneSight;
    }
  | {
      type: 'PIVOT';
      seq: number;
      now: number;
      tickSeq: number | null;
      laneId: string;
      key: string;
      task: boolean;
      sight: LaneSight;
    }
  | { type: 'RESPAWN'; seq: number; now: number; laneId: string; task: SlotTask; released: boolean; sight: LaneSight }
  | {
      type: 'CONFIGURE';
      seq: number;
      now: number;
      width: number;
      lanes: readonly LaneSpec[];
      selection: SelectionSettings;
    }
  | HandedGrantEvent
  | ((
      | SessionGradedEvent
      | SessionRegradedEvent
      | SessionStartedEvent
      | SessionExitedEvent
      | TasksChangedEvent
      | SelectorRestoredEvent
    ) &
      Stamp);

/** The planner's view of the lanes: what the selector knows of each, and its state as the fleet saw it. */
function laneViews(lanes: readonly LaneSpec[], sight: LaneSight): LaneView[] {
  return lanes.map((l) => ({
    laneId: l.laneId,
    lane: l.lane,
    enabled: l.enabled,
    parallel: l.parallel,
    state: sight[l.laneId]!.state,
  }));
}

/**
 * Arms forget like lanes, without the change detector: an arm's global belief mixes lanes that
 * grade it differently, and the detector would read that mix as a change and reset it.
 */
const armForgetting = (f: Forgetting): Forgetting => ({ ...f, detector: null });

type PivotEvent = Extract<SelectorEvent, { type: 'PIVOT' }>;
/** The decision recorded for a denied slot: where it went, or why nowhere. */
const pivotRecord = (
  event: PivotEvent,
  tickSeq: number | null,
  chosen: { laneId: string; lane: string; task: SlotTask | null }[],
  reason: string,
) => ({
  type: 'recordDecision' as const,
  params: {
    type: 'recordDecision' as const,
    kind: 'pivot' as const,
    seq: event.seq,
    seed: null,
    tickSeq,
    denied: { laneId: event.laneId, key: event.key },
    chosen,
    reason,
  },
});

const laneOf = (context: SelectorContext, laneId: string) => context.lanes.find((l) => l.laneId === laneId)?.lane;
const enabledLanes = (context: SelectorContext) => [
  ...new Set(context.lanes.filter((l) => l.enabled).map((l) => l.lane)),
];
const save = (
  cause: SaveLearningIntent['cause'],
  lane: string,
): { type: 'saveLearning'; params: SaveLearningIntent } => ({
  type: 'saveLearning',
  params: { type: 'saveLearning', cause, lane },
});

export const selectorMachine = setup({
  types: {
    context: {} as SelectorContext,
    input: {} as SelectorInput,
    events: {} as SelectorEvent,
  },
  actions: {
    recordDecision: (_, _params: RecordDecisionIntent) => {},
    saveLearning: (_, _params: SaveLearningIntent) => {},
  },
}).createMachine({
  id: 'selector',
  context: ({ input }) => ({
    ...input,
    learning: emptyLearning(input.selection.model, input.selection.forgetting),
    arms: emptyLearning(input.selection.model, armForgetting(input.selection.forgetting)),
    fairness: emptyFairness(),
    tasks: input.selection.tasks ? [] : null,
    graded: [],
    tick: null,
  }),
  initial: 'ready',
  states: {
    ready: {
      on: {
        SELECT: {
          actions: enqueueActions(({ context, event, system, enqueue }) => {
            const view = laneViews(context.lanes, event.sight);
            const decision = planTick({
              view,
              width: context.width,
              seed: event.seed,
              now: event.now,
              learning: context.learning,
              fairness: context.fairness,
              settings: context.selection.plan,
              tasks: context.tasks,
              inputs: event.inputs,
            });
            const { spare, ...recorded } = decision;
            enqueue.assign({
              tick: {
                seq: event.seq,
                dispatch: event.dispatch,
                order: decision.ranked.map((r) => r.lane),
                denied: [],
                denials: {},
                spare,
              },
              taskBlocked: (event.inputs.blocked ?? []).filter((k) => !isLaneKey(k)),
            });
            enqueue({
              type: 'recordDecision',
              params: { type: 'recordDecision', kind: 'tick', seq: event.seq, seed: event.seed, ...recorded },
            });
            for (const c of decision.chosen) {
              const dispatch: DispatchEvent = {
                type: 'DISPATCH',
                seq: event.seq,
                now: event.now,
                dispatch: event.dispatch,
                tickSeq: event.seq,
                task: c.task,
              };
              enqueue.sendTo(system.get(c.laneId)!, dispatch);
            }
          }),
        },
        PIVOT: [
          {
            guard: ({ context, event }) => context.tick !== null && event.tickSeq === context.tick.seq,
            actions: enqueueActions(({ context, event, system, enqueue }) => {
              const tick = context.tick!;
              const lane = laneOf(context, event.laneId)!;
              const denials = { ...tick.denials, [lane]: (tick.denials[lane] ?? 0) + 1 };
              // A lane leaves the tick when its slot was denied, or at its second task denial.
              const denied = !event.task || denials[lane]! >= 2 ? [...tick.denied, lane] : tick.denied;
              const spare = { ...tick.spare, [lane]: (tick.spare[lane] ?? []).filter((t) => t.key !== event.key) };
              const next = pivotTarget(
                laneViews(context.lanes, event.sight),
                tick.order,
                denied,
                { lane, laneId: event.laneId, taskDenied: event.task, denials: denials[lane]! },
                spare,
              );
              if (next?.task) spare[next.lane] = spare[next.lane]!.filter((t) => t.key !== next.task!.key);
              enqueue.assign({ tick: { ...tick, denied, denials, spare } });
              enqueue(
                pivotRecord(
                  event,
                  tick.seq,
                  next ? [{ laneId: next.laneId, lane: next.lane, task: next.task }] : [],
                  next ? next.reason : 'no idle lane left in this tick',
                ),
              );
              if (next) {
                const dispatch: DispatchEvent = {
                  type: 'DISPATCH',
                  seq: event.seq,
                  now: event.now,
                  dispatch: tick.dispatch,
                  tickSeq: tick.seq,
                  task: next.task,
                };
                enqueue.sendTo(system.get(next.laneId)!, dispatch);
              }
            }),
          },
          {
            // A respawn's denial, or one from an older tick: nothing to pivot within, but say so.
            actions: enqueueActions(({ context, event, enqueue }) =>
              enqueue(
                pivotRecord(
                  event,
                  event.tickSeq,
                  [],
                  event.tickSeq === null
                    ? 'not dispatched by a tick (a respawn): the slot waits for the next tick'
                    : `tick ${event.tickSeq} is over (tick ${context.tick?.seq ?? 'none'} is current): the slot waits for the next tick`,
                ),
              ),
            ),
          },
        ],
        RESPAWN: {
          // A task-backed respawn: the parent's task while it is not done, else the lane's next.
          actions: enqueueActions(({ context, event, system, enqueue }) => {
            const lane = laneOf(context, event.laneId);
            const target = system.get(event.laneId);
            if (!lane || !target) return;
            // Tasks other slots are on (claiming or running), held or completed at the last tick, or
            // found finished by a respawn since: not the next one for this slot.
            const busy = new Set([
              ...(context.taskBlocked ?? []),
              ...context.lanes
                .filter((l) => l.laneId !== event.laneId)
                .map((l) => event.sight[l.laneId])
                .filter((seen) => seen && isActive(seen.state) && seen.task)
                .map((seen) => seen!.task!),
            ]);
            const { task, why } = respawnTask(context.tasks, lane, event.task, event.released, busy);
            if (!event.released)
              enqueue.assign({ taskBlocked: [...new Set([...(context.taskBlocked ?? []), event.task.key])] });
            const dispatch: DispatchEvent = {
              type: 'DISPATCH',
              seq: event.seq,
              now: event.now,
              dispatch: 'respawn',
              tickSeq: null,
              task,
              why,
            };
            enqueue.sendTo(target, dispatch);
          }),
        },
        // Every grant reaches its lane through here, with what was learned about arms for its choice.
        CLAIM_GRANTED: {
          actions: enqueueActions(({ context, event, system, enqueue }) => {
            const lane = system.get(event.laneId);
            const handed: HandedGrantEvent = { ...event, arms: context.arms };
            if (lane) enqueue.sendTo(lane, handed);
          }),
        },
        SESSION_GRADED: {
          // A censored grade (the agent never started) teaches nothing about the lane or the arm.
          guard: ({ context, event }) =>
            event.grade !== null &&
            !event.censored &&
            gradeLearned(context.graded, event.sessionId) === undefined &&
            laneOf(context, event.laneId) !== undefined,
          actions: enqueueActions(({ context, event, enqueue }) => {
            const lane = laneOf(context, event.laneId)!;
            enqueue.assign(
              applyGrade(context, { session: event.sessionId, lane, arm: event.arm ?? null, grade: event.grade! }),
            );
            enqueue(save('grade', lane));
          }),
        },
        SESSION_EXITED: {
          // Consecutive noops per lane, for the no-op backoff; a productive session resets them.
          guard: ({ context, event }) => laneOf(context, event.laneId) !== undefined,
          actions: enqueueActions(({ context, event, enqueue }) => {
            const lane = laneOf(context, event.laneId)!;
            const noops = {
              ...(context.fairness.noops ?? {}),
              [lane]: noteOutcome(context.fairness.noops?.[lane] ?? 0, event.outcome),
            };
            enqueue.assign({ fairness: { ...context.fairness, noops } });
          }),
        },
        SESSION_REGRADED: {
          // A late grade: the one learned before (if any) is taken out, the new one learned.
          guard: ({ context, event }) => laneOf(context, event.laneId) !== undefined,
          actions: enqueueActions(({ context, event, enqueue }) => {
            const lane = laneOf(context, event.laneId)!;
            enqueue.assign(
              applyGrade(context, {
                session: event.sessionId,
                lane,
                arm: event.arm,
                grade: event.grade,
                regrade: true,
              }),
            );
            enqueue(save('grade', lane));
          }),
        },
        SESSION_STARTED: {
          guard: ({ context, event }) => laneOf(context, event.laneId) !== undefined,
          actions: enqueueActions(({ context, event, enqueue }) => {
            const fairness = noteStart(
              context.fairness,
              laneOf(context, event.laneId)!,
              event.now,
              context.selection.plan.fairness,
              enabledLanes(context),
            );
            enqueue.assign({ fairness });
            enqueue(save('start', laneOf(context, event.laneId)!));
          }),
        },
        TASKS_CHANGED: {
          guard: ({ context }) => context.tasks !== null,
          actions: enqueueActions(({ event, enqueue }) => enqueue.assign({ tasks: event.tasks })),
        },
        CONFIGURE: {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const { selection } = event;
            // Evidence kept under one model means nothing to another.
            const fresh = selection.model !== context.selection.model;
            enqueue.assign({
              width: event.width,
              lanes: event.lanes,
              selection,
              learning: fresh
                ? emptyLearning(selection.model, selection.forgetting)
                : { ...context.learning, forgetting: selection.forgetting },
              arms: fresh
                ? emptyLearning(selection.model, armForgetting(selection.forgetting))
                : { ...context.arms, forgetting: armForgetting(selection.forgetting) },
            });
          }),
        },
        SELECTOR_RESTORED: {
          // The settings of this run (model, forgetting) win over those the evidence was kept with.
          actions: enqueueActions(({ context, event, enqueue }) =>
            enqueue.assign({
              learning: { ...event.learning, model: context.learning.model, forgetting: context.learning.forgetting },
              arms: event.arms
                ? { ...event.arms, model: context.arms.model, forgetting: context.arms.forgetting }
                : context.arms,
              fairness: event.fairness ?? context.fairness,
              graded: event.graded ?? context.graded,
            }),
          ),
        },
      },
    },
  },
});
