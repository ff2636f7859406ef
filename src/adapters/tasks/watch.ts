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
import { watch, type FSWatcher } from 'chokidar';
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
  return new TaskDirWatch(dir, initialLanes, onSnapshot, opts);
}

// Only what readTasks reads: visible *.md files directly in the directory, or the directory itself.
function relevant(root: string, p: string): boolean {
  if (p === root) return true;
  const name = path.basename(p);
  return path.dirname(p) === root && name.endsWith('.md') && !name.startsWith('.');
}

class TaskDirWatch implements TaskWatch {
  readonly ready: Promise<void>;
  private markReady!: () => void;
  private readonly root: string;
  private readonly debounceMs: number;
  private readonly watcher: FSWatcher;
  private lanes: readonly string[];
  private closed = false;
  /** The last snapshot passed on, as JSON. */
  private last: string | null = null;
  /** Whether the directory was there at the last read; null before the first. */
  private present: boolean | null = null;
  private timer: NodeJS.Timeout | null = null;
  private rescan: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly dir: string,
    lanes: readonly string[],
    private readonly onSnapshot: (s: TaskSnapshot) => void,
    private readonly opts: WatchTasksOptions,
  ) {
    this.lanes = lanes;
    this.debounceMs = opts.debounceMs ?? 100;
    const rescanMs = opts.rescanMs ?? 30_000;
    this.root = path.resolve(dir);
    // depth 0: subdirectories (done/, archive/) are not task files, and not watched.
    // awaitWriteFinish: a file still being written is read once it holds still, not half-way.
    this.watcher = watch(this.root, {
      depth: 0,
      ignoreInitial: true,
      awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 20 },
    });
    this.ready = new Promise<void>((resolve) => (this.markReady = resolve));
    this.watcher.on('all', (event, p) => {
      if (p === this.root && (event === 'addDir' || event === 'unlinkDir')) this.rearm();
      if (relevant(this.root, p)) this.schedule();
    });
    this.watcher.on('error', (err) => this.report(err));
    this.watcher.once('ready', () => {
      if (this.closed) return;
      this.run();
      void (this.running ?? Promise.resolve()).then(this.markReady);
      if (rescanMs > 0) {
        this.rescan = setInterval(() => this.run(), rescanMs);
        // The watcher keeps the process alive while it runs; the safety net alone should not.
        this.rescan.unref();
      }
    });
  }

  async setLanes(next: readonly string[]): Promise<void> {
    if (next.length === this.lanes.length && next.every((l, i) => l === this.lanes[i])) return;
    this.lanes = next;
    this.run();
    await this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.rescan) clearInterval(this.rescan);
    this.timer = this.rescan = null;
    try {
      await this.watcher.close();
    } catch (err) {
      this.report(err);
    }
    await this.running;
    this.markReady();
  }

  private report(err: unknown): void {
    try {
      this.opts.onError?.(err instanceof Error ? err : new Error(String(err)));
    } catch {
      // An error handler that throws has nowhere left to report to; watching goes on.
    }
  }

  private rearm(): void {
    if (!this.closed) this.watcher.unwatch(this.root).add(this.root);
  }

  private async refresh(): Promise<void> {
    const snap = await readTasks(this.dir, this.lanes);
    if (this.closed) return;
    const nowPresent = !snap.problems.some((p) => p.file === this.dir && p.message === DIR_MISSING);
    if (this.present !== null && nowPresent !== this.present) {
      this.rearm();
      // Files made while the new watch was being set up raise no event; one more read sees them.
      this.schedule();
    }
    this.present = nowPresent;
    // Both lists are sorted by readTasks, so equal snapshots serialize equally.
    const json = JSON.stringify(snap);
    if (json === this.last) return;
    this.last = json;
    try {
      this.onSnapshot(snap);
    } catch (err) {
      this.report(err);
    }
  }

  // One read at a time; events during a read ask for one more read after it, never a parallel one
  // that could finish first and be overtaken by an older view.
  private run(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.refresh();
        } catch (err) {
          this.report(err);
        }
      } while (this.again && !this.closed);
      this.running = null;
    })();
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.run();
    }, this.debounceMs);
  }
}
