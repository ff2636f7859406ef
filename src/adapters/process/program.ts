// Runs a short helper program for its answer (the external selector, a quota probe, a grader) and
// reports what happened, never throwing: a program that cannot start, hangs, crashes or floods its
// output is a ProgramRun whose fields say so. The argv runs without a shell, in its own process
// group, so that at the time limit a wrapper script and whatever it started are killed together —
// otherwise a grandchild holding the stdout pipe keeps the caller waiting. (execa 9 cannot kill
// descendants; the group is signalled here, as in runner.ts.)
import { execa } from 'execa';
import type { ProgramRun } from '../../policy/program-run.js';
import { checkCwd, signalGroup, spawnFailure } from './runner.js';

export interface ProgramOptions {
  timeoutMs: number;
  /** Output beyond this many characters (stdout or stderr) stops the program. */
  outputCap: number;
  /** What the reason says when argv is empty, e.g. "selector.command is empty". */
  emptyCommand: string;
  cwd?: string;
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Written to its stdin; stdin is closed when absent. */
  input?: string;
}

export async function runProgram(argv: readonly string[], opts: ProgramOptions): Promise<ProgramRun> {
  const startedAt = Date.now();
  const unstarted = (error: string): ProgramRun => ({
    exitCode: null,
    signal: null,
    timedOut: false,
    stdout: '',
    stderr: '',
    durationMs: Date.now() - startedAt,
    error,
  });
  const [file, ...args] = argv;
  if (file === undefined || file === '') return unstarted(`could not start: ${opts.emptyCommand}`);
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
      ...(opts.input === undefined ? { stdin: 'ignore' as const } : { input: opts.input }),
      encoding: 'utf8',
      maxBuffer: opts.outputCap,
      forceKillAfterDelay: false,
    });
    const pid = child.pid;
    let timedOut = false;
    // The limit covers the whole run, including a leftover that keeps the pipe open after the
    // program itself exited: at the deadline the group goes, whoever is in it.
    const limit = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) signalGroup(pid, 'SIGKILL');
    }, opts.timeoutMs);
    const r = await child;
    clearTimeout(limit);
    const stdout = typeof r.stdout === 'string' ? r.stdout : '';
    const stderr = typeof r.stderr === 'string' ? r.stderr : '';
    const run: ProgramRun = {
      exitCode: r.exitCode ?? null,
      signal: r.signal ?? null,
      timedOut,
      stdout,
      stderr,
      durationMs: Date.now() - startedAt,
    };
    if (r.isMaxBuffer) {
      // execa stopped it; anything it left in the group goes too.
      if (pid !== undefined) signalGroup(pid, 'SIGKILL');
      run.error = `${stdout.length >= opts.outputCap ? 'stdout' : 'stderr'} went over the ${opts.outputCap}-character cap`;
    } else if (r.failed && r.exitCode === undefined && !r.signal && !timedOut) {
      run.error = `could not start: ${spawnFailure(r, file)}`;
    }
    return run;
  } catch (err) {
    // execa reports failures in its result with reject: false; this is for the unforeseen.
    return unstarted(`could not start: ${String((err as Error)?.message ?? err).split('\n')[0]}`);
  }
}
