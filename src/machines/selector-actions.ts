// The selector machine's named actions and guards (its chart is in selector.ts). Each action takes
// one event, narrowed with assertEvent; what the lanes look like comes with the event (LaneSight,
// from the fleet), what was learned from the context. Intents are only named: recordDecision and
// saveLearning are bound by the host.
import { assertEvent, setup } from 'xstate';
import { noteStart } from '../policy/fairness.js';
import { applyGrade, gradeLearned } from '../policy/graded.js';
import { emptyLearning } from '../policy/learning.js';
import { noteOutcome } from '../policy/noop-backoff.js';
import { isActive, pivotTarget, planTick, type LaneView, type SlotTask } from '../policy/plan-tick.js';
import type { Forgetting } from '../policy/posterior.js';
import { respawnTask } from '../policy/respawn-task.js';
import { isLaneKey } from '../policy/task-tiers.js';
import type { HandedGrantEvent, SelectorEvent } from './events.js';
import type { RecordDecisionIntent, SaveLearningIntent } from './intents.js';
import type { DispatchEvent, LaneSight, LaneSpec, PivotEvent, SelectorContext, SelectorInput } from './types.js';

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
export const armForgetting = (f: Forgetting): Forgetting => ({ ...f, detector: null });

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

/**
 * Task claim keys a respawn of `laneId` must not take: held elsewhere or completed at the last
 * tick, found finished by a respawn since, or worked on by another slot (claiming or running).
 */
function busyTasks(context: SelectorContext, laneId: string, sight: LaneSight): Set<string> {
  return new Set([
    ...(context.taskBlocked ?? []),
    ...context.lanes
      .filter((l) => l.laneId !== laneId)
      .map((l) => sight[l.laneId])
      .filter((seen) => seen && isActive(seen.state) && seen.task)
      .map((seen) => seen!.task!),
  ]);
}

/** The intents the selector names (the host binds them); the actions below enqueue them. */
const named = setup({
  types: {
    context: {} as SelectorContext,
    input: {} as SelectorInput,
    events: {} as SelectorEvent,
  },
  actions: {
    recordDecision: (_, _params: RecordDecisionIntent) => {},
    saveLearning: (_, _params: SaveLearningIntent) => {},
  },
});

export const selectorSetup = named.extend({
  actions: {
    // Plans the tick, keeps its order and spare tasks for pivots, records it, dispatches the chosen.
    planTick: named.enqueueActions(({ context, event, system, enqueue }) => {
      assertEvent(event, 'SELECT');
      const decision = planTick({
        view: laneViews(context.lanes, event.sight),
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
    // A slot of the current tick was denied: the lane's next task, or the tick's next lane.
    pivot: named.enqueueActions(({ context, event, system, enqueue }) => {
      assertEvent(event, 'PIVOT');
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
      if (!next) return;
      const dispatch: DispatchEvent = {
        type: 'DISPATCH',
        seq: event.seq,
        now: event.now,
        dispatch: tick.dispatch,
        tickSeq: tick.seq,
        task: next.task,
      };
      enqueue.sendTo(system.get(next.laneId)!, dispatch);
    }),
    // A respawn's denial, or one from an older tick: nothing to pivot within, but say so.
    recordNoPivot: named.enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'PIVOT');
      enqueue(
        pivotRecord(
          event,
          event.tickSeq,
          [],
          event.tickSeq === null
            ? 'not dispatched by a tick (a respawn): the slot waits for the next tick'
            : `tick ${event.tickSeq} is over (tick ${context.tick?.seq ?? 'none'} is current): the slot waits for the next tick`,
        ),
      );
    }),
    // A task-backed respawn: the parent's task while it is not done, else the lane's next.
    dispatchRespawn: named.enqueueActions(({ context, event, system, enqueue }) => {
      assertEvent(event, 'RESPAWN');
      const lane = laneOf(context, event.laneId);
      const target = system.get(event.laneId);
      if (!lane || !target) return;
      const busy = busyTasks(context, event.laneId, event.sight);
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
    // The grant goes on to its lane with what was learned about arms, for its arm choice.
    handOverGrant: named.enqueueActions(({ context, event, system, enqueue }) => {
      assertEvent(event, 'CLAIM_GRANTED');
      const lane = system.get(event.laneId);
      const handed: HandedGrantEvent = { ...event, arms: context.arms };
      if (lane) enqueue.sendTo(lane, handed);
    }),
    learnGrade: named.enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'SESSION_GRADED');
      const lane = laneOf(context, event.laneId)!;
      enqueue.assign(
        applyGrade(context, { session: event.sessionId, lane, arm: event.arm ?? null, grade: event.grade! }),
      );
      enqueue(save('grade', lane));
    }),
    // A late grade: the one learned before (if any) is taken out, the new one learned.
    learnRegrade: named.enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'SESSION_REGRADED');
      const lane = laneOf(context, event.laneId)!;
      enqueue.assign(
        applyGrade(context, { session: event.sessionId, lane, arm: event.arm, grade: event.grade, regrade: true }),
      );
      enqueue(save('grade', lane));
    }),
    // Consecutive noops per lane, for the no-op backoff; a productive session resets them.
    countOutcome: named.enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'SESSION_EXITED');
      const lane = laneOf(context, event.laneId)!;
      const noops = {
        ...(context.fairness.noops ?? {}),
        [lane]: noteOutcome(context.fairness.noops?.[lane] ?? 0, event.outcome),
      };
      enqueue.assign({ fairness: { ...context.fairness, noops } });
    }),
    // A start counts for target shares and plateau.
    countStart: named.enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'SESSION_STARTED');
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
    takeTasks: named.enqueueActions(({ event, enqueue }) => {
      assertEvent(event, 'TASKS_CHANGED');
      enqueue.assign({ tasks: event.tasks });
    }),
    configure: named.enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'CONFIGURE');
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
    // The settings of this run (model, forgetting) win over those the evidence was kept with.
    restore: named.enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'SELECTOR_RESTORED');
      enqueue.assign({
        learning: { ...event.learning, model: context.learning.model, forgetting: context.learning.forgetting },
        arms: event.arms
          ? { ...event.arms, model: context.arms.model, forgetting: context.arms.forgetting }
          : context.arms,
        fairness: event.fairness ?? context.fairness,
        graded: event.graded ?? context.graded,
      });
    }),
  },
  guards: {
    // The denial is of a slot the current tick dispatched.
    inCurrentTick: ({ context, event }) => {
      assertEvent(event, 'PIVOT');
      return context.tick !== null && event.tickSeq === context.tick.seq;
    },
    // A censored grade (the agent never started) teaches nothing about the lane or the arm.
    gradeTeaches: ({ context, event }) => {
      assertEvent(event, 'SESSION_GRADED');
      return (
        event.grade !== null &&
        !event.censored &&
        gradeLearned(context.graded, event.sessionId) === undefined &&
        laneOf(context, event.laneId) !== undefined
      );
    },
    // The event names a lane slot the selector plans for (not one a reload removed).
    knownLane: ({ context, event }) => {
      assertEvent(event, ['SESSION_EXITED', 'SESSION_REGRADED', 'SESSION_STARTED']);
      return laneOf(context, event.laneId) !== undefined;
    },
    tasksConfigured: ({ context }) => context.tasks !== null,
  },
});
