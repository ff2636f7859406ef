// Closing a session whose agent is gone without anyone watching it: it ended while no runtime ran,
// or it never started. Crash recovery finds these (runtime/recover.ts) and hands them to the
// supervisor (supervisor.ts, `close`), which closes them here: the exit the dead runtime recorded,
// or an unknown outcome with the reason; the claims it held but the lane slot released; a grade
// read once from its grade file, unless the dead runtime recorded one already.
import type { Logger } from 'pino';
import { readGradeFile } from './grade-file.js';
import type { WatchedGrade } from '../watch/grade-watch.js';
import type { StartSessionIntent } from '../../machines/intents.js';
import {
  graderRecord,
  sessionPaths,
  sessionRow,
  type ExitRecord,
  type GradedRecord,
  type SessionPaths,
} from './session-setup.js';
import { gradeSession, rejectGrade, ungraded, type GradeDeps } from './session-grade.js';

/** What is known of a session found with its agent gone. */
export interface GoneSession {
  /** Why its outcome is unknown, when no exit was recorded. */
  reason: string;
  cwd: string;
  startedAt: number;
  /** The exit the dead runtime recorded. */
  exited?: ExitRecord;
  /** The dead runtime journaled that exit too. */
  journaled?: boolean;
  /** The grade the dead runtime recorded. */
  graded?: GradedRecord;
}

/** Closes the session; never rejects (a failure is logged and the session goes ungraded). */
export async function closeSession(
  deps: GradeDeps & { log: Logger },
  clock: () => number,
  intent: StartSessionIntent,
  how: GoneSession,
): Promise<void> {
  const log = deps.log.child({ lane: intent.lane, session: intent.sessionId });
  const paths = sessionPaths(deps.config, intent);
  try {
    const exit = await recordExit(deps, clock, intent, how, paths, log);
    if (how.graded) {
      deps.emit({
        type: 'SESSION_GRADED',
        laneId: intent.laneId,
        sessionId: intent.sessionId,
        ...how.graded,
        arm: intent.arm,
      });
      return;
    }
    // Read once: nobody watched it while the runtime was down.
    const read = await readGradeFile(paths.grade);
    if (read.ok === false) rejectGrade(deps, intent, log, read.reason, 'grade file rejected');
    const gradeFile: WatchedGrade =
      read.ok === true
        ? { ok: true, grade: read.grade, dimensions: read.dimensions }
        : read.ok === false
          ? { ok: false, reason: read.reason }
          : { ok: 'missing' };
    const record = graderRecord(intent, exit, how.startedAt, paths.log, how.cwd, null, null);
    await gradeSession(deps, intent, gradeFile, record, log);
  } catch (err: unknown) {
    log.error({ err }, 'closing a session left by the runtime before failed');
    deps.emit(ungraded(intent));
  }
}

/** Its row, its claims released, its exit recorded and journaled unless the dead runtime did. */
async function recordExit(
  deps: GradeDeps,
  clock: () => number,
  intent: StartSessionIntent,
  how: GoneSession,
  paths: SessionPaths,
  log: Logger,
): Promise<ExitRecord> {
  const { store, emit } = deps;
  const row = await store.sessions.get(intent.sessionId);
  if (!row) await store.sessions.insert(sessionRow(intent, how.startedAt, paths.log));
  const releasedNow = await store.claims.releaseHolder(intent.sessionId, { except: [intent.claim.key] });
  // A task claim the dead run already gave back at the session's end counts as given back: a
  // respawn goes on with a task whose claim went back, not with one that was completed.
  const task = intent.taskClaim?.key;
  const givenBack =
    task && !releasedNow.includes(task) && how.exited
      ? (await store.claims.list({ all: true, holder: intent.sessionId })).some(
          (c) => c.key === task && c.state === 'released',
        )
      : false;
  const released = givenBack ? [...releasedNow, task!] : releasedNow;
  const exit = how.exited ?? {
    exitCode: null,
    signal: null,
    outcome: 'unknown' as const,
    reason: how.reason,
    endedAt: clock(),
  };
  if (!how.exited) {
    await store.sessions.update(intent.sessionId, {
      ended_at: exit.endedAt,
      exit_code: null,
      signal: null,
      outcome: 'unknown',
      reason: how.reason,
    });
    log.warn(`${intent.sessionId}: ${how.reason}`);
  }
  if (!how.journaled) {
    emit({
      type: 'SESSION_EXITED',
      laneId: intent.laneId,
      sessionId: intent.sessionId,
      exitCode: exit.exitCode,
      signal: exit.signal,
      outcome: exit.outcome,
      durationMs: Math.max(0, exit.endedAt - how.startedAt),
      reason: exit.reason,
      ...(released.length ? { releasedClaims: released } : {}),
    });
  }
  return exit;
}
