/*
 * Fleet machine: the root actor. It owns the selector and one lane actor per lane slot, each
 * registered in the system under its lane id ("code", or "code.2" for a second slot).
 *
 *   active   --TICK-->   lanes waiting for a deadline see the tick first, then the selector plans it
 *            --WAKE-->   lanes waiting for a deadline check it
 *            --lane events (claims, session exits, grades)--> the lane they name; session starts,
 *                        exits and grades go to the selector (shares, learning), and a session
 *                        start to its lane only when that lane waits for a deadline
 *            --TASKS_CHANGED, SELECTOR_RESTORED--> the selector
 *            --LANE_DENIED (from a lane)--> the selector pivots within the tick
 *   either   --LANE_RESPAWN (from a lane)--> the selector says what a task-backed respawn works on
 *            --DRAIN-->  draining: lanes stop starting sessions; ticks plan nothing
 *   draining --(same routing; no SELECT)
 *   either   --CONFIG_RELOADED--> the new width and selection settings; each lane slot still
 *                        configured gets its new settings (CONFIGURE), a new one is spawned, one no
 *                        longer configured is retired (RETIRE: it starts nothing more; it still gets
 *                        its session's events and the WAKEs until it is idle)
 *   either   --RUNTIME_RECOVERED--> active: a runtime started and goes on from this fleet (after a
 *                        drain or a crash); every lane is told (a lane that was claiming claims
 *                        again, the drain of the last runtime ends)
 *
 * Events for a lane id that is not configured are ignored here; the shell records them.
 */
import { enqueueActions, sendTo, setup } from 'xstate';
import type { LaneConfig } from '../config/types.js';
import { seedOf, type ConfigReloadedEvent, type StampedEvent, type TickEvent } from './events.js';
import { laneMachine, waitsForDeadline } from './lane.js';
import { selectorMachine, type SelectorEvent } from './selector.js';
import type {
  ConfigureEvent,
  FleetArm,
  FleetInput,
  FleetLane,
  LaneDeniedEvent,
  LaneInput,
  LaneRespawnEvent,
  LaneSpec,
  RetireEvent,
  SelectionSettings,
} from './types.js';

export type { FleetArm, FleetInput, FleetLane } from './types.js';

export interface FleetContext {
  width: number;
  selection: SelectionSettings;
  slots: readonly (LaneSpec & { input: LaneInput })[];
  /** Lane slots a reload removed; their actors live on, retired (absent in older checkpoints). */
  retired?: readonly string[];
}

export type FleetEvent = StampedEvent | LaneDeniedEvent | LaneRespawnEvent;

/** Lane ids of a lane's slots: "code" for one slot; "code", "code.2", … for more. */
export function laneIds(lane: Pick<LaneConfig, 'name' | 'concurrency'>): string[] {
  return Array.from({ length: lane.concurrency }, (_, i) => (i === 0 ? lane.name : `${lane.name}.${i + 1}`));
}

export function slotsOf(
  lanes: readonly FleetLane[],
  arms: readonly FleetArm[] = [],
  host?: string,
): FleetContext['slots'] {
  const info = (id: string) => {
    const a = arms.find((x) => x.id === id);
    return a
      ? { id, backend: a.backend, model: a.model, tier: a.tier, cost: a.cost }
      : { id, backend: id.split(':')[0]!, model: id.split(':')[1] ?? id, tier: 1, cost: 0 };
  };
  return lanes.flatMap((l) =>
    laneIds(l).map((laneId, i) => ({
      laneId,
      lane: l.name,
      enabled: l.enabled,
      parallel: l.parallel,
      input: {
        laneId,
        lane: l.name,
        slot: i + 1,
        concurrency: l.concurrency,
        cooldownMs: l.cooldownMs,
        respawnThreshold: l.respawnThreshold,
        chainLimit: l.chainLimit,
        timeoutMs: l.timeoutMs,
        arms: l.arms,
        armInfo: l.arms.map(info),
        bounds: {
          ...(l.minTier === null ? {} : { minTier: l.minTier }),
          ...(l.maxTier === null ? {} : { maxTier: l.maxTier }),
        },
        prefer: l.prefer,
        ...(host ? { host } : {}),
      },
    })),
  );
}

/** Every lane actor: the configured slots, then those a reload retired. */
const laneActors = (context: FleetContext): string[] => [
  ...context.slots.map((s) => s.laneId),
  ...(context.retired ?? []),
];

const LANE_EVENTS = ['CLAIM_DENIED', 'CLAIM_LOST', 'GRADE_REJECTED'] as const;

export const fleetMachine = setup({
  types: {
    context: {} as FleetContext,
    input: {} as FleetInput,
    events: {} as FleetEvent,
  },
  actors: { lane: laneMachine, selector: selectorMachine },
  actions: {
    toAllLanes: enqueueActions(({ context, event, system, enqueue }) => {
      for (const id of laneActors(context)) enqueue.sendTo(system.get(id), event);
    }),
    // A TICK or WAKE only moves a lane that waits for a deadline; the others would take it and do
    // nothing, at the cost of a step each (most of a tick's cost in a fleet of mostly busy lanes).
    toWaitingLanes: enqueueActions(({ context, event, system, enqueue }) => {
      for (const id of laneActors(context)) {
        const lane = system.get(id);
        if (lane && waitsForDeadline(lane.getSnapshot().value)) enqueue.sendTo(lane, event);
      }
    }),
    reconfigure: enqueueActions(({ context, event, system, enqueue }) => {
      const e = event as ConfigReloadedEvent & StampedEvent;
      const slots = slotsOf(e.fleet.lanes, e.fleet.arms, e.fleet.host);
      const kept = new Set(slots.map((s) => s.laneId));
      const before = laneActors(context);
      const retired = [...new Set(before)].filter((id) => !kept.has(id));
      enqueue.assign({ width: e.fleet.width, selection: e.fleet.selection, slots, retired });
      for (const s of slots) {
        // A slot retired by an earlier reload and configured again comes back as it is.
        const actor = system.get(s.laneId);
        const configure: ConfigureEvent = { type: 'CONFIGURE', input: s.input, seq: e.seq, now: e.now };
        if (actor) enqueue.sendTo(actor, configure);
        else enqueue.spawnChild('lane', { id: s.laneId, systemId: s.laneId, input: s.input });
      }
      const retire: RetireEvent = { type: 'RETIRE', seq: e.seq, now: e.now };
      for (const id of retired) if (!(context.retired ?? []).includes(id)) enqueue.sendTo(system.get(id), retire);
      const lanes: LaneSpec[] = slots.map(({ input: _input, ...spec }) => spec);
      const selector: SelectorEvent = {
        type: 'CONFIGURE',
        seq: e.seq,
        now: e.now,
        width: e.fleet.width,
        selection: e.fleet.selection,
        lanes,
      };
      enqueue.sendTo(system.get('selector'), selector);
    }),
    toNamedLane: enqueueActions(({ event, system, enqueue }) => {
      const target = 'laneId' in event ? system.get(event.laneId) : undefined;
      if (target) enqueue.sendTo(target, event);
    }),
    // A lane has no transition on SESSION_STARTED (the shell reports it for the journal and the
    // selector); like a TICK, it can only move a lane that waits for a deadline.
    toNamedLaneIfWaiting: enqueueActions(({ event, system, enqueue }) => {
      const target = 'laneId' in event ? system.get(event.laneId) : undefined;
      if (target && waitsForDeadline(target.getSnapshot().value)) enqueue.sendTo(target, event);
    }),
    select: sendTo('selector', ({ event }) => {
      const e = event as TickEvent & StampedEvent;
      // An operator's tick dispatches back to back; every other tick is a tick.
      return {
        type: 'SELECT' as const,
        seq: e.seq,
        now: e.now,
        seed: seedOf(e),
        inputs: e.inputs ?? {},
        dispatch: e.reason === 'operator' ? ('operator' as const) : ('tick' as const),
      };
    }),
    // Session starts and grades, task lists, restored learning: the selector takes them as they are.
    toSelector: sendTo(
      'selector',
      ({ event }) =>
        event as Extract<
          StampedEvent,
          {
            type:
              | 'CLAIM_GRANTED'
              | 'SESSION_STARTED'
              | 'SESSION_EXITED'
              | 'SESSION_GRADED'
              | 'SESSION_REGRADED'
              | 'TASKS_CHANGED'
              | 'SELECTOR_RESTORED';
          }
        >,
    ),
  },
}).createMachine({
  id: 'fleet',
  context: ({ input }) => ({
    width: input.width,
    selection: input.selection,
    slots: slotsOf(input.lanes, input.arms, input.host),
    retired: [],
  }),
  entry: enqueueActions(({ context, enqueue }) => {
    enqueue.spawnChild('selector', {
      id: 'selector',
      systemId: 'selector',
      input: {
        width: context.width,
        selection: context.selection,
        lanes: context.slots.map(({ input: _input, ...spec }) => spec),
      },
    });
    for (const s of context.slots) enqueue.spawnChild('lane', { id: s.laneId, systemId: s.laneId, input: s.input });
  }),
  initial: 'active',
  on: {
    WAKE: { actions: 'toWaitingLanes' },
    ...Object.fromEntries(LANE_EVENTS.map((t) => [t, { actions: 'toNamedLane' }])),
    // A grant goes to its lane by way of the selector, which hands over what it learned of arms.
    CLAIM_GRANTED: { actions: 'toSelector' },
    SESSION_STARTED: { actions: ['toNamedLaneIfWaiting', 'toSelector'] },
    SESSION_EXITED: { actions: ['toNamedLane', 'toSelector'] },
    SESSION_GRADED: { actions: ['toNamedLane', 'toSelector'] },
    SESSION_REGRADED: { actions: 'toSelector' },
    TASKS_CHANGED: { actions: 'toSelector' },
    SELECTOR_RESTORED: { actions: 'toSelector' },
    RUNTIME_RECOVERED: { target: '.active', actions: 'toAllLanes' },
    // A task-backed session earned a respawn: the selector (which has the task list) says on what.
    LANE_RESPAWN: {
      actions: sendTo('selector', ({ event }) => {
        const e = event as LaneRespawnEvent;
        return {
          type: 'RESPAWN' as const,
          seq: e.seq,
          now: e.now,
          laneId: e.laneId,
          task: e.task,
          released: e.released,
        };
      }),
    },
    // While draining too: a start that goes on from a drained fleet applies a changed
    // configuration before the fleet resumes, so nothing is decided under the old one.
    CONFIG_RELOADED: { actions: 'reconfigure' },
  },
  states: {
    active: {
      on: {
        TICK: { actions: ['toWaitingLanes', 'select'] },
        LANE_DENIED: {
          actions: sendTo('selector', ({ event }) => {
            const e = event as LaneDeniedEvent;
            return {
              type: 'PIVOT' as const,
              seq: e.seq,
              now: e.now,
              tickSeq: e.tickSeq,
              laneId: e.laneId,
              key: e.key,
              task: e.task,
            };
          }),
        },
        DRAIN: { target: 'draining', actions: 'toAllLanes' },
      },
    },
    draining: {
      on: {
        TICK: { actions: 'toWaitingLanes' },
      },
    },
  },
});
