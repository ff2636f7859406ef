// The end of a session the supervisor watched (supervisor.ts): once its agent exits, the claims it
// took are given back, its exit is recorded and journaled (SESSION_EXITED) and it is graded; when
// supervision itself fails, the session is closed with the reason instead, so its lane moves on.
// `sent` says what has gone out already, so a failure halfway never reports an exit or a grade twice.
import type { Logger } from 'pino';
import { gitHead, workEvidence } from './git.js';
import type { RunHandle, RunResult } from './runner.js';
import type { GradeWatch } from '../watch/grade-watch.js';
import type { StartSessionIntent } from '../../machines/intents.js';
import { classifyExit } from '../../policy/outcome.js';
import { graderRecord, type SessionPaths } from './session-setup.js';
import { gradeSession, ungraded, type GradeDeps } from './session-grade.js';

/** What has been reported of a session. */
export interface Sent {
  exited: boolean;
  graded: boolean;
}

/** A session whose agent has exited, and what is known of its run. */
export interface Ended {
  intent: StartSessionIntent;
  paths: SessionPaths;
  cwd: string;
  log: Logger;
  handle: RunHandle;
  result: RunResult;
  /** HEAD before the agent started (null outside a git repository). */
  before: string | null;
  /** An agent a dead runtime left running, watched to its end: its exit code is not known. */
  adopted?: boolean;
  gradeWatch: GradeWatch;
}

/** Releases the claims the agent took, records and journals its exit, then grades it. */
export async function finishSession(deps: GradeDeps, s: Ended, sent: Sent): Promise<void> {
  const { store, emit } = deps;
  const { intent, result, adopted } = s;
  // Claims the agent took are released now, unless it asked to keep them (claim --keep);
  // the lane slot is released by the lane machine.
  // Both at once: the next session waits on this (operator mode measures the gap).
  // The grade file is read one last time: a write just before the exit counts.
  const [released, after, gradeFile] = await Promise.all([
    store.claims.releaseHolder(intent.sessionId, { except: [intent.claim.key] }),
    result.spawnError ? Promise.resolve(null) : gitHead(s.cwd).catch(() => null),
    s.gradeWatch.finish(),
  ]);
  if (released.length) s.log.info(`released ${released.join(', ')} at the end of ${intent.sessionId}`);
  // An adopted agent's exit code is not known: no verdict on how it went.
  const outcome =
    adopted && !result.timedOut ? 'unknown' : classifyExit({ ...result, work: workEvidence(s.before, after) });
  const reason = exitReason(result, adopted);
  await store.sessions.update(intent.sessionId, {
    ended_at: result.endedAt,
    exit_code: result.exitCode,
    signal: result.signal,
    outcome,
    reason,
  });
  sent.exited = true;
  emit({
    type: 'SESSION_EXITED',
    laneId: intent.laneId,
    sessionId: intent.sessionId,
    exitCode: result.exitCode,
    signal: result.signal,
    outcome,
    durationMs: result.endedAt - result.startedAt,
    reason,
    ...(released.length ? { releasedClaims: released } : {}),
    ...(s.handle.pid === null ? { started: false as const } : {}),
  });
  // An agent that never started says nothing about its lane or its arm.
  const record = graderRecord(
    intent,
    { ...result, outcome, reason },
    result.startedAt,
    s.paths.log,
    s.cwd,
    s.before,
    after,
  );
  const censored = result.spawnError ? `the agent did not start: ${result.spawnError}` : undefined;
  await gradeSession(deps, intent, gradeFile, record, s.log, censored);
  sent.graded = true;
}

/** Why the agent ended, when it did not simply exit by itself. */
function exitReason(result: RunResult, adopted: boolean | undefined): string | null {
  const killedHow = result.killed ? ' (ignored SIGTERM; SIGKILL)' : '';
  return (
    result.spawnError ??
    (result.timedOut
      ? `killed at its time limit${killedHow}`
      : result.stopped
        ? `stopped: ${result.stopped}${killedHow}`
        : adopted
          ? 'adopted after a restart: its exit code is not known'
          : null)
  );
}

/**
 * Closes a session whose supervision failed (its agent already stopped and gone): what was not
 * reported yet is reported with `reason`, and the claims it holds but the lane slot go back.
 */
export async function closeFailed(
  deps: Pick<GradeDeps, 'store' | 'emit'>,
  intent: StartSessionIntent,
  log: Logger,
  sent: Sent,
  reason: string,
): Promise<void> {
  const { store, emit } = deps;
  // The task claim and the agent's own claims go too, or they would block their work for a TTL.
  if (!sent.exited) {
    await store.claims
      .releaseHolder(intent.sessionId, { except: [intent.claim.key] })
      .catch((e: unknown) =>
        log.warn({ err: e }, `could not release the claims of ${intent.sessionId}; they expire with their TTL`),
      );
  }
  if (!sent.exited)
    emit({
      type: 'SESSION_EXITED',
      laneId: intent.laneId,
      sessionId: intent.sessionId,
      exitCode: null,
      signal: null,
      outcome: 'unknown',
      durationMs: 0,
      reason,
    });
  if (!sent.graded) emit(ungraded(intent));
}
