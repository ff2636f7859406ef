// The session supervisor: turns a startSession intent into a real process and its results into
// bus events (SESSION_STARTED, SESSION_EXITED, then GRADE_REJECTED? and SESSION_GRADED). It keeps
// the session's lane claim alive while the process runs, watches its grade file (a rejected write
// is journaled as it lands), and records the session in the store. Grading: session-grade.ts.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { gitHead, workEvidence } from '../adapters/process/git.js';
import { checkCwd, runSession, unstartedHandle, type RunHandle } from '../adapters/process/runner.js';
import type { Store } from '../adapters/store/ports.js';
import { watchGradeFile, type GradeWatch } from '../adapters/watch/grade-watch.js';
import { expandTemplate, type TemplateVars } from '../config/template.js';
import type { ArmConfig, ResolvedConfig } from '../config/types.js';
import type { BusEvent } from '../machines/events.js';
import type { StartSessionIntent } from '../machines/intents.js';
import { classifyExit } from '../policy/outcome.js';
import { runBeforeSession } from './hooks.js';
import { gradeSession, rejectGrade, type GraderRecord } from './session-grade.js';

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

  constructor(private readonly deps: SupervisorDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  get running(): number {
    return this.live.size;
  }

  start(intent: StartSessionIntent): void {
    const { config, store, emit } = this.deps;
    const lane = config.lanes.find((l) => l.name === intent.lane)!;
    const arm = config.arms.find((a) => a.id === intent.arm)!;
    const dir = path.join(config.stateDir, 'sessions', intent.sessionId);
    const logPath = path.join(dir, 'output.log');
    const gradePath = path.join(dir, 'grade.json');
    const vars = templateVars(config, arm, intent);
    vars.prompt = expandTemplate(lane.prompt, vars);
    const cwd = path.resolve(config.stateDir, expandTemplate(lane.cwd ?? arm.cwd ?? config.stateDir, vars));
    const log = this.deps.log.child({ lane: intent.lane, session: intent.sessionId });

    const entry: Live = { handle: null, done: Promise.resolve() };
    this.live.set(intent.sessionId, entry);
    // What has been reported, so a failure halfway never reports an exit or a grade twice.
    const sent = { exited: false, graded: false };
    let renew: NodeJS.Timeout | undefined;
    let gradeWatch: GradeWatch | undefined;
    entry.done = (async () => {
      mkdirSync(dir, { recursive: true });
      // Watched from before the agent starts: a grade written mid-session is judged as it lands.
      gradeWatch = watchGradeFile(gradePath, {
        onGrade: (g) => log.debug(`${intent.sessionId} wrote its grade: ${g.grade}`),
        onRejected: (reason) => rejectGrade({ emit }, intent, log, reason, 'grade file rejected'),
        onError: (err) => log.warn({ err }, `watching the grade file of ${intent.sessionId}`),
      });
      await store.sessions.insert({
        id: intent.sessionId,
        lane: intent.lane,
        lane_id: intent.laneId,
        arm: intent.arm,
        dispatch: intent.dispatch,
        parent: intent.parent,
        started_at: this.clock(),
        log_path: logPath,
        task: intent.task?.id ?? null,
      });
      // The lane slot, and every claim the agent takes itself, stay alive while the session runs
      // (and while it waits for the before_session hook).
      renew = setInterval(() => {
        this.renewClaims(intent).catch((err: unknown) => log.warn({ err }, `could not renew the claims of ${intent.sessionId}`));
      }, renewEvery(config.claims.laneTtlMs));
      const env = this.sessionEnv(arm, intent, vars, gradePath);
      const cwdProblem = checkCwd(cwd);
      const hook = cwdProblem ? { ok: false as const, reason: cwdProblem } : config.hooks.beforeSession && !this.stopping ? await this.beforeSession(intent, vars, cwd, env, logPath) : null;
      // HEAD is read after the hook: a pull that moves it is not the session's work.
      const before = await gitHead(cwd).catch(() => null);
      const handle = this.stopping
        ? unstartedHandle({ stopped: `${this.stopping} (before it started)` }, this.clock(), this.clock)
        : hook && !hook.ok
          ? unstartedHandle({ spawnError: hook.reason }, this.clock(), this.clock)
          : runSession(
              { argv: arm.command.map((part) => expandTemplate(part, vars)), cwd, env, logPath, timeoutMs: this.deps.timeoutFor?.(intent.arm, intent.timeoutMs) ?? intent.timeoutMs, killGraceMs: config.sessions.killGraceMs },
              this.clock,
            );
      entry.handle = handle;
      if (handle.pid !== null) {
        await store.sessions.update(intent.sessionId, { pid: handle.pid });
        emit({ type: 'SESSION_STARTED', laneId: intent.laneId, sessionId: intent.sessionId, pid: handle.pid, arm: intent.arm });
      }
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
      const outcome = classifyExit({ ...result, work: workEvidence(before, after) });
      const killedHow = result.killed ? ' (ignored SIGTERM; SIGKILL)' : '';
      const reason =
        result.spawnError ?? (result.timedOut ? `killed at its time limit${killedHow}` : result.stopped ? `stopped: ${result.stopped}${killedHow}` : null);
      await store.sessions.update(intent.sessionId, { ended_at: result.endedAt, exit_code: result.exitCode, signal: result.signal, outcome, reason });
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
      });
      // An agent that never started says nothing about its lane or its arm.
      const record: GraderRecord = {
        id: intent.sessionId,
        lane: intent.lane,
        arm: intent.arm,
        dispatch: intent.dispatch,
        task: intent.task?.id ?? null,
        outcome,
        exit_code: result.exitCode,
        signal: result.signal,
        duration_ms: result.endedAt - result.startedAt,
        reason,
        log_path: logPath,
        cwd,
        head_before: before,
        head_after: after,
      };
      await gradeSession(this.deps, intent, gradeFile, record, log, result.spawnError ? `the agent did not start: ${result.spawnError}` : undefined);
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
            .catch((e: unknown) => log.warn({ err: e }, `could not release the claims of ${intent.sessionId}; they expire with their TTL`));
        }
        if (!sent.exited) emit({ type: 'SESSION_EXITED', laneId: intent.laneId, sessionId: intent.sessionId, exitCode: null, signal: null, outcome: 'unknown', durationMs: 0, reason });
        if (!sent.graded) emit({ type: 'SESSION_GRADED', laneId: intent.laneId, sessionId: intent.sessionId, grade: null, source: 'none', dimensions: null, arm: intent.arm });
      })
      .finally(async () => {
        clearInterval(renew);
        // No watcher outlives its session (idempotent after finish()).
        await gradeWatch?.close();
        this.live.delete(intent.sessionId);
      });
  }

  private async renewClaims(intent: StartSessionIntent): Promise<void> {
    const { lost } = await this.deps.store.claims.renewHolder(intent.sessionId);
    for (const key of lost) {
      this.deps.emit({ type: 'CLAIM_LOST', laneId: intent.laneId, sessionId: intent.sessionId, key, reason: `${key} expired before it was renewed` });
    }
  }

  private async beforeSession(intent: StartSessionIntent, vars: TemplateVars, cwd: string, env: Record<string, string>, logPath: string) {
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

  private sessionEnv(arm: ArmConfig, intent: StartSessionIntent, vars: TemplateVars, gradePath: string): Record<string, string> {
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

/**
 * How often a session's claims are looked at for renewal: every second (a claim is only written
 * once a third of its TTL is used), so agent claims of 3 s or more never lapse while it runs.
 */
export function renewEvery(laneTtlMs: number): number {
  return Math.max(250, Math.min(Math.floor(laneTtlMs / 3), 1000));
}

function templateVars(config: ResolvedConfig, arm: ArmConfig, intent: StartSessionIntent): TemplateVars {
  return {
    lane: intent.lane,
    session_id: intent.sessionId,
    model: arm.model,
    backend: arm.backend,
    arm: arm.id,
    node: process.execPath,
    state: config.stateDir,
    task_id: intent.task?.id ?? '',
    task_file: intent.task?.path ?? '',
  };
}
