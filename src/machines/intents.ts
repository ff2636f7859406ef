// The side effects a machine may ask for. Machines only name them (with data); the running
// service binds each to an adapter, and replay binds them to a recorder and compares.
import type { Dispatch } from './events.js';

export interface RequestClaimIntent {
  type: 'requestClaim';
  laneId: string;
  lane: string;
  sessionId: string;
  key: string;
  slots: number;
}
export interface ReleaseClaimIntent { type: 'releaseClaim'; laneId: string; sessionId: string; key: string; token: number }
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
  timeoutMs: number;
}
/** Stop a running session early (its lane slot was lost): SIGTERM, then SIGKILL after the grace. */
export interface StopSessionIntent { type: 'stopSession'; laneId: string; sessionId: string; reason: string }
export interface DecisionCandidate { laneId: string; lane: string; score: number; state: string }
export interface RecordDecisionIntent {
  type: 'recordDecision';
  kind: 'tick' | 'pivot';
  seq: number;
  seed: number | null;
  width: number;
  chosen: string[];
  ranked: DecisionCandidate[];
  skipped: { laneId: string; reason: string }[];
}
export interface LaneNoteIntent {
  type: 'laneNote';
  laneId: string;
  note: 'cooldown' | 'respawn' | 'denied' | 'no_arm' | 'drained';
  detail: Record<string, unknown>;
}

export type Intent = RequestClaimIntent | ReleaseClaimIntent | StartSessionIntent | StopSessionIntent | RecordDecisionIntent | LaneNoteIntent;
