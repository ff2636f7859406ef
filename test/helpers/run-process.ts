// Starts the built CLI as a real process and lets a test wait for what it prints. Every process
// started here is killed when the test file ends, so a failed test leaves nothing running.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll } from 'vitest';
import { CLI } from './tmp.js';

export interface Running {
  child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Waits until the output matches `pattern` `count` times; fails after `timeoutMs` or at an early exit. */
  waitFor(pattern: RegExp, opts?: { count?: number; timeoutMs?: number }): Promise<void>;
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** What the kernel says a silent process is doing, for a timeout's message. */
function procState(pid: number | undefined): string {
  if (pid === undefined) return 'no pid';
  try {
    const state = /State:\s+(.*)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';
    const threads = readdirSync(`/proc/${pid}/task`).map(
      (t) => readFileSync(`/proc/${pid}/task/${t}/wchan`, 'utf8') || 'running',
    );
    return `pid ${pid} ${state}; threads waiting in: ${[...new Set(threads)].join(', ')}`;
  } catch {
    return `pid ${pid}: no /proc entry`;
  }
}

export function startCli(
  args: string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string } = {},
): Running {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: opts.cwd,
    env: { ...process.env, LANEKEEPER_STATE: undefined, ...opts.env },
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let done = false;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  void exited.then(() => (done = true));
  return {
    child,
    output: () => out,
    exited,
    async waitFor(pattern, { count = 1, timeoutMs = 30_000 } = {}) {
      const until = Date.now() + timeoutMs;
      const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
      while ((out.match(global) ?? []).length < count) {
        if (done) throw new Error(`lanekeeper ${args[0]} exited before printing ${pattern} (${count}×):\n${out}`);
        if (Date.now() > until)
          throw new Error(
            `lanekeeper ${args[0]} did not print ${pattern} (${count}×) in ${timeoutMs} ms (${procState(child.pid)}):\n${out}`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** Processes (not zombies) whose environment names this state directory: agents and what they forked. */
export function leftovers(state: string): number[] {
  const needle = Buffer.from(`LANEKEEPER_STATE=${state}\0`);
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!readFileSync(`/proc/${name}/environ`).includes(needle)) continue;
      if (/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${name}/stat`, 'utf8'))) continue;
      found.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}
