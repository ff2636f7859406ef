// The intents the lane machine names, built from its context and the event at hand: claim
// requests and releases, and the notes the shell logs. No I/O; the machine only names them.
import type { ClaimDeniedEvent, LaneEvent } from './events.js';
import type { LaneNoteIntent, ReleaseClaimIntent, RequestClaimIntent, StartSessionIntent } from './intents.js';
import type { ArmChosenEvent, LaneContext } from './types.js';

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

/** A claim on `key` for the current session. */
export const claimRequest = (context: LaneContext, key: string, slots: number): RequestClaimIntent => ({
  type: 'requestClaim',
  laneId: context.laneId,
  lane: context.lane,
  sessionId: context.sessionId!,
  key,
  slots,
});

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
  params: ({ context, event }: { context: LaneContext; event: LaneEvent }): LaneNoteIntent => {
    const e = event as ClaimDeniedEvent;
    return {
      type: 'laneNote',
      laneId: context.laneId,
      note: 'denied',
      detail: { sessionId: context.sessionId, key: e.key, holder: e.holder, reason: e.reason },
    };
  },
};

export const noteArm = {
  type: 'laneNote' as const,
  params: ({ context, event }: { context: LaneContext; event: LaneEvent }): LaneNoteIntent => {
    const d = (event as ArmChosenEvent).decision;
    return {
      type: 'laneNote',
      laneId: context.laneId,
      note: 'arm',
      detail: { sessionId: context.sessionId, arm: d.arm, sample: d.sample, source: d.source, excluded: d.excluded },
    };
  },
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
