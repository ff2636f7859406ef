// hooks.before_session (e.g. `git pull --rebase --autostash`) runs before each session under a
// mutex per repository, so parallel sessions never pull at once ("Cannot rebase onto multiple
// branches"). The mutex is a claim in the store, so it also holds across processes. Others wait,
// polling, up to hooks.wait; a failing hook fails that session's start, not the runtime.
import { appendFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import type { ClaimsPort } from '../../ports/store.js';
import { formatDuration } from '../../config/duration.js';

export interface HookRun {
  argv: readonly string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  waitMs: number;
  holder: string;
  logPath: string;
  claims: ClaimsPort;
  /** True once the runtime is shutting down: stop waiting for the mutex. */
  stopping: () => boolean;
}

export type HookResult = { ok: true; waitedMs: number } | { ok: false; reason: string };

const POLL_MS = 100;

export async function runBeforeSession(h: HookRun): Promise<HookResult> {
  const key = await mutexKey(h.cwd);
  const started = Date.now();
  let token: number;
  for (;;) {
    const r = await h.claims.acquire({ key, holder: h.holder, ttlMs: h.timeoutMs + 30_000 });
    if (r.granted) {
      token = r.token;
      break;
    }
    if (h.stopping()) return { ok: false, reason: 'the runtime is stopping; the session was not started' };
    if (Date.now() - started >= h.waitMs)
      return {
        ok: false,
        reason: `waited ${formatDuration(h.waitMs)} for the before_session mutex of ${h.cwd}, held by ${r.holder}`,
      };
    await new Promise((res) => setTimeout(res, POLL_MS));
  }
  const waitedMs = Date.now() - started;
  try {
    const [file, ...args] = h.argv;
    const r = await execa(file!, args, {
      cwd: h.cwd,
      env: h.env,
      extendEnv: false,
      timeout: h.timeoutMs,
      reject: false,
      stdin: 'ignore',
      all: true,
    });
    appendFileSync(h.logPath, `[lanekeeper] before_session: ${h.argv.join(' ')}\n${r.all ?? ''}\n`);
    if (r.exitCode === 0) return { ok: true, waitedMs };
    const how = r.timedOut
      ? `timed out after ${formatDuration(h.timeoutMs)}`
      : r.exitCode !== undefined
        ? `exit ${r.exitCode}`
        : (r as { code?: string }).code === 'ENOENT'
          ? `command not found: ${file}`
          : (r.signal ?? 'failed');
    const last = (r.all ?? '').trim().split('\n').pop()?.slice(0, 200);
    return { ok: false, reason: `before_session hook failed (${how})${last ? `: ${last}` : ''}` };
  } finally {
    await h.claims.release({ key, holder: h.holder, token });
  }
}

/** One mutex per repository: the git top level of the working directory, or the directory itself. */
async function mutexKey(cwd: string): Promise<string> {
  const top = await execa('git', ['rev-parse', '--show-toplevel'], { cwd, reject: false, stdin: 'ignore' });
  const repo = top.exitCode === 0 ? top.stdout.trim() : cwd;
  // Keys have at most 200 characters; a long path is hashed.
  return repo.length <= 150
    ? `mutex:before_session:${repo}`
    : `mutex:before_session:sha1:${createHash('sha1').update(repo).digest('hex')}`;
}
