// Runs one agent session as a real process: an argv array (never a shell string), its own process
// group, stdout and stderr appended to the session's log file. At the time limit the whole group
// gets SIGTERM, then SIGKILL after the grace period. When the agent exits, whatever it left behind
// in its group (forked grandchildren) is terminated too. execa 9 cannot kill descendants, so the
// group is signalled here with process.kill(-pid, …).
import { closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

export interface RunSpec {
  argv: readonly string[];
  cwd: string;
  env: Record<string, string>;
  logPath: string;
  timeoutMs: number;
  killGraceMs: number;
}

export interface RunResult {
  /** Why the process could not start, or null. */
  spawnError: string | null;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Why the runtime stopped it before its time limit (shutdown), or null. */
  stopped: string | null;
  /** The group had to be killed with SIGKILL. */
  killed: boolean;
  startedAt: number;
  endedAt: number;
}

export interface RunHandle {
  pid: number | null;
  /** Resolves when the agent process exits (or failed to start). */
  exited: Promise<RunResult>;
  /** Resolves when nothing of the session's process group is left. */
  gone: Promise<void>;
  /** Ask the session to stop now: SIGTERM to the group, SIGKILL after the grace period. */
  stop(reason: string): void;
}

/** Grace given to leftovers (grandchildren) after the agent itself exited. */
const LEFTOVER_GRACE_MS = 2000;

export function runSession(spec: RunSpec, clock: () => number = Date.now): RunHandle {
  const startedAt = clock();
  const precheck = checkCwd(spec.cwd);
  if (precheck) return unstartedHandle({ spawnError: precheck }, startedAt, clock);

  mkdirSync(path.dirname(spec.logPath), { recursive: true });
  const fd = openSync(spec.logPath, 'a');
  const [file, ...args] = spec.argv;
  const options = {
    cwd: spec.cwd,
    env: spec.env,
    extendEnv: false,
    detached: true,
    cleanup: false,
    reject: false,
    stdin: 'ignore',
    // A raw descriptor, not {file}: the agent writes to the log itself, so no pipe through this
    // process stays open after the agent exits. (execa's types list only 3–9; any fd works.)
    stdout: fd as 3,
    stderr: fd as 3,
    forceKillAfterDelay: false,
  } as const;
  let child: ReturnType<typeof execa<typeof options>>;
  try {
    child = execa(file!, [...args], options);
  } catch (err) {
    // Arguments node refuses outright (a NUL byte in a prompt): a start that failed, with why.
    closeSync(fd);
    return unstartedHandle({ spawnError: spawnFailure(err as Error, file!) }, startedAt, clock);
  }
  closeSync(fd); // the child holds its own copy
  const pid = child.pid ?? null;

  let timedOut = false;
  let stopped: string | null = null;
  let killed = false;
  let killTimer: NodeJS.Timeout | undefined;
  const stopGroup = () => {
    if (pid === null || !groupAlive(pid)) return;
    signalGroup(pid, 'SIGTERM');
    killTimer ??= setTimeout(() => {
      if (groupAlive(pid)) {
        killed = true;
        signalGroup(pid, 'SIGKILL');
      }
    }, spec.killGraceMs);
  };
  const limit = setTimeout(() => {
    timedOut = true;
    stopGroup();
  }, spec.timeoutMs);

  const exited = child.then((r): RunResult => {
    clearTimeout(limit);
    const spawnError = r.failed && r.exitCode === undefined && !r.signal ? spawnFailure(r, file!) : null;
    return {
      spawnError,
      exitCode: r.exitCode ?? null,
      signal: r.signal ?? null,
      timedOut,
      stopped,
      killed,
      startedAt,
      endedAt: clock(),
    };
  });
  const gone = exited.then(async () => {
    await reapLeftovers(pid, spec.killGraceMs);
    clearTimeout(killTimer);
  });
  return {
    pid,
    exited,
    gone,
    stop: (reason) => {
      stopped ??= reason;
      stopGroup();
    },
  };
}

/**
 * What the agent left behind in its group after it exited (forked grandchildren) gets SIGTERM,
 * then SIGKILL after a short grace; resolves once nothing of the group is left.
 */
async function reapLeftovers(pid: number | null, killGraceMs: number): Promise<void> {
  if (pid === null || !groupAlive(pid)) return;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + Math.min(LEFTOVER_GRACE_MS, killGraceMs);
  while (groupAlive(pid) && Date.now() < deadline) await sleep(50);
  if (groupAlive(pid)) signalGroup(pid, 'SIGKILL');
  // Bounded: a leftover that cannot be signalled (EPERM) must not hang the drain.
  const last = Date.now() + 5000;
  while (groupAlive(pid) && Date.now() < last) await sleep(20);
}

/** A session that never became a process: it could not start, or the runtime stopped it first. */
export function unstartedHandle(
  why: { spawnError: string } | { stopped: string },
  startedAt: number,
  clock: () => number = Date.now,
): RunHandle {
  const exited = Promise.resolve<RunResult>({
    spawnError: null,
    stopped: null,
    ...why,
    exitCode: null,
    signal: null,
    timedOut: false,
    killed: false,
    startedAt,
    endedAt: clock(),
  });
  return { pid: null, exited, gone: exited.then(() => undefined), stop: () => {} };
}

export function checkCwd(cwd: string): string | null {
  if (!existsSync(cwd)) return `working directory ${cwd} does not exist`;
  if (!statSync(cwd).isDirectory()) return `working directory ${cwd} is not a directory`;
  return null;
}

/** Why a command could not start, in a line: not found, not executable, or the system's reason. */
export function spawnFailure(r: { code?: string; message?: string; shortMessage?: string }, file: string): string {
  if (r.code === 'ENOENT') return `command not found: ${file}`;
  if (r.code === 'EACCES') return `command not executable: ${file}`;
  return (r.shortMessage ?? r.message ?? 'could not start').split('\n')[0]!;
}

/** Whether a process exists (EPERM: it does, it is just not ours to signal). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export const groupAlive = (pgid: number): boolean => pidAlive(-pgid);

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
