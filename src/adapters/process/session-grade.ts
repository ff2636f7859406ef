// How a finished session gets its grade. Sources, in order: (a) the grade file the session wrote,
// as its watcher saw it (adapters/watch/grade-watch.ts: the latest valid write, with one last read
// at exit); (b) the grader command, if configured (not for a censored session: an agent that
// never started has nothing to judge); (c) the default for the outcome. A rejected grade file
// write (reported by the watcher as it lands) or grader output is journaled (GRADE_REJECTED) with
// its reason. A grade file with only rejected writes that no grader replaces leaves the session
// ungraded: the session tried to grade itself and a guess from its outcome would hide that. With
// `grading.weights`, a grade that comes with dimensions becomes their weighted mean
// (policy/grade-composite.ts).
import type { Logger } from 'pino';
import { runGrader } from '../grader/command.js';
import type { Store } from '../../ports/store.js';
import type { WatchedGrade } from '../watch/grade-watch.js';
import { expandTemplate } from '../../config/template.js';
import type { ResolvedConfig } from '../../config/types.js';
import type { BusEvent, SessionGradedEvent } from '../../machines/events.js';
import type { StartSessionIntent } from '../../machines/intents.js';
import { applyComposite } from '../../policy/grade-composite.js';
import { DEFAULT_GRADES, type Outcome } from '../../policy/outcome.js';

/** What a grader command gets on stdin: the session as it ended (JSON; unknowns are null). */
export interface GraderRecord {
  id: string;
  lane: string;
  arm: string;
  dispatch: string;
  task: string | null;
  outcome: Outcome;
  exit_code: number | null;
  signal: string | null;
  duration_ms: number;
  reason: string | null;
  log_path: string;
  cwd: string;
  /** HEAD of the working directory before and after: null outside a git repository, '' before the first commit. */
  head_before: string | null;
  head_after: string | null;
}

export interface GradeDeps {
  config: ResolvedConfig;
  store: Store;
  emit: (event: BusEvent) => void;
}

/** Journals and logs a rejected grade (a grade file write, or grader output). */
export function rejectGrade(
  deps: Pick<GradeDeps, 'emit'>,
  intent: StartSessionIntent,
  log: Logger,
  reason: string,
  what: string,
): void {
  log.warn({ reason }, what);
  deps.emit({ type: 'GRADE_REJECTED', laneId: intent.laneId, sessionId: intent.sessionId, reason });
}

/** Grades a finished session from what its grade file gave (rejections already reported) and records it. */
export async function gradeSession(
  deps: GradeDeps,
  intent: StartSessionIntent,
  file: WatchedGrade,
  record: GraderRecord,
  log: Logger,
  censored?: string,
): Promise<void> {
  const { config, store, emit } = deps;
  let found: { grade: number; dimensions: Record<string, number> | null; source: 'session' | 'grader' } | null =
    file.ok === true ? { grade: file.grade, dimensions: file.dimensions, source: 'session' } : null;
  if (!found && config.grading.command && !censored) {
    const vars = { node: process.execPath, state: config.stateDir };
    const argv = config.grading.command.map((part) => expandTemplate(part, vars));
    const graded = await runGrader(argv, record, {
      timeoutMs: config.grading.timeoutMs,
      cwd: record.cwd,
      env: { LANEKEEPER_SESSION_ID: intent.sessionId, LANEKEEPER_LANE: intent.lane, LANEKEEPER_STATE: config.stateDir },
    });
    if (graded.ok) found = { grade: graded.grade, dimensions: graded.dimensions, source: 'grader' };
    else rejectGrade(deps, intent, log, `grader: ${graded.reason}`, 'grader output rejected; falling back');
  }
  let grade: number | null;
  let source: 'session' | 'grader' | 'default' | 'none';
  let dimensions: Record<string, number> | null = null;
  if (found) {
    grade = applyComposite(found.grade, found.dimensions, config.grading.weights);
    dimensions = found.dimensions;
    source = found.source;
  } else if (file.ok === 'missing') {
    grade = DEFAULT_GRADES[record.outcome];
    source = grade === null ? 'none' : 'default';
  } else {
    grade = null;
    source = 'none';
  }
  await store.sessions.update(intent.sessionId, { grade, grade_source: source, dimensions });
  emit({
    type: 'SESSION_GRADED',
    laneId: intent.laneId,
    sessionId: intent.sessionId,
    grade,
    source,
    dimensions,
    arm: intent.arm,
    ...(censored ? { censored } : {}),
  });
}

/** A session that ends without a grade (its supervision failed, or it was closed after a crash): learned as nothing. */
export function ungraded(intent: Pick<StartSessionIntent, 'laneId' | 'sessionId' | 'arm'>): SessionGradedEvent {
  return {
    type: 'SESSION_GRADED',
    laneId: intent.laneId,
    sessionId: intent.sessionId,
    grade: null,
    source: 'none',
    dimensions: null,
    arm: intent.arm,
  };
}
