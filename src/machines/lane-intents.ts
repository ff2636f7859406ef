// The intents the lane machine names, built from its context and the event at hand: claim
// requests and releases, the session's start and stop, and the notes the shell logs. Each is an
// action object for the chart in lane.ts (the named action and its params). No I/O; the machine
// only names them.
import { assertEvent } from 'xstate';
import { laneKey } from '../policy/task-tiers.js';
import type { LaneEvent } from './events.js';
import type {
  LaneNoteIntent,
  ReleaseClaimIntent,
  RequestClaimIntent,
  StartSessionIntent,
  StopSessionIntent,
} from './intents.js';
import type { LaneContext } from './types.js';

type Args = { context: LaneContext; event: LaneEvent };

/** The release of a claim the context holds: the lane slot (`claim`) or the task's. */
export const releaseOf =
  (which: 'claim' | 'taskClaim') =>
  ({ context }: { context: LaneContext }): ReleaseClaimIntent => ({
    type: 'releaseClaim',
    laneId: context.laneId,
    sessionId: context.sessionId!,
    key: context[which]!.key,
    token: context[which]!.token,
  });
export const releaseSlot = { type: 'releaseClaim' as const, params: releaseOf('claim') };
export const releaseTask = { type: 'releaseClaim' as const, params: releaseOf('taskClaim') };

/** The start of the session a running lane holds (also what crash recovery adopts or closes). */
export const startIntent = (context: LaneContext): StartSessionIntent => ({
  type: 'startSession',
  laneId: context.laneId,
  lane: context.lane,
  sessionId: context.sessionId!,
  arm: context.arm!,
  dispatch: context.dispatch,
  parent: context.parent,
  chain: context.chain,
  claim: context.claim!,
  task: context.task,
  taskClaim: context.taskClaim,
  timeoutMs: context.timeoutMs,
});
export const startSession = {
  type: 'startSession' as const,
  params: ({ context }: { context: LaneContext }) => startIntent(context),
};

/** A claim on `key` for the current session. */
export const claimRequest = (context: LaneContext, key: string, slots: number): RequestClaimIntent => ({
  type: 'requestClaim',
  laneId: context.laneId,
  lane: context.lane,
  sessionId: context.sessionId!,
  key,
  slots,
});
/** The lane slot: one of the lane's `concurrency` slots. */
export const requestSlot = {
  type: 'requestClaim' as const,
  params: ({ context }: { context: LaneContext }) => claimRequest(context, laneKey(context.lane), context.concurrency),
};
/** The session's task: one holder at a time. */
export const requestTask = {
  type: 'requestClaim' as const,
  params: ({ context }: { context: LaneContext }) => claimRequest(context, context.task!.key, 1),
};

/** A claim of the running session was lost: stop it, saying which. */
export const stopLostSession = {
  type: 'stopSession' as const,
  params: ({ context, event }: Args): StopSessionIntent => {
    assertEvent(event, 'CLAIM_LOST');
    return {
      type: 'stopSession',
      laneId: context.laneId,
      sessionId: context.sessionId!,
      reason: `${event.key === context.claim?.key ? 'lane slot' : 'task claim'} lost: ${event.reason}`,
    };
  },
};

export const noteDrained = {
  type: 'laneNote' as const,
  params: ({ context }: { context: LaneContext }): LaneNoteIntent => ({
    type: 'laneNote',
    laneId: context.laneId,
    note: 'drained',
    detail: { sessionId: context.sessionId },
  }),
};
export const noteDenied = {
  type: 'laneNote' as const,
  params: ({ context, event }: Args): LaneNoteIntent => {
    assertEvent(event, 'CLAIM_DENIED');
    return {
      type: 'laneNote',
      laneId: context.laneId,
      note: 'denied',
      detail: { sessionId: context.sessionId, key: event.key, holder: event.holder, reason: event.reason },
    };
  },
};

export const noteArm = {
  type: 'laneNote' as const,
  params: ({ context, event }: Args): LaneNoteIntent => {
    assertEvent(event, 'ARM_CHOSEN');
    const d = event.decision;
    return {
      type: 'laneNote',
      laneId: context.laneId,
      note: 'arm',
      detail: { sessionId: context.sessionId, arm: d.arm, sample: d.sample, source: d.source, excluded: d.excluded },
    };
  },
};
export const noteNoArm = {
  type: 'laneNote' as const,
  params: ({ context, event }: Args): LaneNoteIntent => {
    assertEvent(event, 'ARM_CHOSEN');
    return {
      type: 'laneNote',
      laneId: context.laneId,
      note: 'no_arm',
      detail: { until: context.deadline, excluded: event.decision.excluded },
    };
  },
};

export const noteCooldown = {
  type: 'laneNote' as const,
  params: ({ context }: { context: LaneContext }): LaneNoteIntent => ({
    type: 'laneNote',
    laneId: context.laneId,
    note: 'cooldown',
    detail: { sessionId: context.sessionId, until: context.deadline, grade: context.grade },
  }),
};

/** The respawn note: the new session, the one it follows, the chain, and its task with why. */
export const noteRespawn = (context: LaneContext, why: string | null): LaneNoteIntent => ({
  type: 'laneNote',
  laneId: context.laneId,
  note: 'respawn',
  detail: {
    sessionId: context.sessionId,
    parent: context.parent,
    chain: context.chain,
    chainLimit: context.chainLimit,
    ...(why ? { task: context.task?.id ?? null, why } : {}),
  },
});
/** A respawn of lane-level work. */
export const noteLaneRespawn = {
  type: 'laneNote' as const,
  params: ({ context }: { context: LaneContext }) => noteRespawn(context, null),
};
/** A task-backed respawn, once the selector said on which task (and why). */
export const noteTaskRespawn = {
  type: 'laneNote' as const,
  params: ({ context, event }: Args): LaneNoteIntent => {
    assertEvent(event, 'DISPATCH');
    return noteRespawn(context, event.why ?? null);
  },
};
