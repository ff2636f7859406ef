// Hosts the fleet actor: binds the machines' named actions to one intent sink, delivers stamped
// events one at a time and hands back the intents each produced. The running service executes
// those intents through adapters; replay only compares them. Nothing here does I/O.
import { createHash } from 'node:crypto';
import { createActor, type Actor, type InspectionEvent, type Snapshot } from 'xstate';
import type { StampedEvent } from '../machines/events.js';
import { fleetMachine, type FleetArm, type FleetLane } from '../machines/fleet.js';
import type { Intent } from '../machines/intents.js';
import { laneMachine } from '../machines/lane.js';
import type { LaneContext, LaneStatus } from '../machines/types.js';

export type { LaneStatus } from '../machines/types.js';
import { selectorMachine, topState, type SelectionSettings, type SelectorContext } from '../machines/selector.js';
import type { Fairness } from '../policy/fairness.js';
import type { GradedList } from '../policy/graded.js';
import type { Learning } from '../policy/learning.js';

/** What one event did to the fleet: its intents, the lanes after it, the lane paths it changed (and from what). */
export interface Step {
  intents: Intent[];
  lanes: LaneStatus[];
  changed: Record<string, string>;
  from: Map<string, string>;
}

export interface HostOptions {
  width: number;
  lanes: readonly FleetLane[];
  selection: SelectionSettings;
  arms?: readonly FleetArm[];
  /** This host, when several share one store (session ids carry it). */
  host?: string;
  /** XState inspection events of every actor (the inspector feed). */
  inspect?: (event: InspectionEvent) => void;
  /** A checkpoint (`persist()`) to resume from instead of fresh idle lanes. */
  snapshot?: unknown;
  /** Another lane machine (tests: an altered machine must diverge in replay). */
  laneMachine?: typeof laneMachine;
}

/** A digest of the machines' definitions (states, transitions, named guards and actions). */
const DEFINITIONS = createHash('sha256')
  .update(JSON.stringify([fleetMachine.definition, laneMachine.definition, selectorMachine.definition]))
  .digest('hex')
  .slice(0, 12);

/**
 * Definitions rewritten without changing what the machines do keep the version of those they
 * replace, so checkpoints and runs recorded before still resume (and replay without a note):
 * digest → the version it goes on. An entry needs the proof that the machines are the same: the
 * same intents in the same order and the same lane states for the same journal, and the same
 * states and context shapes, so that a snapshot of either restores in the other
 * (test/machines/checkpoint-compat.test.ts). Any later change of the definitions gives another
 * digest, so an entry never covers more than the rewrite it was made for.
 */
const SAME_MACHINES: Readonly<Record<string, string>> = {
  // Issue 17: no sideways reads between the machines (hand-overs), named actions, no casts.
  '39bd1cf19dd6': '5762bd374621',
};

/**
 * The machines' version: the digest of their definitions, or the version they go on
 * (SAME_MACHINES). A checkpoint is only resumed by the machines that wrote it.
 */
export const MACHINES_VERSION = SAME_MACHINES[DEFINITIONS] ?? DEFINITIONS;

export class FleetHost {
  private readonly actor: Actor<typeof fleetMachine>;
  private pending: Intent[] = [];
  private failure: unknown = null;
  /** Each lane's state path after the last step, to tell which lanes an event changed. */
  private readonly paths = new Map<string, string>();

  constructor(opts: HostOptions) {
    const sink = (_: unknown, intent: Intent) => {
      this.pending.push(intent);
    };
    const machine = fleetMachine.provide({
      actors: {
        lane: (opts.laneMachine ?? laneMachine).provide({
          actions: { requestClaim: sink, releaseClaim: sink, startSession: sink, stopSession: sink, laneNote: sink },
        }),
        selector: selectorMachine.provide({ actions: { recordDecision: sink, saveLearning: sink } }),
      },
    });
    this.actor = createActor(machine, {
      input: {
        width: opts.width,
        lanes: opts.lanes,
        arms: opts.arms,
        selection: opts.selection,
        ...(opts.host ? { host: opts.host } : {}),
      },
      ...(opts.snapshot ? { snapshot: opts.snapshot as Snapshot<unknown> } : {}),
      ...(opts.inspect ? { inspect: opts.inspect } : {}),
    });
    this.actor.subscribe({ error: (err) => (this.failure = err) });
    this.actor.start();
    // Entry actions of a fresh fleet name no intents worth running; a restored one runs none.
    this.pending = [];
    for (const l of this.lanes()) this.paths.set(l.laneId, l.path);
  }

  /**
   * Delivers one event: its intents, the lanes after it, and the lane state paths it changed
   * (laneId → path, with `from` the path before), which the journal records and replay compares.
   */
  step(event: StampedEvent): Step {
    const intents = this.deliver(event);
    const lanes = this.lanes();
    const changed: Record<string, string> = {};
    const from = new Map<string, string>();
    for (const l of lanes) {
      // A lane slot a reload added has no path before: it changed from nothing.
      const before = this.paths.get(l.laneId) ?? 'none';
      if (before === l.path) continue;
      changed[l.laneId] = l.path;
      from.set(l.laneId, before);
      this.paths.set(l.laneId, l.path);
    }
    return { intents, lanes, changed, from };
  }

  /** The whole actor system as plain JSON, for a checkpoint (restore with `snapshot`). */
  persist(): unknown {
    return this.actor.getPersistedSnapshot();
  }

  /** Delivers one event; returns the intents it produced, in order. */
  deliver(event: StampedEvent): Intent[] {
    this.actor.send(event);
    if (this.failure) throw this.failure;
    const out = this.pending;
    this.pending = [];
    return out;
  }

  /**
   * The lane slots: those configured, then those a reload removed that still have a session going
   * (once idle, a retired slot is gone from view).
   */
  get laneIds(): string[] {
    const snap = this.actor.getSnapshot();
    const children = snap.children as Record<string, { getSnapshot(): { value: unknown } } | undefined>;
    const retired = (snap.context.retired ?? []).filter((id) => topState(children[id]?.getSnapshot().value) !== 'idle');
    return [...snap.context.slots.map((s) => s.laneId), ...retired];
  }

  lanes(): LaneStatus[] {
    const children = this.actor.getSnapshot().children as Record<
      string,
      { getSnapshot(): { value: unknown; context: LaneContext } } | undefined
    >;
    return this.laneIds.map((id) => {
      const snap = children[id]!.getSnapshot();
      return {
        laneId: id,
        lane: snap.context.lane,
        slot: snap.context.slot,
        state: topState(snap.value),
        path: statePath(snap.value),
        context: snap.context,
      };
    });
  }

  /** What the selector has learned so far (posteriors, share deficits, recent starts). */
  selectorMemory(): { learning: Learning; fairness: Fairness; arms: Learning; graded: GradedList } {
    const selector = (
      this.actor.getSnapshot().children as Record<string, { getSnapshot(): { context: SelectorContext } } | undefined>
    ).selector!;
    const { learning, fairness, arms, graded } = selector.getSnapshot().context;
    return { learning, fairness, arms, graded };
  }

  /** The earliest deadline any lane waits for, or null. */
  nextDeadline(lanes: readonly LaneStatus[] = this.lanes()): number | null {
    let min: number | null = null;
    for (const l of lanes) {
      const d = l.context.deadline;
      // A cooldown does not end while the fleet drains (the next start goes on from it): waking
      // for it would wake again at once, for as long as the drain lasts.
      if (l.state === 'cooldown' && l.context.draining) continue;
      if (d !== null && (l.state === 'cooldown' || l.state === 'waiting') && (min === null || d < min)) min = d;
    }
    return min;
  }

  stop(): void {
    this.actor.stop();
  }
}

function statePath(value: unknown): string {
  if (typeof value === 'string') return value;
  const [k, v] = Object.entries(value as Record<string, unknown>)[0]!;
  return `${k}.${statePath(v)}`;
}
