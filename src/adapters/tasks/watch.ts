// Watches `tasks.dir` and hands the selector a fresh snapshot of its tasks when they change.
// Any add, change or delete of a task file re-reads the whole directory (task directories are
// small, and a whole read cannot drift the way patching one file at a time can). A snapshot is
// passed on only when it differs from the last one, so an editor's save of unchanged text or a
// touch costs nothing downstream. The first snapshot is passed on once, when watching starts.
//
// chokidar has gaps around the directory itself: it stops following a directory that is removed,
// does not look inside one that appears after it started, and sets up the watch for a missing
// path only after "ready". So the watch is set up afresh whenever the directory comes or goes,
// and a slow periodic re-read (rescanMs) catches whatever an event missed.
import path from 'node:path';
import { watch } from 'chokidar';
import { DIR_MISSING, readTasks, type TaskSnapshot } from './read.js';

export interface WatchTasksOptions {
  /** Quiet time before a re-read, so one save (often several events) is one read. Default 100. */
  debounceMs?: number;
  /** A re-read this often whatever the events say; 0 turns it off. Default 30 s. */
  rescanMs?: number;
  /** Watcher and read errors, and errors thrown by onSnapshot; watching goes on after them. */
  onError?: (err: Error) => void;
}

export interface TaskWatch {
  /** Resolves once the watcher runs and the first snapshot has been passed on (or on close). */
  ready: Promise<void>;
  /** Stops watching; no snapshot is passed on after it resolves. */
  close(): Promise<void>;
  /**
   * The lanes a task may name, after a reload: the directory is read again at once, so a task of
   * a lane just added is taken (and one of a lane just removed is a problem) without a restart.
   * Resolves once that read has passed its snapshot on.
   */
  setLanes(lanes: readonly string[]): Promise<void>;
}

export function watchTasks(
  dir: string,
  initialLanes: readonly string[],
  onSnapshot: (s: TaskSnapshot) => void,
  opts: WatchTasksOptions = {},
): TaskWatch {
  const debounceMs = opts.debounceMs ?? 100;
  const rescanMs = opts.rescanMs ?? 30_000;
  const root = path.resolve(dir);
  let lanes = initialLanes;
  let closed = false;
  let last: string | null = null;
  let present: boolean | null = null;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;

  const report = (err: unknown) => {
    try {
      opts.onError?.(err instanceof Error ? err : new Error(String(err)));
    } catch {
      // An error handler that throws has nowhere left to report to; watching goes on.
    }
  };

  // depth 0: subdirectories (done/, archive/) are not task files, and not watched.
  // awaitWriteFinish: a file still being written is read once it holds still, not half-way.
  const watcher = watch(root, {
    depth: 0,
    ignoreInitial: true,
    awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 20 },
  });
  const rearm = () => {
    if (!closed) watcher.unwatch(root).add(root);
  };

  const refresh = async () => {
    const snap = await readTasks(dir, lanes);
    if (closed) return;
    const nowPresent = !snap.problems.some((p) => p.file === dir && p.message === DIR_MISSING);
    if (present !== null && nowPresent !== present) {
      rearm();
      // Files made while the new watch was being set up raise no event; one more read sees them.
      schedule();
    }
    present = nowPresent;
    // Both lists are sorted by readTasks, so equal snapshots serialize equally.
    const json = JSON.stringify(snap);
    if (json === last) return;
    last = json;
    try {
      onSnapshot(snap);
    } catch (err) {
      report(err);
    }
  };

  // One read at a time; events during a read ask for one more read after it, never a parallel one
  // that could finish first and be overtaken by an older view.
  const run = () => {
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await refresh();
        } catch (err) {
          report(err);
        }
      } while (again && !closed);
      running = null;
    })();
  };

  function schedule() {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      run();
    }, debounceMs);
  }

  // Only what readTasks reads: visible *.md files directly in the directory, or the directory itself.
  const relevant = (p: string) => {
    if (p === root) return true;
    const name = path.basename(p);
    return path.dirname(p) === root && name.endsWith('.md') && !name.startsWith('.');
  };

  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let rescan: NodeJS.Timeout | null = null;

  watcher.on('all', (event, p) => {
    if (p === root && (event === 'addDir' || event === 'unlinkDir')) rearm();
    if (relevant(p)) schedule();
  });
  watcher.on('error', report);
  watcher.once('ready', () => {
    if (closed) return;
    run();
    void (running ?? Promise.resolve()).then(markReady);
    if (rescanMs > 0) {
      rescan = setInterval(run, rescanMs);
      // The watcher keeps the process alive while it runs; the safety net alone should not.
      rescan.unref();
    }
  });

  return {
    ready,
    async setLanes(next) {
      if (next.length === lanes.length && next.every((l, i) => l === lanes[i])) return;
      lanes = next;
      run();
      await running;
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      if (rescan) clearInterval(rescan);
      timer = rescan = null;
      try {
        await watcher.close();
      } catch (err) {
        report(err);
      }
      await running;
      markReady();
    },
  };
}
