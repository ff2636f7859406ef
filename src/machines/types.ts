// The machines' shared types, in one file that imports nothing from the machines, so that the
// machines never import each other in a circle: the fleet's input, each lane's input and context,
// the selector's settings and context, and the events machines send each other (not the bus
// events, which are in events.ts).
import type { ArmConfig, LaneConfig } from '../config/types.js';
import type { ArmInfo, ArmPreference, TierBounds } from '../policy/arms.js';
import type { Fairness } from '../policy/fairness.js';
import type { GradedList } from '../policy/graded.js';
import type { Learning } from '../policy/learning.js';
import type { PlanSettings, SlotTask, TickInputs } from '../policy/plan-tick.js';
import type { Forgetting, Model } from '../policy/posterior.js';
import type { Task } from '../policy/task.js';

export interface Stamp {
  /** Position in the journal; gapless. */
  seq: number;
  /** Milliseconds since the epoch, read by the shell, never by a machine. */
  now: number;
  /** 32-bit seed for decisions that need randomness. */
  seed?: number;
}

export type Dispatch = 'tick' | 'respawn' | 'manual' | 'operator';

/** What the machines read of a lane's configuration (no prompts, paths or commands). */
export type FleetLane = Pick<
  LaneConfig,
  | 'name'
  | 'enabled'
  | 'concurrency'
  | 'cooldownMs'
  | 'respawnThreshold'
  | 'chainLimit'
  | 'timeoutMs'
  | 'targetShare'
  | 'parallel'
  | 'arms'
  | 'minTier'
  | 'maxTier'
  | 'prefer'
>;

/** What the machines read of an arm (no commands, environment or working directories). */
export type FleetArm = Pick<ArmConfig, 'id' | 'backend' | 'model' | 'tier' | 'cost'>;

export interface FleetInput {
  width: number;
  lanes: readonly FleetLane[];
  selection: SelectionSettings;
  /** The configured arms (tier, cost); arms a lane names but this omits count as tier 1, cost 0. */
  arms?: readonly FleetArm[];
  /** This host, when several hosts share one store (session ids carry it). */
  host?: string;
}

export interface LaneSpec {
  laneId: string;
  lane: string;
  enabled: boolean;
  parallel: boolean;
}

export interface SelectionSettings {
  model: Model;
  forgetting: Forgetting;
  plan: PlanSettings;
  /** Whether a task directory is configured (tasks arrive with TASKS_CHANGED). */
  tasks: boolean;
}

export interface SelectorInput {
  width: number;
  lanes: readonly LaneSpec[];
  selection: SelectionSettings;
}

export interface SelectorContext extends SelectorInput {
  learning: Learning;
  /** What was learned about arms: keys `lane|arm` and `*|arm` (policy/arms.ts). */
  arms: Learning;
  fairness: Fairness;
  tasks: Task[] | null;
  graded: GradedList;
  /** The current tick's order and spare tasks, kept so a denied slot can pivot. */
  tick: {
    seq: number;
    dispatch: Dispatch;
    order: string[];
    denied: string[];
    denials: Record<string, number>;
    spare: Record<string, SlotTask[]>;
  } | null;
  /**
   * Task claim keys a respawn must not take: those held elsewhere or completed at the last tick,
   * and those respawns found finished since (absent in older checkpoints).
   */
  taskBlocked?: string[];
}

export interface LaneInput {
  laneId: string;
  lane: string;
  slot: number;
  concurrency: number;
  cooldownMs: number;
  respawnThreshold: number;
  chainLimit: number;
  timeoutMs: number;
  arms: readonly string[];
  /** Tier and cost of each of the lane's arms, its tier bounds and preference (arm choice). */
  armInfo: readonly ArmInfo[];
  bounds: TierBounds;
  prefer: ArmPreference;
  /** The host, when several share one store: it is part of every session id. */
  host?: string;
}

export interface LaneContext extends LaneInput {
  sessionId: string | null;
  dispatch: Dispatch;
  parent: string | null;
  chain: number;
  /** The tick that dispatched the current session, so a denial can pivot within that tick. */
  tickSeq: number | null;
  claim: { key: string; token: number } | null;
  /** The task this session works on, and its claim once granted. */
  task: SlotTask | null;
  taskClaim: { key: string; token: number } | null;
  arm: string | null;
  grade: number | null;
  deadline: number | null;
  draining: boolean;
  /** Removed by a reload: starts nothing more (absent in older checkpoints). */
  retired?: boolean;
  /** Whether the task claim was given back when the session ended (not completed, not kept). */
  taskReleased?: boolean;
}

/** Sent by the fleet on a reload: the lane's new settings (its id, name and slot stay). */
export interface ConfigureEvent extends Stamp {
  type: 'CONFIGURE';
  input: LaneInput;
}

/** Sent by the fleet on a reload that removed the lane (or this slot of it). */
export interface RetireEvent extends Stamp {
  type: 'RETIRE';
}

/** Sent by the selector to an idle lane. */
export interface DispatchEvent extends Stamp {
  type: 'DISPATCH';
  dispatch: Dispatch;
  tickSeq: number | null;
  /** The task to claim and work on; absent or null for lane-level work. */
  task?: SlotTask | null;
  /** A respawn's: why it works on this task (it continues its parent's, or that one is done). */
  why?: string;
}

/** Sent by a lane to its parent when a task-backed session earned a respawn: which task next? */
export interface LaneRespawnEvent extends Stamp {
  type: 'LANE_RESPAWN';
  laneId: string;
  /** The task the session it follows worked on, and whether its claim was given back at its end. */
  task: SlotTask;
  released: boolean;
}

/** Raised by the lane itself when its slot is granted: the arm it will run on, or none. */
export interface ArmChosenEvent extends Stamp {
  type: 'ARM_CHOSEN';
  sessionId: string;
  decision: ArmDecision;
}

/** What a lane tells its parent when its claim was denied. */
export interface LaneDeniedEvent extends Stamp {
  type: 'LANE_DENIED';
  laneId: string;
  tickSeq: number | null;
  /** The key that was denied, and whether it was the task's (the lane slot was free). */
  key: string;
  task: boolean;
}

/**
 * The fleet's note to itself that the lanes waiting for a deadline took a TICK: sent before the
 * TICK goes to them, it waits in the fleet's queue until they have, and then the selector plans.
 */
export interface LanesTickedEvent extends Stamp {
  type: 'LANES_TICKED';
  seed: number;
  inputs: TickInputs;
  dispatch: Dispatch;
}

/**
 * What the selector sees of the lanes, handed over by the fleet (which owns the lane actors) with
 * SELECT, PIVOT and RESPAWN, as the lanes are when the selector takes the event: per lane actor,
 * its top-level state and the key of the task it works on.
 */
export type LaneSight = Readonly<Record<string, { state: string; task: string | null }>>;

/** Sent by the fleet to the selector once the lanes took a TICK: plan it. */
export interface SelectEvent extends Stamp {
  type: 'SELECT';
  seed: number;
  inputs: TickInputs;
  dispatch: Dispatch;
  sight: LaneSight;
}

/** Sent by the fleet to the selector when a lane slot was denied its claim: pivot within the tick. */
export interface PivotEvent extends Stamp {
  type: 'PIVOT';
  tickSeq: number | null;
  laneId: string;
  key: string;
  task: boolean;
  sight: LaneSight;
}

/** Sent by the fleet to the selector when a task-backed session earned a respawn: on which task? */
export interface RespawnEvent extends Stamp {
  type: 'RESPAWN';
  laneId: string;
  task: SlotTask;
  released: boolean;
  sight: LaneSight;
}

/** Sent by the fleet to the selector on a reload: the width, the lane slots, the selection settings. */
export interface SelectorConfigureEvent extends Stamp {
  type: 'CONFIGURE';
  width: number;
  lanes: readonly LaneSpec[];
  selection: SelectionSettings;
}

export interface ArmDecision {
  arm: string | null;
  /** Why each arm of the lane that could not run was left out. */
  excluded: Record<string, string>;
  sample: number | null;
  source: 'lane' | 'global' | null;
}

export interface LaneStatus {
  laneId: string;
  lane: string;
  slot: number;
  /** Top-level state: idle, claiming, running, cooldown, respawn, waiting. */
  state: string;
  /** Full state path, e.g. running.grading. */
  path: string;
  context: LaneContext;
}
