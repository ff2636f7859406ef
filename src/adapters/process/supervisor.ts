// The session supervisor: turns a startSession intent into a real process and its results into
// bus events (SESSION_STARTED, SESSION_EXITED, then GRADE_REJECTED? and SESSION_GRADED). It keeps
// the session's claims alive while the process runs (an RxJS interval, one renewal at a time),
// watches its grade file (a rejected write is journaled as it lands), and records the session in
// the store. Its end: session-end.ts; a session found with its agent gone: session-close.ts;
// grading: session-grade.ts.
import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import { exhaustMap, from, interval, type Subscription } from 'rxjs';
import { gitHead } from './git.js';
import { checkCwd, runSession, unstartedHandle, type RunHandle } from './runner.js';
import type { Store } from '../../ports/store.js';
import { watchGradeFile, type GradeWatch } from '../watch/grade-watch.js';
import { expandTemplate, type TemplateVars } from '../../config/template.js';
import type { ResolvedConfig } from '../../config/types.js';
import type { BusEvent } from '../../machines/events.js';
import type { StartSessionIntent } from '../../machines/intents.js';
import { adoptedHandle } from './adopt.js';
import { procInfo } from './proc.js';
import { runBeforeSession } from './hooks.js';
import {
  laneCwd,
  renewEvery,
  sessionEnv,
  sessionPaths,
  sessionRow,
  templateVars,
  type SessionPaths,
} from './session-setup.js';
import { rejectGrade } from './session-grade.js';
import { closeFailed, finishSession, type Sent } from './session-end.js';
import { closeSession, type GoneSession } from './session-close.js';

export interface SupervisorDeps {
  config: ResolvedConfig;
  store: Store;
  log: Logger;
  /** The environment sessions inherit (the runtime's own, passed in by the CLI). */
  baseEnv: Readonly<Record<string, string | undefined>>;
  emit: (event: BusEvent) => void;
  clock?: () => number;
  /** The time limit for a session on `arm` (shorter when its backend's quota runs low). */
  timeoutFor?: (arm: string, laneTimeoutMs: number) => number;
}

interface Live {
  handle: RunHandle | null;
  done: Promise<void>;
}

export class SessionSupervisor {
  private readonly live = new Map<string, Live>();
  private readonly clock: () => number;
  private stopping: string | null = null;
  /** The next turn of the event loop, when the agents set up before it are spawned (spawnTurn). */
  private turn: Promise<void> | null = null;

  constructor(private readonly deps: SupervisorDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  get running(): number {
    return this.live.size;
  }

  start(intent: StartSessionIntent): void {
    const { config, store, emit } = this.deps;
    const lane = config.lanes.find((l) => l.name === intent.lane);
    const arm = config.arms.find((a) => a.id === intent.arm);
    if (!lane || !arm) {
      // Decided under a configuration a reload has since replaced: nothing to run it with.
      const what = !lane ? `lane ${intent.lane}` : `backend and model ${intent.arm}`;
      this.supervise(intent, config.stateDir, async ({ paths, entry }) => {
        await store.sessions.insert(sessionRow(intent, this.clock(), paths.log));
        entry.handle = unstartedHandle(
          { spawnError: `${what} is no longer configured (the configuration was reloaded)` },
          this.clock(),
          this.clock,
        );
        return { handle: entry.handle, before: null };
      });
      return;
    }
    const vars = templateVars(config, arm, intent);
    vars.prompt = expandTemplate(lane.prompt, vars);
    const cwd = laneCwd(config, lane, arm, vars);
    this.supervise(intent, cwd, async ({ paths, entry }) => {
      await store.sessions.insert(sessionRow(intent, this.clock(), paths.log));
      const env = sessionEnv(this.deps.config, this.deps.baseEnv, arm, intent, vars, paths.grade);
      const cwdProblem = checkCwd(cwd);
      const hook = cwdProblem
        ? { ok: false as const, reason: cwdProblem }
        : config.hooks.beforeSession && !this.stopping
          ? await this.beforeSession(intent, vars, cwd, env, paths.log)
          : null;
      // HEAD is read after the hook: a pull that moves it is not the session's work.
      const before = await gitHead(cwd).catch(() => null);
      await this.spawnTurn();
      const handle = this.stopping
        ? unstartedHandle({ stopped: `${this.stopping} (before it started)` }, this.clock(), this.clock)
        : hook && !hook.ok
          ? unstartedHandle({ spawnError: hook.reason }, this.clock(), this.clock)
          : runSession(
              {
                argv: arm.command.map((part) => expandTemplate(part, vars)),
                cwd,
                env,
                logPath: paths.log,
                timeoutMs: this.deps.timeoutFor?.(intent.arm, intent.timeoutMs) ?? intent.timeoutMs,
                killGraceMs: config.sessions.killGraceMs,
              },
              this.clock,
            );
      entry.handle = handle;
      if (handle.pid !== null) {
        // The start time tells this agent from a later process given the same pid (crash recovery).
        await store.sessions.update(intent.sessionId, {
          pid: handle.pid,
          pid_start: procInfo(handle.pid)?.startTime ?? null,
        });
        emit({
          type: 'SESSION_STARTED',
          laneId: intent.laneId,
          sessionId: intent.sessionId,
          pid: handle.pid,
          arm: intent.arm,
        });
      }
      return { handle, before };
    });
  }

  /**
   * Watch a session a dead runtime left running (found alive by pid and start time) to its end, as
   * if it were our own: its claims renewed, its grade file watched, its exit recorded and graded.
   * `kill`: stop it at once instead (sessions.on_restart: kill).
   */
  adopt(
    intent: StartSessionIntent,
    found: { pid: number; startTime: string | null; pgrp: number; startedAt: number; cwd: string },
    kill?: string,
  ): void {
    this.supervise(intent, found.cwd, async ({ entry }) => {
      const handle = adoptedHandle(
        { ...found, killGraceMs: this.deps.config.sessions.killGraceMs, timeoutMs: intent.timeoutMs || undefined },
        this.clock,
      );
      entry.handle = handle;
      this.deps.emit({ type: 'SESSION_ADOPTED', laneId: intent.laneId, sessionId: intent.sessionId, pid: found.pid });
      if (kill ?? this.stopping) handle.stop(kill ?? this.stopping!);
      return { handle, before: null, adopted: true };
    });
  }

  /**
   * Close a session whose agent is gone (it ended while no runtime watched, or never started). Its
   * exit: `exited` when the dead runtime recorded it (and `journaled` when it journaled it too),
   * else outcome unknown with `reason`. It is graded from its grade file unless `graded` holds the
   * grade already recorded. Its claims but the lane slot (its lane gives that back) are released.
   */
  close(intent: StartSessionIntent, how: GoneSession): void {
    const entry: Live = { handle: null, done: Promise.resolve() };
    this.live.set(intent.sessionId, entry);
    entry.done = closeSession(this.deps, this.clock, intent, how).finally(() => this.live.delete(intent.sessionId));
  }

  /**
   * One session from its start to its grade: `launch` starts (or adopts) the agent and says where
   * it runs; then its claims are kept alive, its grade file watched, and its exit recorded and
   * graded (session-end.ts), each reported once however it ends.
   */
  private supervise(
    intent: StartSessionIntent,
    cwd: string,
    launch: (ctx: {
      paths: SessionPaths;
      entry: Live;
    }) => Promise<{ handle: RunHandle; before: string | null; adopted?: boolean }>,
  ): void {
    const { config, emit } = this.deps;
    const paths = sessionPaths(config, intent);
    const log = this.deps.log.child({ lane: intent.lane, session: intent.sessionId });

    const entry: Live = { handle: null, done: Promise.resolve() };
    this.live.set(intent.sessionId, entry);
    // What has been reported, so a failure halfway never reports an exit or a grade twice.
    const sent: Sent = { exited: false, graded: false };
    let renewals: Subscription | undefined;
    let gradeWatch: GradeWatch | undefined;
    entry.done = (async () => {
      mkdirSync(paths.dir, { recursive: true });
      // The lane slot, and every claim the agent takes itself, stay alive while the session runs
      // (and while it waits for the before_session hook).
      renewals = this.renewWhileRunning(intent, log);
      const { handle, before, adopted } = await launch({ paths, entry });
      // Watched from the agent's start, so a grade written mid-session is judged as it lands. Set
      // up once the agent runs, not before: the watch only begins after a few file-system calls
      // anyway, and a file already there when it begins is read like a new one.
      gradeWatch = watchGradeFile(paths.grade, {
        onGrade: (g) => log.debug(`${intent.sessionId} wrote its grade: ${g.grade}`),
        onRejected: (reason) => rejectGrade({ emit }, intent, log, reason, 'grade file rejected'),
        onError: (err) => log.warn({ err }, `watching the grade file of ${intent.sessionId}`),
      });
      const result = await handle.exited;
      renewals.unsubscribe();
      await finishSession(this.deps, { intent, paths, cwd, log, handle, result, before, adopted, gradeWatch }, sent);
      await handle.gone;
    })()
      .catch(async (err: unknown) => {
        // A store or file-system failure around one session must not take the runtime down:
        // the session is closed with the reason, so its lane moves on.
        log.error({ err }, 'session supervision failed');
        await gradeWatch?.close();
        // Never report an exit while the agent may still run: its lane would start another.
        entry.handle?.stop('supervision failed');
        await entry.handle?.gone;
        await closeFailed(this.deps, intent, log, sent, `supervision failed: ${(err as Error).message}`);
      })
      .finally(async () => {
        renewals?.unsubscribe();
        // No watcher outlives its session (idempotent after finish()).
        await gradeWatch?.close();
        this.live.delete(intent.sessionId);
      });
  }

  /**
   * Resolves on the next turn of the event loop. A session is set up (its claims granted and
   * journaled, its row, its directory, HEAD read) and then waits here for its fork, so the
   * sessions of one tick are all set up first and their agents spawned back to back: with SQLite
   * a tick's events are all handled within one turn. A fork costs about 2 ms for a process of
   * this size, and much more once earlier agents compete for the cores: set up between two forks,
   * each session made every later one wait, and with real agents its setup ran on the cores they
   * were starting on. The first agent of a tick starts a little later, the last one much sooner,
   * and the tick's SESSION_STARTED events are journaled together after its last fork.
   */
  private spawnTurn(): Promise<void> {
    this.turn ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        this.turn = null;
        resolve();
      }),
    );
    return this.turn;
  }

  /**
   * The session's claims renewed on a timer until the returned subscription ends (when its agent
   * exits). One renewal at a time: a tick that comes while one is still out is dropped
   * (exhaustMap), so while the store does not answer they wait rather than pile up. A failed
   * renewal is logged and the next tick tries again: the error never reaches the stream.
   */
  private renewWhileRunning(intent: StartSessionIntent, log: Logger): Subscription {
    // Claims already reported lost, so each CLAIM_LOST is journaled once.
    const reported = new Set<string>();
    return interval(renewEvery(this.deps.config.claims.laneTtlMs))
      .pipe(
        exhaustMap(() =>
          from(
            this.renewClaims(intent, reported).catch((err: unknown) =>
              log.warn({ err }, `could not renew the claims of ${intent.sessionId}`),
            ),
          ),
        ),
      )
      .subscribe();
  }

  private async renewClaims(intent: StartSessionIntent, reported: Set<string>): Promise<void> {
    const { lost, held } = await this.deps.store.claims.renewHolder(intent.sessionId);
    const gone = new Map(lost.map((key) => [key, `${key} expired before it was renewed`]));
    // The lane slot and the task claim must still be this session's: after a long store outage
    // another host's sweep may have released them first, and then they are simply not held.
    for (const key of [intent.claim.key, intent.taskClaim?.key]) {
      if (key && !held.includes(key) && !gone.has(key))
        gone.set(key, `${key} is no longer held (it expired and was released, perhaps while the store did not answer)`);
    }
    for (const [key, reason] of gone) {
      if (reported.has(key)) continue;
      reported.add(key);
      this.deps.emit({ type: 'CLAIM_LOST', laneId: intent.laneId, sessionId: intent.sessionId, key, reason });
    }
  }

  private async beforeSession(
    intent: StartSessionIntent,
    vars: TemplateVars,
    cwd: string,
    env: Record<string, string>,
    logPath: string,
  ) {
    const { config, store } = this.deps;
    const result = await runBeforeSession({
      argv: config.hooks.beforeSession!.map((a) => expandTemplate(a, vars)),
      cwd,
      env,
      timeoutMs: config.hooks.timeoutMs,
      waitMs: config.hooks.waitMs,
      holder: intent.sessionId,
      logPath,
      claims: store.claims,
      stopping: () => this.stopping !== null,
    });
    if (!result.ok) this.deps.log.child({ lane: intent.laneId }).warn(`${intent.sessionId}: ${result.reason}`);
    return result;
  }

  /** Stop one session early: SIGTERM to its group, SIGKILL after the kill grace. */
  stop(sessionId: string, reason: string): void {
    this.live.get(sessionId)?.handle?.stop(reason);
  }

  /** Stop every running session: SIGTERM to each group, SIGKILL after the kill grace. */
  stopAll(reason: string): void {
    this.stopping = reason;
    for (const { handle } of this.live.values()) handle?.stop(reason);
  }

  /** Resolves when every session has exited, been graded and left no process behind. */
  async settled(): Promise<void> {
    while (this.live.size) await Promise.all([...this.live.values()].map((l) => l.done));
  }
}
