// lanekeeper grade SESSION_ID SCORE [--dimensions JSON] [--state DIR]: a grade given after the
// fact. The session's record shows it at once; the runtime learns it within a second when it is
// running, or at its next start, and it replaces the session's earlier grade in what was learned.
import { UsageError } from '../errors.js';
import { parseGradeText } from '../policy/grade-contract.js';
import { out } from './io.js';
import { openReaderStore } from './reader-store.js';

export interface GradeOptions {
  state?: string;
  config?: string;
  dimensions?: string;
}

export async function gradeCommand(sessionId: string, score: string, opts: GradeOptions): Promise<void> {
  const grade = Number(score);
  if (score.trim() === '' || !Number.isFinite(grade) || grade < 0 || grade > 1)
    throw new UsageError(`SCORE: expected a grade from 0 to 1, got ${JSON.stringify(score)}`);
  let dimensions: Record<string, number> | null = null;
  if (opts.dimensions !== undefined) {
    // The same contract as a grade file, so a grade means the same wherever it comes from.
    let parsed: unknown;
    try {
      parsed = JSON.parse(opts.dimensions);
    } catch (err) {
      throw new UsageError(`--dimensions: not JSON (${(err as Error).message})`);
    }
    const checked = parseGradeText(JSON.stringify({ grade, dimensions: parsed }));
    if (!checked.ok) throw new UsageError(`--dimensions: ${checked.reason}`);
    dimensions = checked.dimensions;
  }
  const { store, dir, url } = await openReaderStore(opts, process.env);
  try {
    const session = await store.sessions.get(sessionId);
    if (!session)
      throw new UsageError(`no session "${sessionId}" in ${url ? store.location : dir} (lanekeeper status lists them)`);
    if (session.ended_at === null)
      throw new UsageError(
        `session ${sessionId} is still running; grade it when it has ended, or let it write $LANEKEEPER_GRADE_FILE`,
      );
    await store.sessions.update(sessionId, { grade, grade_source: 'late', dimensions });
    await store.lateGrades.add({ session: sessionId, grade, dimensions, at: Date.now() });
    const was =
      session.grade === null
        ? 'ungraded before'
        : `was ${session.grade.toFixed(2)} from ${session.grade_source ?? 'unknown'}`;
    out(
      `graded ${sessionId} ${grade.toFixed(2)} (${was}); a running lanekeeper learns it within a second, else at its next start`,
    );
  } finally {
    await store.close();
  }
}
