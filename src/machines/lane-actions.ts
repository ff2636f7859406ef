// The lane machine's named actions and guards (its chart is in lane.ts): the intents it names
// (bound by the host), what it keeps in context as events arrive, its arm choice on a grant, what
// it tells its parent, and the guards. Each action that reads an event narrows it with assertEvent.
import { assertEvent, assign, enqueueActions, sendParent, setup } from 'xstate';
import { NO_ARM_RETRY_MS } from '../policy/availability.js';
import { emptyLearning } from '../policy/learning.js';
import { seedOf, type LaneEvent } from './events.js';
import type {
  LaneNoteIntent,
  ReleaseClaimIntent,
  RequestClaimIntent,
  StartSessionIntent,
  StopSessionIntent,
} from './intents.js';
import { decideArm } from './lane-arms.js';
import type { LaneContext, LaneDeniedEvent, LaneInput, LaneRespawnEvent } from './types.js';

/**
 * Fields of a fresh session, from the event that starts it. Its id is the lane slot and the seq
 * of that event, and the host when several hosts share one store (each counts its own seq).
 */
function newSession(context: Pick<LaneContext, 'laneId' | 'host'>, seq: number) {
  return {
    sessionId: `${context.laneId}-${seq}${context.host ? `@${context.host}` : ''}`,
    claim: null,
    taskClaim: null,
    arm: null,
    grade: null,
    deadline: null,
  };
}

export const laneSetup = setup({
  types: {
    context: {} as LaneContext,
    input: {} as LaneInput,
    events: {} as LaneEvent,
  },
  actions: {
    requestClaim: (_, _params: RequestClaimIntent) => {},
    releaseClaim: (_, _params: ReleaseClaimIntent) => {},
    startSession: (_, _params: StartSessionIntent) => {},
    stopSession: (_, _params: StopSessionIntent) => {},
    laneNote: (_, _params: LaneNoteIntent) => {},
    // A reload's new settings, for what the lane starts next (its id, name and slot stay).
    configure: assign(({ event }) => {
      assertEvent(event, 'CONFIGURE');
      const { laneId: _id, lane: _lane, slot: _slot, ...settings } = event.input;
      return { ...settings, retired: false };
    }),
    // A new session, dispatched by a tick (or by hand): its task, if any, comes with it.
    takeDispatch: assign(({ context, event }) => {
      assertEvent(event, 'DISPATCH');
      return {
        ...newSession(context, event.seq),
        dispatch: event.dispatch,
        tickSeq: event.tickSeq,
        task: event.task ?? null,
        parent: null,
        chain: 0,
      };
    }),
    keepSlotClaim: assign(({ event }) => {
      assertEvent(event, 'CLAIM_GRANTED');
      return { claim: { key: event.key, token: event.token } };
    }),
    keepTaskClaim: assign(({ event }) => {
      assertEvent(event, 'CLAIM_GRANTED');
      return { taskClaim: { key: event.key, token: event.token } };
    }),
    // Chooses the arm on a grant, from what the selector has learned about arms (it hands that over
    // with the grant), and raises the choice, so the next transition can depend on it.
    chooseArmOnGrant: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'CLAIM_GRANTED');
      const decision = decideArm(context, event.arms ?? emptyLearning(), event.blockedArms ?? {}, seedOf(event));
      enqueue.raise({ type: 'ARM_CHOSEN', sessionId: context.sessionId!, decision, seq: event.seq, now: event.now });
    }),
    keepArm: assign(({ event }) => {
      assertEvent(event, 'ARM_CHOSEN');
      return { arm: event.decision.arm };
    }),
    retryLater: assign(({ event }) => ({ deadline: event.now + NO_ARM_RETRY_MS })),
    // A task claim given back at the end was neither completed nor kept: a respawn may go on with it.
    noteTaskReleased: assign(({ context, event }) => {
      assertEvent(event, 'SESSION_EXITED');
      return { taskReleased: context.task !== null && (event.releasedClaims ?? []).includes(context.task.key) };
    }),
    keepGrade: assign(({ context, event }) => {
      assertEvent(event, 'SESSION_GRADED');
      return { grade: event.grade, deadline: event.now + context.cooldownMs };
    }),
    clearDeadline: assign({ deadline: null }),
    // The respawn is a new session that follows the one before, one further down the chain.
    beginRespawn: assign(({ context, event }) => ({
      ...newSession(context, event.seq),
      dispatch: 'respawn' as const,
      parent: context.sessionId,
      chain: context.chain + 1,
      tickSeq: null,
    })),
    takeRespawnTask: assign(({ event }) => {
      assertEvent(event, 'DISPATCH');
      return { task: event.task ?? null };
    }),
    // A task-backed respawn asks the parent (the selector, through the fleet) which task it works on.
    askRespawnTask: sendParent(({ context, event }): LaneRespawnEvent => ({
      type: 'LANE_RESPAWN',
      laneId: context.laneId,
      task: context.task!,
      released: context.taskReleased === true,
      seq: event.seq,
      now: event.now,
    })),
    tellParentDenied: sendParent(({ context, event }): LaneDeniedEvent => {
      assertEvent(event, 'CLAIM_DENIED');
      return {
        type: 'LANE_DENIED',
        laneId: context.laneId,
        tickSeq: context.tickSeq,
        seq: event.seq,
        now: event.now,
        key: event.key,
        task: event.key === context.task?.key,
      };
    }),
  },
  guards: {
    forThisSession: ({ context, event }) => 'sessionId' in event && event.sessionId === context.sessionId,
    armChosen: ({ context, event }) =>
      event.type === 'ARM_CHOSEN' && event.sessionId === context.sessionId && event.decision.arm !== null,
    taskBacked: ({ context }) => context.task !== null,
    // The fleet drains, or this lane was removed by a reload: start nothing, respawn nothing.
    draining: ({ context }) => context.draining || context.retired === true,
    retired: ({ context }) => context.retired === true,
    deadlinePassed: ({ context, event }) => context.deadline !== null && event.now >= context.deadline,
    earnsRespawn: ({ context }) =>
      !context.draining &&
      !context.retired &&
      context.grade !== null &&
      context.grade >= context.respawnThreshold &&
      context.chain < context.chainLimit,
    // A claim of this session's (its lane slot or its task) could not be renewed.
    ownClaimLost: ({ context, event }) => {
      assertEvent(event, 'CLAIM_LOST');
      return (
        event.sessionId === context.sessionId &&
        (event.key === context.claim?.key || event.key === context.taskClaim?.key)
      );
    },
    // The selector's answer to a task-backed respawn (not a tick's dispatch).
    respawnDispatch: ({ event }) => {
      assertEvent(event, 'DISPATCH');
      return event.dispatch === 'respawn';
    },
  },
});
