// A session agent started by an earlier lanekeeper that was killed: no longer our child, so there
// is no exit status to wait for. It is watched through /proc (alive, and still the process that
// started at the recorded time) until it ends; stopping it signals its process group like a
// session of our own. Its exit code is never known: the result says so.
import { groupAlive, signalGroup, type RunHandle, type RunResult } from './runner.js';
import { sameProcess } from './proc.js';

export interface AdoptSpec {
  /** The agent (the group leader) and its start time from /proc, or null when only its group is left. */
  pid: number;
  startTime: string | null;
  /** Its process group. */
  pgrp: number;
  /** When the session started (its record), for the duration. */
  startedAt: number;
  killGraceMs: number;
  /** Its time limit, counted from `startedAt` as when it began: stopped then, like any session. */
  timeoutMs?: number;
  /** How often /proc is looked at. */
  pollMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function adoptedHandle(spec: AdoptSpec, clock: () => number = Date.now): RunHandle {
  let stopped: string | null = null;
  let killed = false;
  let killTimer: NodeJS.Timeout | undefined;
  const poll = spec.pollMs ?? 250;
  // Alive while the agent is; an agent already gone but with forked leftovers ends at once (the
  // leftovers are cleared below, as for any session).
  const agentAlive = () => sameProcess(spec.pid, spec.startTime);
  let timedOut = false;
  const stop = () => {
    if (!groupAlive(spec.pgrp)) return;
    signalGroup(spec.pgrp, 'SIGTERM');
    killTimer ??= setTimeout(() => {
      if (groupAlive(spec.pgrp)) {
        killed = true;
        signalGroup(spec.pgrp, 'SIGKILL');
      }
    }, spec.killGraceMs);
  };
  const limit =
    spec.timeoutMs === undefined
      ? undefined
      : setTimeout(
          () => {
            timedOut = true;
            stop();
          },
          Math.max(0, spec.startedAt + spec.timeoutMs - clock()),
        );
  const exited = (async (): Promise<RunResult> => {
    while (agentAlive()) await sleep(poll);
    clearTimeout(killTimer);
    clearTimeout(limit);
    return {
      spawnError: null,
      exitCode: null,
      signal: null,
      timedOut,
      stopped,
      killed,
      startedAt: spec.startedAt,
      endedAt: clock(),
    };
  })();
  const gone = exited.then(async () => {
    if (!groupAlive(spec.pgrp)) return;
    signalGroup(spec.pgrp, 'SIGTERM');
    const deadline = Date.now() + Math.min(2000, spec.killGraceMs);
    while (groupAlive(spec.pgrp) && Date.now() < deadline) await sleep(50);
    if (groupAlive(spec.pgrp)) signalGroup(spec.pgrp, 'SIGKILL');
    const last = Date.now() + 5000;
    while (groupAlive(spec.pgrp) && Date.now() < last) await sleep(20);
  });
  return {
    pid: spec.pid,
    exited,
    gone,
    stop: (reason) => {
      stopped ??= reason;
      stop();
    },
  };
}
