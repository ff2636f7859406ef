/*
 * Fleet machine: the root actor. It owns the selector and one lane actor per lane slot, each
 * registered in the system under its lane id ("code", or "code.2" for a second slot).
 *
 *   active   --TICK-->   lanes waiting for a deadline see the tick first, then the selector plans it:
 *                        the fleet sends itself LANES_TICKED before it hands the TICK to the lanes,
 *                        so that note waits in its queue until they have taken it (and comes before
 *                        anything they send back); on it, the selector gets SELECT
 *            --WAKE-->   lanes waiting for a deadline check it
 *            --lane events (claim denials and losses, session exits, grades)--> the lane they name;
 *                        session starts, exits and grades go to the selector (shares, learning), and
 *                        a session start to its lane only when that lane waits for a deadline
 *            --CLAIM_GRANTED--> the selector, which hands it to the lane with its arm learning
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
 * Of the machines, only the fleet reads actor snapshots, and only its children's: which lanes wait
 * for a deadline, and what the selector sees of the lanes (LaneSight), handed over with SELECT,
 * PIVOT and RESPAWN.
 * The selector and the lanes only send each other events.
 *
 * Events for a lane id that is not configured are ignored here; the shell records them.
 */
import { assertEvent, enqueueActions, sendTo, setup, type AnyActorRef, type SnapshotFrom } from 'xstate';
import type { LaneConfig } from '../config/types.js';
import { seedOf, type SelectorEvent, type StampedEvent } from './events.js';
import { laneMachine, waitsForDeadline } from './lane.js';
import { selectorMachine } from './selector.js';
import { topState } from './state-value.js';
import type {
  ConfigureEvent,
  FleetArm,
  FleetInput,
  FleetLane,
  LaneDeniedEvent,
  LaneInput,
  LaneRespawnEvent,
  LaneSight,
  LaneSpec,
  LanesTickedEvent,
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

export type FleetEvent = StampedEvent | LaneDeniedEvent | LaneRespawnEvent | LanesTickedEvent;

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

/**
 * What the selector sees of the lanes, read here where the lane actors are children: each one's
 * top-level state and the key of the task it works on.
 */
function sightOf(context: FleetContext, system: { get: (id: string) => AnyActorRef | undefined }): LaneSight {
  const sight: Record<string, { state: string; task: string | null }> = {};
  for (const id of laneActors(context)) {
    const snap: SnapshotFrom<typeof laneMachine> | undefined = system.get(id)?.getSnapshot();
    if (snap) sight[id] = { state: topState(snap.value), task: snap.context.task?.key ?? null };
  }
  return sight;
}

const LANE_EVENTS = ['CLAIM_DENIED', 'CLAIM_LOST', 'GRADE_REJECTED'] as const;
/** What the selector takes as it comes (a grant it hands on to its lane). */
const SELECTOR_EVENTS = [
  'CLAIM_GRANTED',
  'SESSION_STARTED',
  'SESSION_EXITED',
  'SESSION_GRADED',
  'SESSION_REGRADED',
  'TASKS_CHANGED',
  'SELECTOR_RESTORED',
] as const;

export const fleetMachine = setup({
  types: {
    context: {} as FleetContext,
    input: {} as FleetInput,
    events: {} as FleetEvent,
  },
  actors: { lane: laneMachine, selector: selectorMachine },
  actions: {
    spawnActors: enqueueActions(({ context, enqueue }) => {
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
      assertEvent(event, 'CONFIG_RELOADED');
      const { fleet } = event;
      const slots = slotsOf(fleet.lanes, fleet.arms, fleet.host);
      const kept = new Set(slots.map((s) => s.laneId));
      const before = laneActors(context);
      const retired = [...new Set(before)].filter((id) => !kept.has(id));
      enqueue.assign({ width: fleet.width, selection: fleet.selection, slots, retired });
      for (const s of slots) {
        // A slot retired by an earlier reload and configured again comes back as it is.
        const actor = system.get(s.laneId);
        const configure: ConfigureEvent = { type: 'CONFIGURE', input: s.input, seq: event.seq, now: event.now };
        if (actor) enqueue.sendTo(actor, configure);
        else enqueue.spawnChild('lane', { id: s.laneId, systemId: s.laneId, input: s.input });
      }
      const retire: RetireEvent = { type: 'RETIRE', seq: event.seq, now: event.now };
      for (const id of retired) if (!(context.retired ?? []).includes(id)) enqueue.sendTo(system.get(id), retire);
      const lanes: LaneSpec[] = slots.map(({ input: _input, ...spec }) => spec);
      const selector: SelectorEvent = {
        type: 'CONFIGURE',
        seq: event.seq,
        now: event.now,
        width: fleet.width,
        selection: fleet.selection,
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
    // Sent to the fleet itself before the TICK goes to the lanes, so it waits in the fleet's queue
    // until they have taken it, and comes before anything they send back.
    selectAfterLanes: sendTo(
      ({ self }) => self,
      ({ event }): LanesTickedEvent => {
        assertEvent(event, 'TICK');
        // An operator's tick dispatches back to back; every other tick is a tick.
        return {
          type: 'LANES_TICKED',
          seq: event.seq,
          now: event.now,
          seed: seedOf(event),
          inputs: event.inputs ?? {},
          dispatch: event.reason === 'operator' ? 'operator' : 'tick',
        };
      },
    ),
    select: sendTo('selector', ({ context, event, system }): SelectorEvent => {
      assertEvent(event, 'LANES_TICKED');
      return { ...event, type: 'SELECT', sight: sightOf(context, system) };
    }),
    pivot: sendTo('selector', ({ context, event, system }): SelectorEvent => {
      assertEvent(event, 'LANE_DENIED');
      const { seq, now, tickSeq, laneId, key, task } = event;
      return { type: 'PIVOT', seq, now, tickSeq, laneId, key, task, sight: sightOf(context, system) };
    }),
    respawn: sendTo('selector', ({ context, event, system }): SelectorEvent => {
      assertEvent(event, 'LANE_RESPAWN');
      const { seq, now, laneId, task, released } = event;
      return { type: 'RESPAWN', seq, now, laneId, task, released, sight: sightOf(context, system) };
    }),
    // Grants, session starts and grades, task lists, restored learning: the selector takes them as they are.
    toSelector: sendTo('selector', ({ event }) => {
      assertEvent(event, [...SELECTOR_EVENTS]);
      return event;
    }),
  },
}).createMachine({
  id: 'fleet',
  context: ({ input }) => ({
    width: input.width,
    selection: input.selection,
    slots: slotsOf(input.lanes, input.arms, input.host),
    retired: [],
  }),
  entry: 'spawnActors',
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
    LANE_RESPAWN: { actions: 'respawn' },
    // While draining too: a start that goes on from a drained fleet applies a changed
    // configuration before the fleet resumes, so nothing is decided under the old one.
    CONFIG_RELOADED: { actions: 'reconfigure' },
  },
  states: {
    active: {
      on: {
        // The waiting lanes take the tick first; the selector plans it once they have.
        TICK: { actions: ['selectAfterLanes', 'toWaitingLanes'] },
        LANES_TICKED: { actions: 'select' },
        // A slot of a tick was denied: the selector pivots within the tick.
        LANE_DENIED: { actions: 'pivot' },
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
