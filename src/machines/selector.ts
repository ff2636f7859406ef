/*
 * Selector machine: decides which lane slots a tick dispatches, and learns from graded sessions.
 * This file is its chart; the named actions and guards are in selector-actions.ts.
 *
 *   ready --SELECT-->            ready  plan the tick (policy/plan-tick.ts) from the lanes' current
 *                                       states, what was learned, the task supply and the tick's
 *                                       inputs; DISPATCH the chosen slots; record the decision
 *         --PIVOT-->             ready  a slot of this tick was denied a claim: a denied task tries
 *                                       the lane's next task once, then the next lane of the tick
 *         --RESPAWN-->           ready  a task-backed session earned a respawn: DISPATCH it on its
 *                                       task while that is not done, else on the lane's next task
 *                                       (policy/respawn-task.ts)
 *         --CLAIM_GRANTED-->     ready  hand the grant to its lane, with what was learned about
 *                                       arms (the lane chooses its arm from it)
 *         --SESSION_GRADED-->    ready  learn the grade, once per session (not a censored one)
 *         --SESSION_REGRADED-->  ready  a late grade: the one learned before is taken out
 *         --SESSION_EXITED-->    ready  count consecutive noops per lane (the no-op backoff)
 *         --SESSION_STARTED-->   ready  count the start for target shares and plateau
 *         --TASKS_CHANGED-->     ready  the new task list
 *         --SELECTOR_RESTORED--> ready  what an earlier run had learned
 *         --CONFIGURE-->         ready  a reload: the width, lanes and selection settings; what
 *                                       was learned stays (it starts afresh only if the model changed)
 *
 * Learning is keyed by lane name, not slot: two slots of one lane share one posterior. The selector
 * reads no other actor: what it sees of the lanes (LaneSight: each one's state and task) comes
 * with SELECT, PIVOT and RESPAWN from the fleet, read after the lanes took the same event (a
 * cooldown that a tick just ended is idle). It sends DISPATCH to lanes by their system id.
 * No clock, no I/O: `now`, `seq`, `seed` and the tick's inputs come with the events.
 */
import { emptyFairness } from '../policy/fairness.js';
import { emptyLearning } from '../policy/learning.js';
import { armForgetting, selectorSetup } from './selector-actions.js';

export { topState } from './state-value.js';
export type { SelectorEvent } from './events.js';
export type { LaneSpec, SelectionSettings, SelectorContext, SelectorInput } from './types.js';

export const selectorMachine = selectorSetup.createMachine({
  id: 'selector',
  context: ({ input }) => ({
    ...input,
    learning: emptyLearning(input.selection.model, input.selection.forgetting),
    arms: emptyLearning(input.selection.model, armForgetting(input.selection.forgetting)),
    fairness: emptyFairness(),
    tasks: input.selection.tasks ? [] : null,
    graded: [],
    tick: null,
  }),
  initial: 'ready',
  states: {
    ready: {
      on: {
        SELECT: { actions: 'planTick' },
        PIVOT: [{ guard: 'inCurrentTick', actions: 'pivot' }, { actions: 'recordNoPivot' }],
        RESPAWN: { actions: 'dispatchRespawn' },
        CLAIM_GRANTED: { actions: 'handOverGrant' },
        SESSION_GRADED: { guard: 'gradeTeaches', actions: 'learnGrade' },
        SESSION_EXITED: { guard: 'knownLane', actions: 'countOutcome' },
        SESSION_REGRADED: { guard: 'knownLane', actions: 'learnRegrade' },
        SESSION_STARTED: { guard: 'knownLane', actions: 'countStart' },
        TASKS_CHANGED: { guard: 'tasksConfigured', actions: 'takeTasks' },
        CONFIGURE: { actions: 'configure' },
        SELECTOR_RESTORED: { actions: 'restore' },
      },
    },
  },
});
