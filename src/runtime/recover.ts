// Going on from the last run. Every start (a long-running run, --once from a timer, --operator,
// after a clean drain, after a crash or a reboot) rebuilds the actor system from the journal: the
// last checkpoint and every event after it, folded through the machines with no side effects
// (replay's fold; events that were journaled but never taken are facts too, and are folded). A
// drain ends with a checkpoint, so after one there is nothing to fold.
//
// The lanes then say what was going on when the last runtime stopped; reconcileSessions() checks
// that against the world (after a crash, or whenever the journal left a session open):
//
// - a session whose agent is still alive (its pid and its start time in /proc match, or a process
//   carrying its session id when the pid was never written) is adopted and watched to its end
//   (or stopped, with sessions.on_restart: kill);
// - a session whose agent is gone is recorded as exited with outcome unknown and graded from
//   what it left (its grade file) - unless the dead runtime had recorded its exit or grade in the
//   store without journaling it, in which case that record is journaled as it is;
// - claims still held by sessions that are over are released (their lanes will not do it).
//
// A lane that was claiming claims again (RUNTIME_RECOVERED; the same holder is granted its own
// claim back). A lane with a live session stays running, so it never gets a second one.
import type { Logger } from 'pino';
import type { InspectionEvent } from 'xstate';
import { procInfo, sameProcess, sessionProcesses } from '../adapters/process/proc.js';
import { signalGroup } from '../adapters/process/runner.js';
import type { SessionRow, Store } from '../ports/store.js';
import type { ResolvedConfig } from '../config/types.js';
import type { RuntimeStartedEvent } from '../machines/events.js';
import type { FleetInput } from '../machines/fleet.js';
import type { StartSessionIntent } from '../machines/intents.js';
import type { GradeUpdate } from '../policy/graded.js';
import { startIntent } from '../machines/lane-intents.js';
import { laneKey } from '../policy/task-tiers.js';
import { FleetHost, MACHINES_VERSION, type HostOptions, type LaneStatus } from '../streams/fleet-host.js';
import { fold, FoldError, foldStart, type Folded } from '../streams/fold.js';
import { storeJournalSource } from '../streams/journal-source.js';
import type { SessionSupervisor } from '../adapters/process/supervisor.js';
import { sessionCwd, sessionPaths, type ExitRecord } from '../adapters/process/session-setup.js';

export interface Restored {
  host: FleetHost;
  /** The fleet the restored actors are configured for (their start's, or the last reload's). */
  fleet: FleetInput;
  /** The last seq of the run that died. */
  after: number;
  /** Where the fold began, and how many events it took. */
  from: { seq: number; at: 'checkpoint' | 'run' };
  folded: number;
  /** The learnable grades the fold went through (a shared store may not have them all yet). */
  grades: GradeUpdate[];
}

/**
 * Rebuilds the actors as the last run left them (the one fold, streams/fold.ts), or says why it
 * cannot (`empty`: the journal holds no run at all, the first start in this store).
 */
export async function restoreFleet(
  store: Store,
  opts: { inspect?: (e: InspectionEvent) => void } = {},
): Promise<Restored | { reason: string; empty?: boolean }> {
  const after = await store.journal.lastSeq();
  if (!after) return { reason: 'the journal holds no run to go on from', empty: true };
  const source = storeJournalSource(store.journal, store.location);
  const build = (o: HostOptions) => new FleetHost({ ...o, inspect: opts.inspect });
  const start = await foldStart(source, after, { build });
  if (start.begin.at === 'first') {
    // A pruned journal starts at a checkpoint; when none there can be resumed (these machines
    // are other than the ones that wrote it), the fleet starts fresh, and the log says why.
    const { first } = await source.bounds();
    if (first > 1)
      return {
        reason: `the journal starts at seq ${first} (pruned before) and no checkpoint there can be resumed by these machines${start.notes.length ? ` (${start.notes.join('; ')})` : ''}`,
      };
    return { reason: 'the journal holds no run to go on from', empty: true };
  }
  if (start.begin.at === 'run') {
    const started = (await store.journal.read({ fromSeq: start.begin.seq, limit: 1 }))[0] as RuntimeStartedEvent & {
      seq: number;
    };
    if (started.machines !== MACHINES_VERSION)
      return {
        reason: `the last run was recorded by other machines (${started.machines}; these are ${MACHINES_VERSION}: lanekeeper was upgraded)`,
      };
  }
  let folded = 0;
  const grades: GradeUpdate[] = [];
  const onStep = ({ event }: Folded) => {
    // Lane ids are the lane's name, or the name and ".N" for a further slot (names have no dot).
    if (event.type === 'SESSION_GRADED' && event.grade !== null && !event.censored)
      grades.push({
        session: event.sessionId,
        lane: event.laneId.split('.')[0]!,
        arm: event.arm ?? null,
        grade: event.grade,
      });
    if (event.type !== 'RUNTIME_STARTED') folded++;
  };
  try {
    const { host, fleet } = await fold(source, { from: start.begin.seq, until: after, start }, { build, onStep });
    if (!host || !fleet) return { reason: 'the journal holds no run to go on from', empty: true };
    return { host, fleet, after, from: { seq: start.begin.seq, at: start.begin.at }, folded, grades };
  } catch (err) {
    if (err instanceof FoldError)
      return { reason: `the journal of the last run does not fold through these machines: ${err.message}` };
    throw err;
  }
}

export interface ReconcileDeps {
  config: ResolvedConfig;
  store: Store;
  supervisor: SessionSupervisor;
  log: Logger;
  clock: () => number;
}

/** What reconcileSessions found: the sessions it hands to the supervisor, and the claims it released. */
export interface Reconciled {
  adopted: string[];
  closed: string[];
  released: string[];
  /** Hands each session to the supervisor; call once the bus takes events (they report there). */
  apply(): void;
}

/**
 * Checks what the restored lanes (none when the fleet starts fresh) and the store's open sessions
 * say against the processes alive now. Decides before the bus runs (so no tick can give a lane
 * whose agent still runs a second session: an adopted agent's lane slot is taken again first);
 * the supervisor acts on it in apply(), after RUNTIME_RECOVERED.
 */
export async function reconcileSessions(deps: ReconcileDeps, lanes: readonly LaneStatus[]): Promise<Reconciled> {
  const { store, config } = deps;
  const actions: (() => void)[] = [];
  const done: Reconciled = { adopted: [], closed: [], released: [], apply: () => actions.forEach((a) => a()) };
  const seen = new Set<string>();

  for (const l of lanes) {
    if (l.state !== 'running' || !l.context.sessionId) continue;
    const intent = startIntent(l.context);
    seen.add(intent.sessionId);
    const row = await store.sessions.get(intent.sessionId);
    const cwd = sessionCwd(config, intent);
    const startedAt = row?.started_at ?? deps.clock();
    if (l.path === 'running.grading') {
      // The exit was journaled; the grade was not (perhaps stored).
      const how = {
        reason: 'the runtime stopped before it was graded',
        cwd,
        startedAt,
        exited: exitOf(row, deps.clock),
        journaled: true,
        graded: gradedOf(row),
      };
      actions.push(() => deps.supervisor.close(intent, how));
      done.closed.push(intent.sessionId);
    } else if (row?.ended_at != null) {
      // Recorded in the store as ended, but the runtime died before it journaled that.
      const how = {
        reason: row.reason ?? 'ended',
        cwd,
        startedAt,
        exited: exitOf(row, deps.clock),
        graded: gradedOf(row),
      };
      actions.push(() => deps.supervisor.close(intent, how));
      done.closed.push(intent.sessionId);
    } else {
      await settle(deps, intent, row, cwd, startedAt, done, actions, l.context.concurrency);
    }
  }

  // Sessions no lane knows of (the fleet changed, or starts fresh): watched or closed all the
  // same; with no lane to give their slot back, their lane claim goes when they end.
  for (const row of await store.sessions.open()) {
    if (seen.has(row.id)) continue;
    seen.add(row.id);
    const intent = intentOfRow(row, config);
    const concurrency = config.lanes.find((l) => l.name === row.lane)?.concurrency ?? 1;
    await settle(deps, intent, row, sessionCwd(config, intent), row.started_at, done, actions, concurrency);
  }

  // Claims of sessions that were over before this start: their lanes moved on without them.
  // On a shared store only this host's: another host gives back its own sessions' claims.
  const ended = new Set<string>();
  for (const c of await store.claims.list()) {
    if (seen.has(c.holder) || ended.has(c.holder)) continue;
    if (store.shared && !c.holder.endsWith(`@${config.host}`)) continue;
    const row = await store.sessions.get(c.holder);
    if (row?.ended_at != null) ended.add(c.holder);
  }
  for (const holder of ended) done.released.push(...(await store.claims.releaseHolder(holder)));
  return done;
}

/** A session whose exit nobody recorded: adopt its agent if alive, else close it. */
async function settle(
  deps: ReconcileDeps,
  intent: StartSessionIntent,
  row: SessionRow | null,
  cwd: string,
  startedAt: number,
  done: Reconciled,
  actions: (() => void)[],
  concurrency: number,
): Promise<void> {
  const found = liveAgent(intent.sessionId, row, sessionPaths(deps.config, intent).grade);
  if (!found) {
    const reason =
      row?.pid != null
        ? 'its agent ended while no lanekeeper watched it; the exit code is not known'
        : 'the runtime stopped before the agent started';
    actions.push(() => deps.supervisor.close(intent, { reason, cwd, startedAt }));
    done.closed.push(intent.sessionId);
    return;
  }
  // Its lane slot, again: it may have expired while no runtime renewed it. The same holder gets
  // its own claim back; a new token (it had expired) is released by the session itself at its
  // end, since its lane holds the old one.
  const key = intent.claim.key || laneKey(intent.lane);
  const slot = await deps.store.claims.acquire({
    key,
    holder: intent.sessionId,
    ttlMs: deps.config.claims.laneTtlMs,
    slots: concurrency,
  });
  if (!slot.granted)
    deps.log.warn(
      `${intent.sessionId} still runs, but its lane slot ${key} is held by ${slot.holder} now; it is watched all the same`,
    );
  // Its task too (released with its other claims when it ends, whatever the token).
  if (intent.taskClaim) {
    const task = await deps.store.claims.acquire({
      key: intent.taskClaim.key,
      holder: intent.sessionId,
      ttlMs: deps.config.claims.laneTtlMs,
    });
    if (!task.granted)
      deps.log.warn(
        `${intent.sessionId} still runs, but its task claim ${intent.taskClaim.key} is held by ${task.holder} now`,
      );
  }
  const adopted =
    slot.granted && slot.token !== intent.claim.token ? { ...intent, claim: { key: '', token: 0 } } : intent;
  const kill = deps.config.sessions.onRestart === 'kill' ? 'sessions.on_restart is kill' : undefined;
  actions.push(() => deps.supervisor.adopt(adopted, { ...found, startedAt, cwd }, kill));
  done.adopted.push(intent.sessionId);
}

/**
 * The session's agent, if it is still alive: the recorded pid when /proc gives the recorded start
 * time; else a group leader carrying the session's id and grade file (its pid was never written).
 * Processes it forked that outlived it are stopped here: the session they belong to is over.
 */
function liveAgent(
  sessionId: string,
  row: SessionRow | null,
  gradeFile: string,
): { pid: number; startTime: string | null; pgrp: number } | null {
  // Without a recorded start time a live pid proves nothing (it may be another process's now):
  // then only a process carrying the session's id counts.
  if (row?.pid != null && row.pid_start !== null && sameProcess(row.pid, row.pid_start)) {
    return {
      pid: row.pid,
      startTime: procInfo(row.pid)?.startTime ?? row.pid_start,
      pgrp: procInfo(row.pid)?.pgrp ?? row.pid,
    };
  }
  const procs = sessionProcesses(sessionId, gradeFile);
  const leader = procs.find((p) => p.pid === p.pgrp);
  if (leader) return { pid: leader.pid, startTime: procInfo(leader.pid)?.startTime ?? null, pgrp: leader.pgrp };
  for (const pgrp of new Set(procs.map((p) => p.pgrp))) signalGroup(pgrp, 'SIGKILL');
  return null;
}

function exitOf(row: SessionRow | null, clock: () => number): ExitRecord {
  if (row?.ended_at == null)
    return { exitCode: null, signal: null, outcome: 'unknown', reason: 'not recorded', endedAt: clock() };
  return {
    exitCode: row.exit_code,
    signal: row.signal,
    outcome: row.outcome ?? 'unknown',
    reason: row.reason,
    endedAt: row.ended_at,
  };
}

function gradedOf(row: SessionRow | null) {
  if (!row?.grade_source) return undefined;
  return {
    grade: row.grade,
    source: row.grade_source as 'session' | 'grader' | 'default' | 'none',
    dimensions: row.dimensions,
  };
}

/**
 * A start intent for a session no lane holds, from its record. Its claim key is left empty so
 * that, with no lane to release the slot, every claim it holds goes when it ends.
 */
function intentOfRow(row: SessionRow, config: ResolvedConfig): StartSessionIntent {
  const lane = config.lanes.find((l) => l.name === row.lane);
  return {
    type: 'startSession',
    laneId: row.lane_id,
    lane: row.lane,
    sessionId: row.id,
    arm: row.arm,
    dispatch: row.dispatch as StartSessionIntent['dispatch'],
    parent: row.parent,
    chain: 0,
    claim: { key: '', token: 0 },
    task: null,
    taskClaim: null,
    timeoutMs: lane?.timeoutMs ?? 0,
  };
}
