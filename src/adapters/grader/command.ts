// Runs the grader command (`grading.command`) for one finished session and reports its grade, never
// throwing: the session record goes to its stdin as JSON, and its stdout must be
//   {"grade": 0.8, "dimensions": {"quality": 0.9}}
// (the same contract as a grade file; unknown fields are ignored). A grader that cannot start,
// hangs, exits non-zero, prints nothing or prints something else is { ok: false, reason }.
// As in selector/command.ts, the argv runs without a shell in its own process group, so that at the
// time limit a wrapper script and whatever it started are killed together.
import { execa } from 'execa';
import { parseGradeText } from '../../policy/grade-contract.js';
import { checkCwd } from '../process/runner.js';

/** Output beyond this many characters (stdout or stderr) stops the grader: no grade needs it. */
export const GRADER_OUTPUT_CAP = 1024 * 1024;

export interface GraderOptions {
  timeoutMs: number;
  /** Where the grader runs (the session's working directory); this process's own when absent. */
  cwd?: string;
  /** Added to this process's environment. */
  env?: Record<string, string>;
}

export type GraderResult = { ok: true; grade: number; dimensions: Record<string, number> | null } | { ok: false; reason: string };

export async function runGrader(argv: readonly string[], record: object, opts: GraderOptions): Promise<GraderResult> {
  const fail = (reason: string): GraderResult => ({ ok: false, reason });
  const [file, ...args] = argv;
  if (file === undefined || file === '') return fail('could not start: grading.command is empty');
  if (opts.cwd !== undefined) {
    const problem = checkCwd(opts.cwd);
    if (problem) return fail(`could not start: ${problem}`);
  }
  let input: string;
  try {
    input = JSON.stringify(record);
  } catch (err) {
    return fail(`could not start: the session record is not JSON (${(err as Error).message})`);
  }

  try {
    const startedAt = Date.now();
    const child = execa(file, args, {
      cwd: opts.cwd,
      env: opts.env,
      extendEnv: true,
      detached: true,
      reject: false,
      input,
      encoding: 'utf8',
      maxBuffer: GRADER_OUTPUT_CAP,
      forceKillAfterDelay: false,
    });
    const pid = child.pid;
    let timedOut = false;
    // The limit covers the whole run, including a leftover that keeps the pipe open after the
    // grader itself exited: at the deadline the group goes, whoever is in it.
    const limit = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) killGroup(pid);
    }, opts.timeoutMs);
    const r = await child;
    clearTimeout(limit);
    const stdout = typeof r.stdout === 'string' ? r.stdout : '';
    const stderr = typeof r.stderr === 'string' ? r.stderr : '';
    if (timedOut) return fail(`timed out after ${Date.now() - startedAt} ms`);
    if (r.isMaxBuffer) {
      if (pid !== undefined) killGroup(pid);
      return fail(`${stdout.length >= GRADER_OUTPUT_CAP ? 'stdout' : 'stderr'} went over the ${GRADER_OUTPUT_CAP}-character cap`);
    }
    if (r.exitCode === undefined && !r.signal) return fail(`could not start: ${startFailure(r, file)}`);
    if (r.signal) return fail(`killed by ${r.signal}${firstLine(stderr) ? `: ${firstLine(stderr)}` : ''}`);
    if (r.exitCode !== 0) return fail(`exited with code ${r.exitCode}${firstLine(stderr) ? `: ${firstLine(stderr)}` : ''}`);
    // A grader that exits 0 without reading its stdin may leave an EPIPE behind: its output still counts.
    if (stdout.trim() === '') return fail('printed nothing (expected {"grade": x})');
    const parsed = parseGradeText(stdout);
    return parsed.ok ? parsed : fail(parsed.reason);
  } catch (err) {
    // execa reports failures in its result with reject: false; this is for the unforeseen.
    return fail(`could not start: ${String((err as Error)?.message ?? err).split('\n')[0]}`);
  }
}

function firstLine(text: string): string {
  return text.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
}

function startFailure(r: { code?: string; message?: string; shortMessage?: string }, file: string): string {
  if (r.code === 'ENOENT') return `command not found: ${file}`;
  if (r.code === 'EACCES') return `command not executable: ${file}`;
  return (r.shortMessage ?? r.message ?? 'unknown error').split('\n')[0]!;
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
