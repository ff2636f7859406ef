// The task files as a source of the bus: every snapshot is whole, so only the latest one matters
// (a ReplaySubject(1) keeps it for the bus even if it arrives before the bus is listening). The
// watch follows the live configuration's lanes; a tick waits for the read a reload started.
import { ReplaySubject, skip, type Observable } from 'rxjs';
import type { Logger } from 'pino';
import type { BusEvent } from '../machines/events.js';
import { watchTasks, type TaskWatch } from '../adapters/tasks/watch.js';
import type { LiveConfig } from './live-config.js';

export interface TaskFeed {
  readonly events$: Observable<BusEvent>;
  /** Resolves once the task files were read for the lanes in force (after a reload changed them). */
  read(): Promise<void>;
  /** Stops watching; the source completes. */
  close(): void;
}

export async function openTaskFeed(live: LiveConfig, log: Logger): Promise<TaskFeed> {
  const snapshots$ = new ReplaySubject<BusEvent>(1);
  const tasks = live.current.tasks;
  if (!tasks) return { events$: snapshots$, read: () => Promise.resolve(), close: () => snapshots$.complete() };
  const lanes = (): string[] => live.current.lanes.map((l) => l.name);
  const watch: TaskWatch = watchTasks(
    tasks.dir,
    lanes(),
    (snapshot) => snapshots$.next({ type: 'TASKS_CHANGED', tasks: snapshot.tasks, problems: snapshot.problems }),
    { onError: (err) => log.warn(`task files: ${err.message}`) },
  );
  // The first tick must see the tasks.
  await watch.ready;
  let reading: Promise<void> = Promise.resolve();
  const following = live.changes$.pipe(skip(1)).subscribe(() => (reading = watch.setLanes(lanes())));
  return {
    events$: snapshots$,
    read: () => reading,
    close: () => {
      following.unsubscribe();
      void watch.close().then(() => snapshots$.complete());
    },
  };
}
