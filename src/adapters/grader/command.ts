// Runs the grader command (`grading.command`) for one finished session and reports its grade, never
// throwing: the session record goes to its stdin as JSON, and its stdout must be
//   {"grade": 0.8, "dimensions": {"quality": 0.9}}
// (the same contract as a grade file; unknown fields are ignored). A grader that cannot start,
// hangs, exits non-zero, prints nothing or prints something else is { ok: false, reason }.
// The run itself is adapters/process/program.ts (no shell, its own process group, a time limit).
import { parseGradeText } from '../../policy/grade-contract.js';
import { runProblem } from '../../policy/program-run.js';
import { runProgram } from '../process/program.js';

/** Output beyond this many characters (stdout or stderr) stops the grader: no grade needs it. */
export const GRADER_OUTPUT_CAP = 1024 * 1024;

export interface GraderOptions {
  timeoutMs: number;
  /** Where the grader runs (the session's working directory); this process's own when absent. */
  cwd?: string;
  /** Added to this process's environment. */
  env?: Record<string, string>;
}

export type GraderResult =
  { ok: true; grade: number; dimensions: Record<string, number> | null } | { ok: false; reason: string };

export async function runGrader(argv: readonly string[], record: object, opts: GraderOptions): Promise<GraderResult> {
  let input: string;
  try {
    input = JSON.stringify(record);
  } catch (err) {
    return { ok: false, reason: `could not start: the session record is not JSON (${(err as Error).message})` };
  }
  const run = await runProgram(argv, {
    ...opts,
    input,
    outputCap: GRADER_OUTPUT_CAP,
    emptyCommand: 'grading.command is empty',
  });
  const failed = runProblem(run, { whenStderrEmpty: '' });
  if (failed) return { ok: false, reason: failed };
  // A grader that exits 0 without reading its stdin may leave an EPIPE behind: its output still counts.
  if (run.stdout.trim() === '') return { ok: false, reason: 'printed nothing (expected {"grade": x})' };
  const parsed = parseGradeText(run.stdout);
  return parsed.ok ? parsed : { ok: false, reason: parsed.reason };
}
