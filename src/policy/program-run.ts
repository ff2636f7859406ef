// What became of a short helper program lanekeeper runs for an answer (the external selector, a
// quota probe, a grader), and the one-line reasons for a run that gave none. Pure: the process
// adapter (adapters/process/program.ts) fills a ProgramRun; the contracts that read its stdout
// start from these.
import { describeValue } from '../config/problems.js';

export interface ProgramRun {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** Why the run gave no usable output although it was not a plain exit: could not start, output over the cap. */
  error?: string;
}

const STDERR_CHARS = 200;

/** ": <first stderr line>", cut to 200 characters, or `whenEmpty`. */
export function stderrNote(stderr: string, whenEmpty = ' (stderr empty)'): string {
  const line = stderr
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
  if (line === undefined) return whenEmpty;
  return `: ${line.length > STDERR_CHARS ? `${line.slice(0, STDERR_CHARS)}…` : line}`;
}

/**
 * Why a run gave no answer, or null when it exited 0. The time-out names the limit when given
 * (else how long the run took); `whenStderrEmpty` is what stands in for an empty stderr.
 */
export function runProblem(
  run: ProgramRun,
  opts: { timeoutMs?: number; whenStderrEmpty?: string } = {},
): string | null {
  if (run.error) return run.error;
  if (run.timedOut) return `timed out after ${opts.timeoutMs ?? Math.round(run.durationMs)} ms`;
  if (run.signal) return `killed by ${run.signal}${stderrNote(run.stderr, opts.whenStderrEmpty)}`;
  if (run.exitCode === null) return 'ended without an exit code';
  if (run.exitCode !== 0) return `exited with code ${run.exitCode}${stderrNote(run.stderr, opts.whenStderrEmpty)}`;
  return null;
}

/** The JSON object a program printed, or why there is none (`expected` completes "expected an object …"). */
export function jsonObject(
  stdout: string,
  expected: string,
): { ok: true; data: Record<string, unknown> } | { ok: false; reason: string } {
  const text = stdout.trim();
  if (text === '') return { ok: false, reason: 'printed nothing on stdout (expected a JSON object)' };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `stdout is not valid JSON (${(err as Error).message})` };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, reason: `stdout JSON is ${describeValue(data)}, expected an object ${expected}` };
  }
  return { ok: true, data: data as Record<string, unknown> };
}
