// The shapes of a tick's plan (plan-tick.ts): what the shell and the machines hand the planner
// (the lane slots' view, the tick's gathered inputs, the settings) and the decision it hands back,
// with every score component and every skip reason. Kept apart from the steps so the machines,
// the journal and the CLI can name them without reading the planner. Pure: types and one predicate.
import type { Fairness, FairnessSettings } from './fairness.js';
import type { Learning } from './learning.js';
import type { GateResult, GateThresholds, ResourceReading } from './resource-gate.js';
import type { Task } from './task.js';

export interface LaneView {
  laneId: string;
  lane: string;
  /** The lane machine's top-level state: idle, claiming, running, cooldown, respawn, waiting. */
  state: string;
  enabled: boolean;
  /** May run beside other lanes. */
  parallel: boolean;
}

/** What an external selector's payload said, once validated (policy/selector-contract.ts). */
export type ExternalVerdict =
  | {
      ok: true;
      order: { lane: string; step: string; reason: string }[];
      task: { id: string; lane: string; claim: string } | null;
      /** Entries of the payload that named no configured lane. */
      ignored?: { value: string; step: string; reason: string }[];
    }
  | { ok: false; reason: string };

/** Figures the shell gathered for this tick; journaled with it so a replay decides the same. */
export interface TickInputs {
  resources?: ResourceReading | null;
  /** External per-lane signals (e.g. lesson effectiveness), or why they could not be read. */
  signals?: { values: Record<string, number> } | { error: string } | null;
  /** Claim keys held elsewhere at the tick (lane slots all taken, tasks claimed). */
  blocked?: string[];
  external?: ExternalVerdict | null;
  /** At most this many slots this tick (operator mode: the sessions it has left to start). */
  maxWidth?: number;
}

export interface PlanSettings {
  fairness: FairnessSettings;
  signalWeight: number;
  gate: GateThresholds;
  /** Lanes taken, in order, when an external payload named no lane that can run. */
  allowlist: readonly string[];
  /**
   * What takes the width an external order leaves: the other lanes in the built-in order, or
   * nothing. Absent only in fleets journaled before the setting existed, which kept to the
   * external order; so they replay as they ran.
   */
  fill?: 'builtin' | 'none';
}

export interface SlotTask {
  id: string;
  key: string;
  path: string | null;
  tier: 1 | 2 | null;
}

export interface Components {
  sample: number;
  mean: number;
  evidence: number;
  deficit: number;
  monotony: number;
  neglect: number;
  /** Plateau rules that fire for the lane ('monotony', 'neglected'), surfaced even at weight 0. */
  plateau: string[];
  /** Sessions in a row the lane took last, and its share of the plateau window. */
  streak: number;
  windowShare: number;
  signal: number;
  tier: number;
  priority: number | null;
  /** The lane's tasks passed over because their claim is held or completed (claim_blocked). */
  claimBlocked: string[];
}

export interface LaneScore {
  lane: string;
  score: number;
  /** A seeded draw that breaks ties (lanes with no evidence all sample 1). */
  tiebreak: number;
  components: Components;
}

export interface ChosenSlot {
  laneId: string;
  lane: string;
  task: SlotTask | null;
  score: number;
  components: Components;
}

export interface Decision {
  /** The width after the resource gate. */
  width: number;
  gate: GateResult;
  source: 'builtin' | 'external';
  /** Each step away from the preferred source of order, with its reason. */
  fallbacks: { step: string; reason: string }[];
  chosen: ChosenSlot[];
  /** Available lanes in the order they were considered. */
  ranked: LaneScore[];
  skipped: { laneId: string; reason: string }[];
  /** Per lane, the task candidates left after this tick's assignments (for pivots). */
  spare: Record<string, SlotTask[]>;
}

export interface PlanInput {
  view: readonly LaneView[];
  width: number;
  seed: number;
  now: number;
  learning: Learning;
  fairness: Fairness;
  settings: PlanSettings;
  /** null when no task directory is configured. */
  tasks: readonly Task[] | null;
  inputs: TickInputs;
}

const ACTIVE = new Set(['claiming', 'running', 'respawn']);
/** A lane slot that holds (or is getting) a session: it takes up width. */
export const isActive = (state: string): boolean => ACTIVE.has(state);
