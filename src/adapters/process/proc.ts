// What /proc says about a process: whether it is the one we started (its start time, so a pid the
// kernel handed to someone else is not mistaken for our agent) and which processes carry a
// session's id in their environment. Crash recovery reads these to find agents a killed runtime
// left running. Linux only: elsewhere every reading is null and recovery says so.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcInfo {
  /** Start time in clock ticks since boot (field 22 of /proc/PID/stat), as text. */
  startTime: string;
  /** The process group: a session's agent leads its own. */
  pgrp: number;
  /** A zombie has exited; only its parent has not collected it yet. */
  zombie: boolean;
}

/** The process as /proc shows it now, or null when there is none (or no /proc). */
export function procInfo(pid: number): ProcInfo | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); field N is fields[N - 3].
  const startTime = fields[19];
  const pgrp = Number(fields[2]);
  if (startTime === undefined || !Number.isInteger(pgrp)) return null;
  return { startTime, pgrp, zombie: fields[0] === 'Z' };
}

/** Whether `pid` is alive and is still the process that started at `startTime`. */
export function sameProcess(pid: number, startTime: string | null): boolean {
  const info = procInfo(pid);
  if (!info || info.zombie) return false;
  return startTime === null || info.startTime === startTime;
}

/**
 * Live processes whose environment names the session (LANEKEEPER_SESSION_ID) and its grade file
 * (LANEKEEPER_GRADE_FILE, which lies in the state directory), with their group. The agent and
 * everything it forked inherit both, so this finds a session even when its pid was never recorded
 * (the runtime died between the spawn and the write). Both, because a session id is only unique
 * within one state directory: another fleet on this machine may run an agent of the same id.
 */
export function sessionProcesses(sessionId: string, gradeFile: string): { pid: number; pgrp: number }[] {
  const needles = [
    Buffer.from(`\0LANEKEEPER_SESSION_ID=${sessionId}\0`),
    Buffer.from(`\0LANEKEEPER_GRADE_FILE=${gradeFile}\0`),
  ];
  const found: { pid: number; pgrp: number }[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    let env: Buffer;
    try {
      env = readFileSync(`/proc/${pid}/environ`);
    } catch {
      continue;
    }
    // A leading NUL so the first variable matches like the others.
    const padded = Buffer.concat([Buffer.from([0]), env, Buffer.from([0])]);
    if (!needles.every((n) => padded.includes(n))) continue;
    const info = procInfo(pid);
    if (info && !info.zombie) found.push({ pid, pgrp: info.pgrp });
  }
  return found;
}
