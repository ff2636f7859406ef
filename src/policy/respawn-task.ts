// What a respawn works on when the session it follows had a task. Pure: the task list (null when
// no task directory is configured), the parent's task, whether its claim was given back at the
// end (not completed, not kept), and the task keys other lane slots are on come in.
//
//   the parent's task is not done       → the respawn continues it (its claim is taken again first;
//                                          a denial is a routing event, like any other)
//   it is done (its claim was completed, → the lane's next task, as a tick would pick it (active
//   or its file says done or is gone)      before ready, then priority), skipping tasks other slots
//                                          are on; none left: lane-level work
//
// A task an external selector named (no task file) is judged by its claim alone.
import { laneWork, taskKey } from './task-tiers.js';
import type { SlotTask } from './plan-tick.js';
import type { Task } from './task.js';

export interface RespawnTask {
  task: SlotTask | null;
  /** Why, for the log and the journal's intents. */
  why: string;
}

export function respawnTask(
  tasks: readonly Task[] | null,
  lane: string,
  parent: SlotTask,
  released: boolean,
  busy: ReadonlySet<string>,
): RespawnTask {
  const listed = tasks?.find((t) => taskKey(t.id) === parent.key) ?? null;
  const open = listed
    ? (listed.state === 'active' || listed.state === 'ready') && listed.waitingFor === null
    : tasks === null || parent.path === null;
  if (released && open) return { task: parent, why: `continues task ${parent.id}` };
  const done = !released
    ? `its claim was not given back at the end (completed, or kept by the agent)`
    : listed
      ? `its file says ${listed.waitingFor !== null ? `it waits for ${listed.waitingFor}` : listed.state}`
      : 'its file is gone';
  if (!tasks) return { task: null, why: `task ${parent.id} is done (${done}): lane-level work` };
  const next = laneWork(tasks, lane, new Set([...busy, parent.key])).candidates[0];
  if (!next)
    return {
      task: null,
      why: `task ${parent.id} is done (${done}) and the lane has no other task ready: lane-level work`,
    };
  return {
    task: { id: next.task.id, key: taskKey(next.task.id), path: next.task.path, tier: next.tier },
    why: `task ${parent.id} is done (${done}): next task ${next.task.id}`,
  };
}
