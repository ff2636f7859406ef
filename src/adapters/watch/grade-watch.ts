// Watches the grade file of one session ($LANEKEEPER_GRADE_FILE) from the moment the session
// starts, so a grade written mid-session, and rewritten later, is seen as it lands and a bad write
// is reported while the session still runs. The latest valid grade is the one kept; an invalid
// write is reported once, with its reason, and never replaces a valid grade seen before it (a
// later valid write counts again). finish() stops watching and reads the file one last time, which
// closes the race of a write just before the session exited.
//
// Writes are expected to be atomic: a temporary file renamed over the grade file. A file written
// in place is read only once it has been quiet for settleMs, so a write in two quick halves is
// read whole. A half that stays long enough to be read is still never taken: no strict prefix of a
// JSON object parses. An empty file met mid-session is a write that has only truncated so far,
// and is left for the next event or the final read.
//
// The session's directory is watched, not the file's path: chokidar watching a path directly
// misses some renames over it, and the directory watch sees every one. Everything else in that
// directory (output.log grows all the time) is ignored. The quiet time is a timer of ours rather
// than chokidar's awaitWriteFinish, because awaitWriteFinish keeps polling a file after close()
// until it holds still: an orphan that kept writing would keep the process alive.
import path from 'node:path';
import { watch } from 'chokidar';
import { readGradeFile } from '../process/grade-file.js';

export interface WatchedGradeValue {
  grade: number;
  dimensions: Record<string, number> | null;
}

/**
 * What the session's grade file gave: the latest valid grade; else, when only invalid writes were
 * seen, the reason of the latest (already reported through onRejected); else missing.
 */
export type WatchedGrade = ({ ok: true } & WatchedGradeValue) | { ok: false; reason: string } | { ok: 'missing' };

export interface GradeWatchOptions {
  /** Quiet time after a file event before the file is read. Default 500 ms (a grade is not urgent). */
  settleMs?: number;
  /** A valid grade arrived while the session ran (not called for the final read). */
  onGrade?: (grade: WatchedGradeValue) => void;
  /** An invalid write, with the reason naming the file; once per distinct content. */
  onRejected?: (reason: string) => void;
  /** Watcher errors, and errors thrown by the callbacks; watching goes on after them. */
  onError?: (err: Error) => void;
}

export interface GradeWatch {
  /** Resolves once the watcher runs (or on close). */
  ready: Promise<void>;
  /** Stops watching, reads the file once more, and says what the session's grade file gave. */
  finish(): Promise<WatchedGrade>;
  /** Stops watching without a final read (a session whose supervision failed). Idempotent. */
  close(): Promise<void>;
}

export function watchGradeFile(file: string, opts: GradeWatchOptions = {}): GradeWatch {
  const settleMs = opts.settleMs ?? 500;
  const target = path.resolve(file);
  const dir = path.dirname(target);
  let closed = false;
  let timer: NodeJS.Timeout | null = null;

  const report = (err: unknown) => {
    try {
      opts.onError?.(err instanceof Error ? err : new Error(String(err)));
    } catch {
      // An error handler that throws has nowhere left to report to.
    }
  };
  const reads = new GradeReads(target, opts, report);

  const schedule = () => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      void reads.look(false);
    }, settleMs);
  };

  // ignoreInitial is off: a file already there when watching starts is read like a new one.
  const watcher = watch(dir, {
    depth: 0,
    ignoreInitial: false,
    ignored: (p) => p !== dir && path.resolve(p) !== target,
  });
  watcher.on('all', (event, p) => {
    if ((event === 'add' || event === 'change') && path.resolve(p) === target) schedule();
  });
  watcher.on('error', report);

  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  watcher.once('ready', () => markReady());

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
      try {
        await watcher.close();
      } catch (err) {
        report(err);
      }
      await reads.done;
      markReady();
    })());

  return {
    ready,
    close,
    async finish() {
      await close();
      await reads.look(true);
      return reads.result();
    },
  };
}

/** The reads of one grade file, one at a time and in order, and what they saw. */
class GradeReads {
  /** What the last read saw (the text, or the read error), so the same content is judged once. */
  private lastSeen: string | null = null;
  private readonly reported = new Set<string>();
  private latest: WatchedGradeValue | null = null;
  private rejected: string | null = null;
  // One read at a time, in order: an older read can never land after a newer one.
  private reads: Promise<void> = Promise.resolve();

  constructor(
    private readonly target: string,
    private readonly opts: GradeWatchOptions,
    private readonly report: (err: unknown) => void,
  ) {}

  /** Resolves once the reads asked for so far are done. */
  get done(): Promise<void> {
    return this.reads;
  }

  /** Reads the file after the reads before; `final`: the read at the end (an empty file counts). */
  look(final: boolean): Promise<void> {
    this.reads = this.reads
      .then(async () => {
        const r = await readGradeFile(this.target);
        if (r.ok === 'missing') return;
        if (!final && r.ok === false && r.text?.trim() === '') return;
        const seen = r.text ?? `unreadable: ${r.reason}`;
        if (seen === this.lastSeen) return;
        this.lastSeen = seen;
        if (r.ok) {
          this.latest = { grade: r.grade, dimensions: r.dimensions };
          const value = this.latest;
          if (!final) this.call(() => this.opts.onGrade?.(value));
        } else {
          this.rejected = r.reason;
          if (this.reported.has(seen)) return;
          this.reported.add(seen);
          this.call(() => this.opts.onRejected?.(r.reason));
        }
      })
      .catch(this.report);
    return this.reads;
  }

  /** What the file gave: the latest valid grade, else the latest rejection, else missing. */
  result(): WatchedGrade {
    if (this.latest) return { ok: true, ...this.latest };
    if (this.rejected !== null) return { ok: false, reason: this.rejected };
    return { ok: 'missing' };
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.report(err);
    }
  }
}
