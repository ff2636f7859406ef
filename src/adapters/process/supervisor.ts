// The session supervisor: turns a startSession intent into a real process and its results into
// bus events (SESSION_STARTED, SESSION_EXITED, then GRADE_REJECTED? and SESSION_GRADED). It keeps
// the session's lane claim alive while the process runs, watches its grade file (a rejected write
// is journaled as it lands), and records the session in the store. Grading: session-grade.ts.
import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import { gitHead, workEvidence } from './git.js';
import { checkCwd, runSession, unstartedHandle, type RunHandle } from './runner.js';
import type { Store } from '../../ports/store.js';
import { readGradeFile } from './grade-file.js';
import { watchGradeFile, type GradeWatch, type WatchedGrade } from '../watch/grade-watch.js';
import { expandTemplate, type TemplateVars } from '../../config/template.js';
import type { ArmConfig, ResolvedConfig } from '../../config/types.js';
import type { BusEvent } from '../../machines/events.js';
import type { StartSessionIntent } from '../../machines/intents.js';
import { classifyExit } from '../../policy/outcome.js';
import { adoptedHandle } from './adopt.js';
import { procInfo } from './proc.js';
import { runBeforeSession } from './hooks.js';
import {
  graderRecord,
  laneCwd,
  renewEvery,
  sessionPaths,
  sessionRow,
  templateVars,
  type ExitRecord,
  type GradedRecord,
  type SessionPaths,
} from './session-setup.js';
import { gradeSession, rejectGrade } from './session-grade.js';

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
      const env = this.sessionEnv(arm, intent, vars, paths.grade);
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
  close(
    intent: StartSessionIntent,
    how: {
      reason: string;
      cwd: string;
      startedAt: number;
      exited?: ExitRecord;
      journaled?: boolean;
      graded?: GradedRecord;
    },
  ): void {
    const { store, emit } = this.deps;
    const entry: Live = { handle: null, done: Promise.resolve() };
    this.live.set(intent.sessionId, entry);
    const log = this.deps.log.child({ lane: intent.lane, session: intent.sessionId });
    const paths = sessionPaths(this.deps.config, intent);
    entry.done = (async () => {
      const row = await store.sessions.get(intent.sessionId);
      if (!row) await store.sessions.insert(sessionRow(intent, how.startedAt, paths.log));
      const releasedNow = await store.claims.releaseHolder(intent.sessionId, { except: [intent.claim.key] });
      // A task claim the dead run already gave back at the session's end counts as given back: a
      // respawn goes on with a task whose claim went back, not with one that was completed.
      const task = intent.taskClaim?.key;
      const givenBack =
        task && !releasedNow.includes(task) && how.exited
          ? (await store.claims.list({ all: true, holder: intent.sessionId })).some(
              (c) => c.key === task && c.state === 'released',
            )
          : false;
      const released = givenBack ? [...releasedNow, task!] : releasedNow;
      const exit = how.exited ?? {
        exitCode: null,
        signal: null,
        outcome: 'unknown' as const,
        reason: how.reason,
        endedAt: this.clock(),
      };
      if (!how.exited) {
        await store.sessions.update(intent.sessionId, {
          ended_at: exit.endedAt,
          exit_code: null,
          signal: null,
          outcome: 'unknown',
          reason: how.reason,
        });
        log.warn(`${intent.sessionId}: ${how.reason}`);
      }
      if (!how.journaled) {
        emit({
          type: 'SESSION_EXITED',
          laneId: intent.laneId,
          sessionId: intent.sessionId,
          exitCode: exit.exitCode,
          signal: exit.signal,
          outcome: exit.outcome,
          durationMs: Math.max(0, exit.endedAt - how.startedAt),
          reason: exit.reason,
          ...(released.length ? { releasedClaims: released } : {}),
        });
      }
      if (how.graded) {
        emit({
          type: 'SESSION_GRADED',
          laneId: intent.laneId,
          sessionId: intent.sessionId,
          ...how.graded,
          arm: intent.arm,
        });
        return;
      }
      // Read once: nobody watched it while the runtime was down.
      const read = await readGradeFile(paths.grade);
      if (read.ok === false) rejectGrade({ emit }, intent, log, read.reason, 'grade file rejected');
      const gradeFile: WatchedGrade =
        read.ok === true
          ? { ok: true, grade: read.grade, dimensions: read.dimensions }
          : read.ok === false
            ? { ok: false, reason: read.reason }
            : { ok: 'missing' };
      const record = graderRecord(intent, exit, how.startedAt, paths.log, how.cwd, null, null);
      await gradeSession(this.deps, intent, gradeFile, record, log);
    })()
      .catch((err: unknown) => {
        log.error({ err }, 'closing a session left by the runtime before failed');
        emit({
          type: 'SESSION_GRADED',
          laneId: intent.laneId,
          sessionId: intent.sessionId,
          grade: null,
          source: 'none',
          dimensions: null,
          arm: intent.arm,
        });
      })
      .finally(() => this.live.delete(intent.sessionId));
  }

  /**
   * One session from its start to its grade: `launch` starts (or adopts) the agent and says where
   * it runs; then its claims are kept alive, its grade file watched, and its exit recorded and
   * graded, each reported once however it ends.
   */
  private supervise(
    intent: StartSessionIntent,
    cwd: string,
    launch: (ctx: {
      paths: SessionPaths;
      entry: Live;
    }) => Promise<{ handle: RunHandle; before: string | null; adopted?: boolean }>,
  ): void {
    const { config, store, emit } = this.deps;
    const paths = sessionPaths(config, intent);
    const log = this.deps.log.child({ lane: intent.lane, session: intent.sessionId });

    const entry: Live = { handle: null, done: Promise.resolve() };
    this.live.set(intent.sessionId, entry);
    // What has been reported, so a failure halfway never reports an exit or a grade twice.
    const sent = { exited: false, graded: false };
    let renew: NodeJS.Timeout | undefined;
    let gradeWatch: GradeWatch | undefined;
    entry.done = (async () => {
      mkdirSync(paths.dir, { recursive: true });
      // The lane slot, and every claim the agent takes itself, stay alive while the session runs
      // (and while it waits for the before_session hook).
      // One renewal at a time: while the store does not answer, they wait rather than pile up.
      let renewing = false;
      const reported = new Set<string>();
      renew = setInterval(() => {
        if (renewing) return;
        renewing = true;
        this.renewClaims(intent, reported)
          .catch((err: unknown) => log.warn({ err }, `could not renew the claims of ${intent.sessionId}`))
          .finally(() => (renewing = false));
      }, renewEvery(config.claims.laneTtlMs));
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
      clearInterval(renew);
      // Claims the agent took are released now, unless it asked to keep them (claim --keep);
      // the lane slot is released by the lane machine.
      // Both at once: the next session waits on this (operator mode measures the gap).
      // The grade file is read one last time: a write just before the exit counts.
      const [released, after, gradeFile] = await Promise.all([
        store.claims.releaseHolder(intent.sessionId, { except: [intent.claim.key] }),
        result.spawnError ? Promise.resolve(null) : gitHead(cwd).catch(() => null),
        gradeWatch.finish(),
      ]);
      if (released.length) log.info(`released ${released.join(', ')} at the end of ${intent.sessionId}`);
      // An adopted agent's exit code is not known: no verdict on how it went.
      const outcome =
        adopted && !result.timedOut ? 'unknown' : classifyExit({ ...result, work: workEvidence(before, after) });
      const killedHow = result.killed ? ' (ignored SIGTERM; SIGKILL)' : '';
      const reason =
        result.spawnError ??
        (result.timedOut
          ? `killed at its time limit${killedHow}`
          : result.stopped
            ? `stopped: ${result.stopped}${killedHow}`
            : adopted
              ? 'adopted after a restart: its exit code is not known'
              : null);
      await store.sessions.update(intent.sessionId, {
        ended_at: result.endedAt,
        exit_code: result.exitCode,
        signal: result.signal,
        outcome,
        reason,
      });
      sent.exited = true;
      emit({
        type: 'SESSION_EXITED',
        laneId: intent.laneId,
        sessionId: intent.sessionId,
        exitCode: result.exitCode,
        signal: result.signal,
        outcome,
        durationMs: result.endedAt - result.startedAt,
        reason,
        ...(released.length ? { releasedClaims: released } : {}),
        ...(handle.pid === null ? { started: false as const } : {}),
      });
      // An agent that never started says nothing about its lane or its arm.
      const record = graderRecord(
        intent,
        { ...result, outcome, reason },
        result.startedAt,
        paths.log,
        cwd,
        before,
        after,
      );
      await gradeSession(
        this.deps,
        intent,
        gradeFile,
        record,
        log,
        result.spawnError ? `the agent did not start: ${result.spawnError}` : undefined,
      );
      sent.graded = true;
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
        const reason = `supervision failed: ${(err as Error).message}`;
        // The task claim and the agent's own claims go too, or they would block their work for a TTL.
        if (!sent.exited) {
          await store.claims
            .releaseHolder(intent.sessionId, { except: [intent.claim.key] })
            .catch((e: unknown) =>
              log.warn({ err: e }, `could not release the claims of ${intent.sessionId}; they expire with their TTL`),
            );
        }
        if (!sent.exited)
          emit({
            type: 'SESSION_EXITED',
            laneId: intent.laneId,
            sessionId: intent.sessionId,
            exitCode: null,
            signal: null,
            outcome: 'unknown',
            durationMs: 0,
            reason,
          });
        if (!sent.graded)
          emit({
            type: 'SESSION_GRADED',
            laneId: intent.laneId,
            sessionId: intent.sessionId,
            grade: null,
            source: 'none',
            dimensions: null,
            arm: intent.arm,
          });
      })
      .finally(async () => {
        clearInterval(renew);
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

  private sessionEnv(
    arm: ArmConfig,
    intent: StartSessionIntent,
    vars: TemplateVars,
    gradePath: string,
  ): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.deps.baseEnv)) if (v !== undefined) env[k] = v;
    for (const [k, v] of Object.entries(arm.env)) env[k] = expandTemplate(v, vars);
    Object.assign(env, {
      LANEKEEPER_SESSION_ID: intent.sessionId,
      LANEKEEPER_LANE: intent.lane,
      LANEKEEPER_ARM: intent.arm,
      LANEKEEPER_DISPATCH: intent.dispatch,
      LANEKEEPER_GRADE_FILE: gradePath,
      LANEKEEPER_CLAIM_KEY: intent.claim.key,
      LANEKEEPER_CLAIM_TOKEN: String(intent.claim.token),
      LANEKEEPER_STATE: this.deps.config.stateDir,
    });
    // `lanekeeper claim` inside the session must reach the same store, as the same host.
    if (this.deps.config.store)
      Object.assign(env, { LANEKEEPER_STORE: this.deps.config.store, LANEKEEPER_HOST: this.deps.config.host });
    if (intent.parent) env.LANEKEEPER_PARENT_SESSION = intent.parent;
    if (intent.task) {
      env.LANEKEEPER_TASK_ID = intent.task.id;
      env.LANEKEEPER_TASK_CLAIM = intent.task.key;
      if (intent.taskClaim) env.LANEKEEPER_TASK_CLAIM_TOKEN = String(intent.taskClaim.token);
      if (intent.task.path) env.LANEKEEPER_TASK_FILE = intent.task.path;
    }
    return env;
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
