// The side effects a machine may ask for. Machines only name them (with data); the running
// service binds each to an adapter, and replay binds them to a recorder and compares.
import type { Decision, SlotTask } from '../policy/plan-tick.js';
import type { Dispatch } from './types.js';

export interface RequestClaimIntent {
  type: 'requestClaim';
  laneId: string;
  lane: string;
  sessionId: string;
  key: string;
  slots: number;
}
export interface ReleaseClaimIntent {
  type: 'releaseClaim';
  laneId: string;
  sessionId: string;
  key: string;
  token: number;
}
export interface StartSessionIntent {
  type: 'startSession';
  laneId: string;
  lane: string;
  sessionId: string;
  arm: string;
  dispatch: Dispatch;
  parent: string | null;
  chain: number;
  claim: { key: string; token: number };
  /** The task the session works on, or null for lane-level work; and the task claim it holds. */
  task: SlotTask | null;
  taskClaim: { key: string; token: number } | null;
  timeoutMs: number;
}
/** Stop a running session early (its lane slot was lost): SIGTERM, then SIGKILL after the grace. */
export interface StopSessionIntent {
  type: 'stopSession';
  laneId: string;
  sessionId: string;
  reason: string;
}
/** A tick's decision (plan-tick.ts), or a pivot within a tick after a denied claim. */
export type RecordDecisionIntent = { type: 'recordDecision'; seq: number; seed: number | null } & (
  | ({ kind: 'tick' } & Omit<Decision, 'spare'>)
  | {
      kind: 'pivot';
      tickSeq: number | null;
      denied: { laneId: string; key: string };
      chosen: { laneId: string; lane: string; task: SlotTask | null }[];
      reason: string;
    }
);
/**
 * The selector's learning changed (a grade, a session start): the shell keeps the selector's
 * current learning in the store. The intent names only the cause, so the journal of effects stays
 * small; the state itself is rebuilt by replay and read from the actor by the shell.
 */
export interface SaveLearningIntent {
  type: 'saveLearning';
  cause: 'grade' | 'start';
  lane: string;
}
/** What a lane notes for the log (nothing acts on it), each kind with its own details. */
export type LaneNoteIntent = { type: 'laneNote'; laneId: string } & (
  | { note: 'cooldown'; detail: { sessionId: string | null; until: number | null; grade: number | null } }
  | {
      note: 'respawn';
      detail: {
        sessionId: string | null;
        parent: string | null;
        chain: number;
        chainLimit: number;
        task?: string | null;
        why?: string;
      };
    }
  | { note: 'denied'; detail: { sessionId: string | null; key: string; holder: string | null; reason: string } }
  | { note: 'no_arm'; detail: { until: number | null; excluded: Record<string, string> } }
  | {
      note: 'arm';
      detail: {
        sessionId: string | null;
        arm: string | null;
        sample: number | null;
        source: string | null;
        excluded: Record<string, string>;
      };
    }
  | { note: 'drained'; detail: { sessionId: string | null } }
);

export type Intent =
  | RequestClaimIntent
  | ReleaseClaimIntent
  | StartSessionIntent
  | StopSessionIntent
  | RecordDecisionIntent
  | SaveLearningIntent
  | LaneNoteIntent;
