/*
 * Lane machine: one actor per lane slot (a lane with concurrency 2 has two). This file is its
 * chart; the named actions and guards are in lane-actions.ts, the intents it names in
 * lane-intents.ts, the arm choice in lane-arms.ts.
 *
 *   idle      --DISPATCH-->        claiming   (a new session id, maybe a task; ask for the lane slot)
 *   claiming  .slot --CLAIM_GRANTED-->   .arm       (the arm is chosen: eligibility, then a seeded
 *                                                   Thompson draw from what the selector learned of
 *                                                   arms, which it hands over with the grant; the
 *                                                   lane raises its choice: ARM_CHOSEN)
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
import { and, assign, not } from 'xstate';
import { laneSetup } from './lane-actions.js';
import {
  noteArm,
  noteCooldown,
  noteDenied,
  noteDrained,
  noteLaneRespawn,
  noteNoArm,
  noteTaskRespawn,
  releaseSlot,
  releaseTask,
  requestSlot,
  requestTask,
  startSession,
  stopLostSession,
} from './lane-intents.js';
import { topState } from './state-value.js';

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
 * Whether a lane in this state waits for a deadline (cooldown, waiting): only such a lane is moved
 * by a TICK or WAKE, so the fleet sends them to no other.
 */
export function waitsForDeadline(value: unknown): boolean {
  const top = topState(value);
  return top === 'cooldown' || top === 'waiting';
}

export const laneMachine = laneSetup.createMachine({
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
    CONFIGURE: { actions: 'configure' },
    RETIRE: { actions: assign({ retired: true }) },
  },
  states: {
    idle: {
      on: {
        DISPATCH: { guard: not('draining'), target: 'claiming', actions: 'takeDispatch' },
      },
    },
    claiming: {
      initial: 'slot',
      states: {
        slot: {
          entry: requestSlot,
          on: {
            RUNTIME_RECOVERED: { target: 'slot', reenter: true, actions: assign({ draining: false }) },
            CLAIM_GRANTED: [
              {
                // Granted after the drain began: give the slot straight back.
                guard: and(['forThisSession', 'draining']),
                target: '#lane.idle',
                actions: ['keepSlotClaim', releaseSlot, noteDrained],
              },
              { guard: 'forThisSession', target: 'arm', actions: ['keepSlotClaim', 'chooseArmOnGrant'] },
            ],
          },
        },
        arm: {
          on: {
            ARM_CHOSEN: [
              { guard: and(['armChosen', 'taskBacked']), target: 'task', actions: ['keepArm', noteArm] },
              { guard: 'armChosen', target: '#lane.running', actions: ['keepArm', noteArm] },
              // No arm can run this lane now: give the slot back and retry later.
              { guard: 'forThisSession', target: '#lane.waiting', actions: [releaseSlot, 'retryLater', noteNoArm] },
            ],
          },
        },
        task: {
          entry: requestTask,
          on: {
            RUNTIME_RECOVERED: { target: 'task', reenter: true, actions: assign({ draining: false }) },
            CLAIM_GRANTED: [
              {
                guard: and(['forThisSession', 'draining']),
                target: '#lane.idle',
                actions: ['keepTaskClaim', releaseTask, releaseSlot, noteDrained],
              },
              { guard: 'forThisSession', target: '#lane.running', actions: 'keepTaskClaim' },
            ],
            // The task is someone else's: give the slot back too.
            CLAIM_DENIED: {
              guard: 'forThisSession',
              target: '#lane.idle',
              actions: [releaseSlot, noteDenied, 'tellParentDenied'],
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
      entry: startSession,
      states: {
        session: {
          on: {
            SESSION_EXITED: { guard: 'forThisSession', target: 'grading', actions: [releaseSlot, 'noteTaskReleased'] },
            // Someone else may hold the claim now, so this session must not go on working.
            CLAIM_LOST: { guard: 'ownClaimLost', actions: stopLostSession },
          },
        },
        grading: {
          on: {
            SESSION_GRADED: { guard: 'forThisSession', target: '#lane.cooldown', actions: 'keepGrade' },
          },
        },
      },
    },
    cooldown: {
      entry: noteCooldown,
      // Checked after every event the lane sees (a WAKE, a TICK, or the grade itself when the
      // cooldown is zero), against that event's `now`. While the fleet drains, a cooldown does not
      // end: the next start goes on from it, and a respawn it earned follows then.
      always: [
        // A lane a reload removed has nothing to cool down for.
        { guard: 'retired', target: 'idle', actions: 'clearDeadline' },
        // A task-backed session's respawn asks first which task it works on.
        { guard: and(['deadlinePassed', not('draining'), 'earnsRespawn', 'taskBacked']), target: 'respawn.task' },
        { guard: and(['deadlinePassed', not('draining'), 'earnsRespawn']), target: 'respawn.lane' },
        { guard: and(['deadlinePassed', not('draining')]), target: 'idle', actions: 'clearDeadline' },
      ],
    },
    respawn: {
      entry: 'beginRespawn',
      initial: 'lane',
      states: {
        // Lane-level work goes straight on.
        lane: {
          entry: noteLaneRespawn,
          always: '#lane.claiming',
        },
        // The session before had a task: the selector (it knows the task list) says whether the
        // respawn continues it or, that one being done, takes the lane's next task.
        task: {
          entry: 'askRespawnTask',
          on: {
            DISPATCH: {
              guard: 'respawnDispatch',
              target: '#lane.claiming',
              actions: ['takeRespawnTask', noteTaskRespawn],
            },
          },
        },
      },
    },
    waiting: {
      always: { guard: 'deadlinePassed', target: 'idle', actions: 'clearDeadline' },
    },
  },
});
