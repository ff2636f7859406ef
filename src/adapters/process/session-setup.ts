// What a session is set up from, apart from running it: where it runs and keeps its files, the
// template values of its command, the environment its agent runs in, the record the store keeps
// and the one a grader reads.
import path from 'node:path';
import type { SessionRow } from '../../ports/store.js';
import { expandTemplate, type TemplateVars } from '../../config/template.js';
import type { ArmConfig, LaneConfig, ResolvedConfig } from '../../config/types.js';
import type { SessionGradedEvent } from '../../machines/events.js';
import type { StartSessionIntent } from '../../machines/intents.js';
import type { Outcome } from '../../policy/outcome.js';
import type { GraderRecord } from './session-grade.js';

/** The row the store keeps for a session as it begins. */
export function sessionRow(
  intent: StartSessionIntent,
  startedAt: number,
  logPath: string,
): Pick<SessionRow, 'id' | 'lane' | 'lane_id' | 'arm' | 'dispatch' | 'parent' | 'started_at' | 'log_path'> & {
  task: string | null;
} {
  return {
    id: intent.sessionId,
    lane: intent.lane,
    lane_id: intent.laneId,
    arm: intent.arm,
    dispatch: intent.dispatch,
    parent: intent.parent,
    started_at: startedAt,
    log_path: logPath,
    task: intent.task?.id ?? null,
  };
}

/**
 * How often a session's claims are looked at for renewal: every second (a claim is only written
 * once a third of its TTL is used), so agent claims of 3 s or more never lapse while it runs.
 */
export function renewEvery(laneTtlMs: number): number {
  return Math.max(250, Math.min(Math.floor(laneTtlMs / 3), 1000));
}

export interface SessionPaths {
  dir: string;
  log: string;
  grade: string;
}

/** Where a session keeps its output and its grade file: sessions/<id>/ in the state directory. */
export function sessionPaths(
  config: Pick<ResolvedConfig, 'stateDir'>,
  intent: Pick<StartSessionIntent, 'sessionId'>,
): SessionPaths {
  const dir = path.join(config.stateDir, 'sessions', intent.sessionId);
  return { dir, log: path.join(dir, 'output.log'), grade: path.join(dir, 'grade.json') };
}

/** How a session ended, as recorded. */
export interface ExitRecord {
  exitCode: number | null;
  signal: string | null;
  outcome: Outcome;
  reason: string | null;
  endedAt: number;
}

/** A grade already recorded in the store, to be journaled as it is. */
export type GradedRecord = Pick<SessionGradedEvent, 'grade' | 'source' | 'dimensions'>;

export function graderRecord(
  intent: StartSessionIntent,
  exit: ExitRecord,
  startedAt: number,
  logPath: string,
  cwd: string,
  before: string | null,
  after: string | null,
): GraderRecord {
  return {
    id: intent.sessionId,
    lane: intent.lane,
    arm: intent.arm,
    dispatch: intent.dispatch,
    task: intent.task?.id ?? null,
    outcome: exit.outcome,
    exit_code: exit.exitCode,
    signal: exit.signal,
    duration_ms: exit.endedAt - startedAt,
    reason: exit.reason,
    log_path: logPath,
    cwd,
    head_before: before,
    head_after: after,
  };
}

/** Where a session of this lane on this arm runs. */
export function laneCwd(config: ResolvedConfig, lane: LaneConfig, arm: ArmConfig, vars: TemplateVars): string {
  return path.resolve(config.stateDir, expandTemplate(lane.cwd ?? arm.cwd ?? config.stateDir, vars));
}

/** Where a session ran, for one started by an earlier runtime (the state directory if its lane or arm is gone). */
export function sessionCwd(config: ResolvedConfig, intent: StartSessionIntent): string {
  const lane = config.lanes.find((l) => l.name === intent.lane);
  const arm = config.arms.find((a) => a.id === intent.arm);
  if (!lane || !arm) return config.stateDir;
  const vars = templateVars(config, arm, intent);
  vars.prompt = expandTemplate(lane.prompt, vars);
  return laneCwd(config, lane, arm, vars);
}

export function templateVars(config: ResolvedConfig, arm: ArmConfig, intent: StartSessionIntent): TemplateVars {
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

/**
 * The environment a session's agent (and its before_session hook) runs in: the runtime's own,
 * the arm's, then what tells the agent who it is, where to write its grade and which claims it holds.
 */
export function sessionEnv(
  config: ResolvedConfig,
  baseEnv: Readonly<Record<string, string | undefined>>,
  arm: ArmConfig,
  intent: StartSessionIntent,
  vars: TemplateVars,
  gradePath: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(baseEnv)) if (v !== undefined) env[k] = v;
  for (const [k, v] of Object.entries(arm.env)) env[k] = expandTemplate(v, vars);
  Object.assign(env, {
    LANEKEEPER_SESSION_ID: intent.sessionId,
    LANEKEEPER_LANE: intent.lane,
    LANEKEEPER_ARM: intent.arm,
    LANEKEEPER_DISPATCH: intent.dispatch,
    LANEKEEPER_GRADE_FILE: gradePath,
    LANEKEEPER_CLAIM_KEY: intent.claim.key,
    LANEKEEPER_CLAIM_TOKEN: String(intent.claim.token),
    LANEKEEPER_STATE: config.stateDir,
  });
  // `lanekeeper claim` inside the session must reach the same store, as the same host.
  if (config.store) Object.assign(env, { LANEKEEPER_STORE: config.store, LANEKEEPER_HOST: config.host });
  if (intent.parent) env.LANEKEEPER_PARENT_SESSION = intent.parent;
  if (intent.task) {
    env.LANEKEEPER_TASK_ID = intent.task.id;
    env.LANEKEEPER_TASK_CLAIM = intent.task.key;
    if (intent.taskClaim) env.LANEKEEPER_TASK_CLAIM_TOKEN = String(intent.taskClaim.token);
    if (intent.task.path) env.LANEKEEPER_TASK_FILE = intent.task.path;
  }
  return env;
}
