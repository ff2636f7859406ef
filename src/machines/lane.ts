/*
 * Lane machine: one actor per lane slot (a lane with concurrency 2 has two).
 *
 *   idle      --DISPATCH-->        claiming   (a new session id, maybe a task; ask for the lane slot)
 *   claiming  .slot --CLAIM_GRANTED-->   .arm       (the arm is chosen: eligibility, then a seeded
 *                                                   Thompson draw from what the selector learned of
 *                                                   arms, which it hands over with the grant; the
 *                                                   choice is raised as ARM_CHOSEN)
 *             .arm  --ARM_CHOSEN-->      .task      (a task-backed session: now claim task:<id>)
 *             .arm  --ARM_CHOSEN-->      running
 *             .arm  --ARM_CHOSEN (none)--> waiting  (no arm is eligible: the slot is given back, retry later)
 *             .task --CLAIM_GRANTED-->   running
 *             --CLAIM_DENIED-->    idle       (anything held is given back; the parent is told, so
 *                                              the selector can pivot: a denial routes, it is no failure)
 *   running   .session --SESSION_EXITED--> .grading (the slot is released at once; the task claim
 *                      goes with the session's other claims unless the agent kept it)
 *             .session --CLAIM_LOST (its slot or task)--> .session, and the session is stopped:
 *                      someone else may hold it now, so this one must not go on working
 *             .grading --SESSION_GRADED--> cooldown
 *   cooldown  --deadline passed--> respawn  if grade >= threshold and the chain is below its limit
 *             --deadline passed--> idle     otherwise (neither while draining: the lane stays in
 *                                           cooldown, and the next start goes on from there)
 *   respawn   .lane --(at once)--> claiming  (dispatch "respawn", parent = the session before)
 *             .task --DISPATCH-->  claiming  the session before had a task: the selector says whether
 *                                            the respawn continues it (not done) or takes the lane's
 *                                            next task (LANE_RESPAWN to the parent, DISPATCH back)
 *   waiting   --deadline passed--> idle
 *
 * A reload sends CONFIGURE (the lane's new settings, for what it starts next; a running session
 * keeps its own) or RETIRE (the lane was removed: like a drain, for this lane only).
 *
 * At every start (RUNTIME_RECOVERED: after a drain or a crash) a lane restored from the journal
 * goes on where it was: the drain the last runtime began is over (a cooldown whose deadline passed
 * meanwhile ends at once), and a lane that was claiming asks for its claim again (the last runtime
 * may have asked, been granted, or neither). A running lane waits for the shell to report its
 * session (adopted alive, or exited).
 *
 * Rules: no clock, no randomness but the stamped seed, no I/O. Deadlines live in context and are
 * checked against the `now` of whatever event arrives (TICK, WAKE, or the event that set them);
 * the shell schedules a WAKE at the earliest deadline. Side effects are named intents.
 * While draining, a lane starts nothing: a late grant is given back and no respawn follows.
 */
import { and, assertEvent, assign, enqueueActions, not, sendParent, setup } from 'xstate';
import { NO_ARM_RETRY_MS } from '../policy/availability.js';
import { laneKey } from '../policy/task-tiers.js';
import { emptyLearning } from '../policy/learning.js';
import { seedOf, type LaneEvent } from './events.js';
import type { ClaimDeniedEvent } from './events.js';
import { decideArm } from './lane-arms.js';
import { claimRequest, noteArm, noteDenied, noteDrained, noteRespawn, releaseOf, startIntent } from './lane-intents.js';
import { topState } from './state-value.js';
import type {
  LaneNoteIntent,
  ReleaseClaimIntent,
  RequestClaimIntent,
  StartSessionIntent,
  StopSessionIntent,
} from './intents.js';
import type { ArmChosenEvent, LaneContext, LaneDeniedEvent, LaneInput, LaneRespawnEvent } from './types.js';

export type { LaneEvent } from './events.js';
export type {
  ArmChosenEvent,
  ConfigureEvent,
  DispatchEvent,
  LaneContext,
  LaneDeniedEvent,
  LaneInput,
  LaneRespawnEvent,
  RetireEvent,
} from './types.js';

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

/**
 * Whether a lane in this state waits for a deadline (cooldown, waiting): only such a lane is moved
 * by a TICK or WAKE, so the fleet sends them to no other.
 */
export function waitsForDeadline(value: unknown): boolean {
  const top = topState(value);
  return top === 'cooldown' || top === 'waiting';
}

export const laneMachine = setup({
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
    // Chooses the arm on a grant, from what the selector has learned about arms (it hands that over
    // with the grant), and raises the choice, so the next transition can depend on it.
    chooseArmOnGrant: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'CLAIM_GRANTED');
      const decision = decideArm(context, event.arms ?? emptyLearning(), event.blockedArms ?? {}, seedOf(event));
      enqueue.raise({ type: 'ARM_CHOSEN', sessionId: context.sessionId!, decision, seq: event.seq, now: event.now });
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
      const key = (event as ClaimDeniedEvent).key;
      return {
        type: 'LANE_DENIED',
        laneId: context.laneId,
        tickSeq: context.tickSeq,
        seq: event.seq,
        now: event.now,
        key,
        task: key === context.task?.key,
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
    deadlinePassed: ({ context, event }) => context.deadline !== null && event.now >= context.deadline,
    earnsRespawn: ({ context }) =>
      !context.draining &&
      !context.retired &&
      context.grade !== null &&
      context.grade >= context.respawnThreshold &&
      context.chain < context.chainLimit,
  },
}).createMachine({
  id: 'lane',
  context: ({ input }) => ({
    ...input,
    sessionId: null,
    dispatch: 'tick',
    parent: null,
    chain: 0,
    tickSeq: null,
    claim: null,
    task: null,
    taskClaim: null,
    arm: null,
    grade: null,
    deadline: null,
    draining: false,
    retired: false,
  }),
  initial: 'idle',
  on: {
    DRAIN: { actions: assign({ draining: true }) },
    RUNTIME_RECOVERED: { actions: assign({ draining: false }) },
    CONFIGURE: {
      actions: assign(({ event }) => {
        const { laneId: _id, lane: _lane, slot: _slot, ...settings } = event.input;
        return { ...settings, retired: false };
      }),
    },
    RETIRE: { actions: assign({ retired: true }) },
  },
  states: {
    idle: {
      on: {
        DISPATCH: {
          guard: not('draining'),
          target: 'claiming',
          actions: assign(({ context, event }) => ({
            ...newSession(context, event.seq),
            dispatch: event.dispatch,
            tickSeq: event.tickSeq,
            task: event.task ?? null,
            parent: null,
            chain: 0,
          })),
        },
      },
    },
    claiming: {
      initial: 'slot',
      states: {
        slot: {
          entry: {
            type: 'requestClaim',
            params: ({ context }) => claimRequest(context, laneKey(context.lane), context.concurrency),
          },
          on: {
            RUNTIME_RECOVERED: { target: 'slot', reenter: true, actions: assign({ draining: false }) },
            CLAIM_GRANTED: [
              {
                // Granted after the drain began: give the slot straight back.
                guard: and(['forThisSession', 'draining']),
                target: '#lane.idle',
                actions: [
                  assign(({ event }) => ({ claim: { key: event.key, token: event.token } })),
                  { type: 'releaseClaim', params: releaseOf('claim') },
                  noteDrained,
                ],
              },
              {
                guard: 'forThisSession',
                target: 'arm',
                actions: [
                  assign(({ event }) => ({ claim: { key: event.key, token: event.token } })),
                  'chooseArmOnGrant',
                ],
              },
            ],
          },
        },
        arm: {
          on: {
            ARM_CHOSEN: [
              {
                guard: and(['armChosen', 'taskBacked']),
                target: 'task',
                actions: [assign(({ event }) => ({ arm: (event as ArmChosenEvent).decision.arm })), noteArm],
              },
              {
                guard: 'armChosen',
                target: '#lane.running',
                actions: [assign(({ event }) => ({ arm: (event as ArmChosenEvent).decision.arm })), noteArm],
              },
              {
                // No arm can run this lane now: give the slot back and retry later.
                guard: 'forThisSession',
                target: '#lane.waiting',
                actions: [
                  { type: 'releaseClaim', params: releaseOf('claim') },
                  assign(({ event }) => ({ deadline: event.now + NO_ARM_RETRY_MS })),
                  {
                    type: 'laneNote',
                    params: ({ context, event }) => ({
                      type: 'laneNote' as const,
                      laneId: context.laneId,
                      note: 'no_arm' as const,
                      detail: { until: context.deadline, excluded: (event as ArmChosenEvent).decision.excluded },
                    }),
                  },
                ],
              },
            ],
          },
        },
        task: {
          entry: { type: 'requestClaim', params: ({ context }) => claimRequest(context, context.task!.key, 1) },
          on: {
            RUNTIME_RECOVERED: { target: 'task', reenter: true, actions: assign({ draining: false }) },
            CLAIM_GRANTED: [
              {
                guard: and(['forThisSession', 'draining']),
                target: '#lane.idle',
                actions: [
                  assign(({ event }) => ({ taskClaim: { key: event.key, token: event.token } })),
                  { type: 'releaseClaim', params: releaseOf('taskClaim') },
                  { type: 'releaseClaim', params: releaseOf('claim') },
                  noteDrained,
                ],
              },
              {
                guard: 'forThisSession',
                target: '#lane.running',
                actions: assign(({ event }) => ({ taskClaim: { key: event.key, token: event.token } })),
              },
            ],
            // The task is someone else's: give the slot back too.
            CLAIM_DENIED: {
              guard: 'forThisSession',
              target: '#lane.idle',
              actions: [{ type: 'releaseClaim', params: releaseOf('claim') }, noteDenied, 'tellParentDenied'],
            },
          },
        },
      },
      on: {
        CLAIM_DENIED: { guard: 'forThisSession', target: 'idle', actions: [noteDenied, 'tellParentDenied'] },
      },
    },
    running: {
      initial: 'session',
      entry: { type: 'startSession', params: ({ context }) => startIntent(context) },
      states: {
        session: {
          on: {
            SESSION_EXITED: {
              guard: 'forThisSession',
              target: 'grading',
              actions: [
                { type: 'releaseClaim', params: releaseOf('claim') },
                // A task claim given back at the end was neither completed nor kept: a respawn may go on with it.
                assign(({ context, event }) => ({
                  taskReleased: context.task !== null && (event.releasedClaims ?? []).includes(context.task.key),
                })),
              ],
            },
            CLAIM_LOST: {
              guard: ({ context, event }) =>
                event.sessionId === context.sessionId &&
                (event.key === context.claim?.key || event.key === context.taskClaim?.key),
              actions: {
                type: 'stopSession',
                params: ({ context, event }) => ({
                  type: 'stopSession' as const,
                  laneId: context.laneId,
                  sessionId: context.sessionId!,
                  reason: `${event.key === context.claim?.key ? 'lane slot' : 'task claim'} lost: ${event.reason}`,
                }),
              },
            },
          },
        },
        grading: {
          on: {
            SESSION_GRADED: {
              guard: 'forThisSession',
              target: '#lane.cooldown',
              actions: assign(({ context, event }) => ({
                grade: event.grade,
                deadline: event.now + context.cooldownMs,
              })),
            },
          },
        },
      },
    },
    cooldown: {
      entry: {
        type: 'laneNote',
        params: ({ context }) => ({
          type: 'laneNote' as const,
          laneId: context.laneId,
          note: 'cooldown' as const,
          detail: { sessionId: context.sessionId, until: context.deadline, grade: context.grade },
        }),
      },
      // Checked after every event the lane sees (a WAKE, a TICK, or the grade itself when the
      // cooldown is zero), against that event's `now`. While the fleet drains, a cooldown does not
      // end: the next start goes on from it, and a respawn it earned follows then.
      always: [
        // A lane a reload removed has nothing to cool down for.
        { guard: ({ context }) => context.retired === true, target: 'idle', actions: assign({ deadline: null }) },
        // A task-backed session's respawn asks first which task it works on.
        { guard: and(['deadlinePassed', not('draining'), 'earnsRespawn', 'taskBacked']), target: 'respawn.task' },
        { guard: and(['deadlinePassed', not('draining'), 'earnsRespawn']), target: 'respawn.lane' },
        { guard: and(['deadlinePassed', not('draining')]), target: 'idle', actions: assign({ deadline: null }) },
      ],
    },
    respawn: {
      entry: assign(({ context, event }) => ({
        ...newSession(context, event.seq),
        dispatch: 'respawn' as const,
        parent: context.sessionId,
        chain: context.chain + 1,
        tickSeq: null,
      })),
      initial: 'lane',
      states: {
        // Lane-level work goes straight on.
        lane: {
          entry: { type: 'laneNote', params: ({ context }) => noteRespawn(context, null) },
          always: '#lane.claiming',
        },
        // The session before had a task: the selector (it knows the task list) says whether the
        // respawn continues it or, that one being done, takes the lane's next task.
        task: {
          entry: 'askRespawnTask',
          on: {
            DISPATCH: {
              guard: ({ event }) => event.dispatch === 'respawn',
              target: '#lane.claiming',
              actions: [
                assign(({ event }) => ({ task: event.task ?? null })),
                { type: 'laneNote', params: ({ context, event }) => noteRespawn(context, event.why ?? null) },
              ],
            },
          },
        },
      },
    },
    waiting: {
      always: { guard: 'deadlinePassed', target: 'idle', actions: assign({ deadline: null }) },
    },
  },
});
