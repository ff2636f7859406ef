// A task: one Markdown file in `tasks.dir` (see adapters/tasks/read.ts). The selector only ever
// sees this parsed shape, so the file format can grow without the policy noticing.

export const TASK_STATES = ['active', 'ready', 'backlog', 'waiting', 'done'] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** Priority words as written in task files; a bare integer is also allowed. Higher goes first. */
export const PRIORITY_WORDS = { urgent: 4, high: 3, medium: 2, low: 1 } as const;
export type PriorityWord = keyof typeof PRIORITY_WORDS;
export const DEFAULT_PRIORITY = PRIORITY_WORDS.medium;

export interface Task {
  /** The file name without `.md`; the claim key is `task:<id>`. */
  id: string;
  lane: string;
  state: TaskState;
  priority: number;
  /** What the task waits on (front matter `waiting_for`); a waiting task is never a candidate. */
  waitingFor: string | null;
  /** The task file, as found under `tasks.dir`. */
  path: string;
  title: string | null;
}
