// Every event that enters the runtime. Each one is stamped on the bus (seq, now, and a seed where
// a decision needs randomness) and journaled before any actor sees it, so a replay of the journal
// through the machines reproduces every decision.
// At the end, the events each machine takes (LaneEvent, SelectorEvent): bus events, and those the
// machines send each other (types.ts), which are never journaled.
import type {
  ArmChosenEvent,
  ConfigureEvent,
  DispatchEvent,
  FleetInput,
  PivotEvent,
  RespawnEvent,
  RetireEvent,
  SelectEvent,
  SelectorConfigureEvent,
  Stamp,
} from './types.js';

export type { Dispatch, Stamp } from './types.js';
import type { Fairness } from '../policy/fairness.js';
import type { GradedList } from '../policy/graded.js';
import type { Learning } from '../policy/learning.js';
import type { QuotaReport } from '../policy/availability.js';
import type { Outcome } from '../policy/outcome.js';
import type { TickInputs } from '../policy/plan-tick.js';
import type { Task } from '../policy/task.js';

/**
 * A scheduled wake-up asking the selector for work. `inputs` holds what the shell gathered for
 * the decision (load and memory, signals, claims held elsewhere, the external selector's verdict).
 */
export interface TickEvent {
  type: 'TICK';
  reason: 'start' | 'timer' | 'manual' | 'operator';
  inputs?: TickInputs;
}
/** A deadline (cooldown end, retry) passed. */
export interface WakeEvent {
  type: 'WAKE';
}
/** Stop dispatching; let running sessions finish. */
export interface DrainEvent {
  type: 'DRAIN';
  reason: string;
}

export interface ClaimGrantedEvent {
  type: 'CLAIM_GRANTED';
  laneId: string;
  sessionId: string;
  key: string;
  slot: number;
  token: number;
  expiresAt: number;
  /**
   * Arms (or backends) that cannot run now, with the reason (quota, crash loop, …), as the shell
   * knew them when the claim was granted; the lane chooses among the rest.
   */
  blockedArms?: Record<string, string>;
}
export interface ClaimDeniedEvent {
  type: 'CLAIM_DENIED';
  laneId: string;
  sessionId: string;
  key: string;
  holder: string | null;
  expiresAt: number | null;
  reason: string;
}
/** A held claim could not be renewed: someone else may hold it now. */
export interface ClaimLostEvent {
  type: 'CLAIM_LOST';
  laneId: string;
  sessionId: string;
  key: string;
  reason: string;
}

export interface SessionStartedEvent {
  type: 'SESSION_STARTED';
  laneId: string;
  sessionId: string;
  pid: number;
  arm: string;
}
export interface SessionExitedEvent {
  type: 'SESSION_EXITED';
  laneId: string;
  sessionId: string;
  exitCode: number | null;
  signal: string | null;
  outcome: Outcome;
  durationMs: number;
  reason: string | null;
  /** Claims the agent took itself that were released as it ended (not those it kept). */
  releasedClaims?: string[];
  /** False when the agent never became a process (it could not start, or the runtime stopped first). */
  started?: false;
}
export interface SessionGradedEvent {
  type: 'SESSION_GRADED';
  laneId: string;
  sessionId: string;
  grade: number | null;
  source: 'session' | 'grader' | 'default' | 'none';
  dimensions: Record<string, number> | null;
  /** The arm that ran the session (the one credited). */
  arm?: string;
  /** Set when the grade must not be learned: the agent never started (infrastructure, not quality). */
  censored?: string;
}
/**
 * A grade given after the fact (`lanekeeper grade`). It replaces the session's earlier grade in
 * what was learned; a session is never learned twice.
 */
export interface SessionRegradedEvent {
  type: 'SESSION_REGRADED';
  laneId: string;
  sessionId: string;
  grade: number;
  dimensions: Record<string, number> | null;
  arm: string | null;
  /** The stored late grade this came from; marked applied once this event is handled. */
  lateGradeId?: number;
}
/** A grade file that could not be used; the session stays ungraded and the reason is kept. */
export interface GradeRejectedEvent {
  type: 'GRADE_REJECTED';
  laneId: string;
  sessionId: string;
  reason: string;
}

/**
 * What the selector had learned before this start (from the store), so the journal holds it.
 * `discarded` says why the stored evidence was not used (it was kept with another model).
 */
export interface SelectorRestoredEvent {
  type: 'SELECTOR_RESTORED';
  learning: Learning;
  /** Share deficits and recent starts; absent: the selector keeps its own (the fleet's posteriors before a tick). */
  fairness?: Fairness;
  arms?: Learning;
  /** Recently learned sessions and their grades, so a late grade replaces rather than adds. */
  graded?: GradedList;
  discarded?: string;
}
/** The task directory changed: the whole valid task list, and the files that could not be used. */
export interface TasksChangedEvent {
  type: 'TASKS_CHANGED';
  tasks: Task[];
  problems: { file: string; message: string }[];
}
/** The external selector broke its contract; the built-in selector decides the tick that follows. */
export interface SelectorContractViolationEvent {
  type: 'SELECTOR_CONTRACT_VIOLATION';
  reason: string;
  durationMs: number;
}

/** A backend's quota probe ran: its report, or why there is none (journaled; no machine reads it). */
export interface QuotaObservedEvent {
  type: 'QUOTA_OBSERVED';
  backend: string;
  report: QuotaReport | null;
  reason: string | null;
}

/**
 * A runtime started: the fleet it hosts as the machines see it (no prompts, commands or paths),
 * and the version of the machines, so replay can rebuild the same actors from the journal alone.
 * The fleet actor does not take it; the shell builds a fresh host for it.
 */
export interface RuntimeStartedEvent {
  type: 'RUNTIME_STARTED';
  fleet: FleetInput;
  machines: string;
  mode: 'service' | 'once' | 'operator';
}

/**
 * A runtime started and goes on from the fleet the journal holds: every start does, whether the run
 * before it drained (`stop: 'drain'`) or died without a drain (`'crash'`: kill -9, a crash, power
 * loss). The actors go on from where the journal left them (the last checkpoint and every event
 * after it, those never taken too); what they were waiting for is asked for again: a lane that was
 * claiming claims again (the same holder, so a claim already granted is granted again), and a drain
 * the last runtime had begun is over. `after` is the last seq of the run before.
 */
export interface RuntimeRecoveredEvent {
  type: 'RUNTIME_RECOVERED';
  after: number;
  machines: string;
  mode: 'service' | 'once' | 'operator';
  /** How the run before ended (absent in journals written before every start resumed: a crash). */
  stop?: 'drain' | 'crash';
}
/**
 * A session a dead runtime left running was found alive (its pid and start time match) and is
 * watched to its end by this one. Its lane stays running; its exit code will not be known.
 */
export interface SessionAdoptedEvent {
  type: 'SESSION_ADOPTED';
  laneId: string;
  sessionId: string;
  pid: number;
}

/**
 * The configuration was reloaded (SIGHUP, an edit of the file, or a restart after a crash with a
 * changed file): the fleet as the machines now see it. Lanes that stay take their new settings for
 * what they start next (a running session keeps its own); new lanes (or slots) are added; removed
 * ones are retired: they start nothing more and leave once their session is over.
 */
export interface ConfigReloadedEvent {
  type: 'CONFIG_RELOADED';
  fleet: FleetInput;
  source: string;
  /** The configuration's top-level sections that changed, for people. */
  changes: string[];
}
/** A reload was refused: the configuration is invalid or changes what needs a restart. Journaled only. */
export interface ConfigRejectedEvent {
  type: 'CONFIG_REJECTED';
  source: string;
  reason: string;
}

export type BusEvent =
  | RuntimeStartedEvent
  | ConfigReloadedEvent
  | ConfigRejectedEvent
  | RuntimeRecoveredEvent
  | SessionAdoptedEvent
  | TickEvent
  | QuotaObservedEvent
  | SelectorRestoredEvent
  | TasksChangedEvent
  | SelectorContractViolationEvent
  | WakeEvent
  | DrainEvent
  | ClaimGrantedEvent
  | ClaimDeniedEvent
  | ClaimLostEvent
  | SessionStartedEvent
  | SessionExitedEvent
  | SessionGradedEvent
  | SessionRegradedEvent
  | GradeRejectedEvent;

export type StampedEvent = BusEvent & Stamp;

/** Event types whose handling draws random numbers, so the bus stamps them with a seed. */
export const SEEDED_EVENTS: ReadonlySet<BusEvent['type']> = new Set(['TICK', 'CLAIM_GRANTED']);

/**
 * The seed of an event that must carry one. A missing seed is a bug in whatever built the event
 * (the bus stamps every seeded type); inventing one would make the decision unreplayable.
 */
export function seedOf(event: { type: string; seq: number; seed?: number }): number {
  if (event.seed === undefined)
    throw new Error(
      `${event.type} #${event.seq} has no seed; every ${[...SEEDED_EVENTS].join(' and ')} is stamped with one`,
    );
  return event.seed;
}

/**
 * A grant as the selector hands it to its lane (the fleet routes every CLAIM_GRANTED through the
 * selector): the bus event with what the selector has learned about arms, for the arm choice. A
 * machine event, never journaled: the journal holds the grant as it came. Without `arms` (a lane
 * on its own) the lane chooses from no evidence.
 */
export type HandedGrantEvent = ClaimGrantedEvent & Stamp & { arms?: Learning };

export type LaneEvent =
  | DispatchEvent
  | ConfigureEvent
  | RetireEvent
  | ArmChosenEvent
  | HandedGrantEvent
  | ((
      | TickEvent
      | WakeEvent
      | DrainEvent
      | RuntimeRecoveredEvent
      | ClaimDeniedEvent
      | ClaimLostEvent
      | SessionStartedEvent
      | SessionExitedEvent
      | SessionGradedEvent
      | GradeRejectedEvent
    ) &
      Stamp);

/** What the selector takes: the fleet's hand-overs, and the bus events it learns from as they came. */
export type SelectorEvent =
  | SelectEvent
  | PivotEvent
  | RespawnEvent
  | SelectorConfigureEvent
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
