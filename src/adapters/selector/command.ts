// Runs the external selector (`selector.command`) once and reports what happened, never throwing:
// a program that cannot start, hangs, crashes or floods its output is a SelectorRun whose fields
// say so, and policy/selector-contract.ts turns it into a verdict. The argv runs without a shell,
// in its own process group, so that at the time limit a wrapper script and whatever it started
// are killed together — otherwise a grandchild holding the stdout pipe keeps the tick waiting.
// (execa 9 cannot kill descendants; the group is signalled here, as in process/runner.ts.)
import { execa } from 'execa';
import type { SelectorRun } from '../../policy/selector-contract.js';
import { checkCwd } from '../process/runner.js';

/** Output beyond this many characters (stdout or stderr) stops the program: no selector needs it. */
export const SELECTOR_OUTPUT_CAP = 1024 * 1024;

export interface SelectorCommandOptions {
  timeoutMs: number;
  cwd?: string;
  /** Added to this process's environment (see selectorEnv). */
  env?: Record<string, string>;
}

/** What a selector is told about the tick: the configured lanes, and the configured width (sessions per tick at most). */
export function selectorEnv(lanes: readonly string[], width: number): Record<string, string> {
  return { LANEKEEPER_LANES: lanes.join(','), LANEKEEPER_WIDTH: String(width) };
}

export async function runSelectorCommand(argv: readonly string[], opts: SelectorCommandOptions): Promise<SelectorRun> {
  const startedAt = Date.now();
  const unstarted = (error: string): SelectorRun => ({ exitCode: null, signal: null, timedOut: false, stdout: '', stderr: '', durationMs: Date.now() - startedAt, error });
  const [file, ...args] = argv;
  if (file === undefined || file === '') return unstarted('could not start: selector.command is empty');
  if (opts.cwd !== undefined) {
    const problem = checkCwd(opts.cwd);
    if (problem) return unstarted(`could not start: ${problem}`);
  }

  try {
    const child = execa(file, args, {
      cwd: opts.cwd,
      env: opts.env,
      extendEnv: true,
      detached: true,
      reject: false,
      stdin: 'ignore',
      encoding: 'utf8',
      maxBuffer: SELECTOR_OUTPUT_CAP,
      forceKillAfterDelay: false,
    });
    const pid = child.pid;
    let timedOut = false;
    // The limit covers the whole run, including a leftover that keeps the pipe open after the
    // program itself exited: at the deadline the group goes, whoever is in it.
    const limit = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) killGroup(pid);
    }, opts.timeoutMs);
    const r = await child;
    clearTimeout(limit);
    const stdout = typeof r.stdout === 'string' ? r.stdout : '';
    const stderr = typeof r.stderr === 'string' ? r.stderr : '';
    const run: SelectorRun = { exitCode: r.exitCode ?? null, signal: r.signal ?? null, timedOut, stdout, stderr, durationMs: Date.now() - startedAt };
    if (r.isMaxBuffer) {
      // execa stopped it; anything it left in the group goes too.
      if (pid !== undefined) killGroup(pid);
      const which = stdout.length >= SELECTOR_OUTPUT_CAP ? 'stdout' : 'stderr';
      run.error = `${which} went over the ${SELECTOR_OUTPUT_CAP}-character cap`;
    } else if (r.failed && r.exitCode === undefined && !r.signal && !timedOut) {
      run.error = `could not start: ${startFailure(r, file)}`;
    }
    return run;
  } catch (err) {
    // execa reports failures in its result with reject: false; this is for the unforeseen.
    return unstarted(`could not start: ${String((err as Error)?.message ?? err).split('\n')[0]}`);
  }
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
