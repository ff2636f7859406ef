// The running service: store, bus, fleet actor, adapters, wired together. Events flow
//   sources → bus (stamp, journal) → fleet actor → intents → adapters → events → bus …
// one event at a time. Stopping drains: no new sessions, running ones get the drain grace, then
// their process groups are killed; every exit and grade is journaled before the store closes.
import { randomBytes } from 'node:crypto';
import {
  BehaviorSubject,
  concat,
  concatMap,
  distinctUntilChanged,
  from,
  merge,
  of,
  ReplaySubject,
  Subject,
  switchMap,
  takeUntil,
  type Observable,
} from 'rxjs';
import type { Logger } from 'pino';
import type { InspectionEvent } from 'xstate';
import type { Store } from '../ports/store.js';
import type { ResolvedConfig } from '../config/types.js';
import { prepareDemoRepos } from '../demo/prepare.js';
import { watchTasks, type TaskWatch } from '../adapters/tasks/watch.js';
import type { BusEvent, StampedEvent, TickEvent } from '../machines/events.js';
import { createBus } from '../streams/bus.js';
import { ticks } from '../streams/ticks.js';
import { wakeups } from '../streams/wakeups.js';
import { formatDuration } from '../config/duration.js';
import { isoSeconds } from '../format/time.js';
import { leftText } from '../format/left.js';
import { EffectRunner, type EffectDeps } from './effects.js';
import { FleetHost, MACHINES_VERSION, type LaneStatus } from '../streams/fleet-host.js';
import type { Intent } from '../machines/intents.js';
import { emptyLearning } from '../policy/learning.js';
import { isActive } from '../policy/plan-tick.js';
import { ArmHealth } from './arm-health.js';
import { NO_PROBE_LOOKBACK_MS } from '../config/quota-defaults.js';
import { logEvent } from '../format/event-log.js';
import { lateGradeEvents } from './late-grades.js';
import { withModelBumps } from './model-bumps.js';
import { fleetSpec } from './selection.js';
import { SessionSupervisor, type SupervisorDeps } from '../adapters/process/supervisor.js';
import { readReload } from '../config/reload.js';
import { reconcileSessions, restoreFleet, type Restored } from './recover.js';
import { claimTickWidth, fleetLearning, releaseUnused, type TickWidth } from './fleet-share.js';
import { gatherTickInputs } from './tick-inputs.js';
import { summarize, type LaneSummary } from '../format/summary.js';
import { warmUpMachines } from './warm-up.js';
import type { RuntimeObserver } from '../ports/observer.js';
import { FirstTick, type FirstTickResult } from './first-tick.js';

export interface RuntimeOptions {
  config: ResolvedConfig;
  store: Store;
  log: Logger;
  baseEnv: Readonly<Record<string, string | undefined>>;
  clock?: () => number;
  /**
   * One tick, then stop once the sessions it started have ended (for a systemd timer). Lanes do
   * not respawn: each run is one tick's worth of work.
   */
  once?: boolean;
  /**
   * Operator mode: dispatch back to back. As soon as a session is graded (or a lane frees up),
   * the next decision is made, with no timer gap, until `sessions` sessions have begun; then no
   * more are dispatched and the run ends when they have. The timer stays as a safety net.
   */
  operator?: { sessions: number };
  /** Told of every event after the fleet took it (metrics, live views); they must not throw. */
  observers?: readonly RuntimeObserver[];
  /** XState inspection events of the fleet's actors (the inspector feed). */
  inspect?: (event: InspectionEvent) => void;
  /** Reads the configuration again for a reload (throws ConfigError when it is invalid). */
  reload?: () => ResolvedConfig;
}

export type { FirstTickResult } from './first-tick.js';
export type { RuntimeObserver } from '../ports/observer.js';

export interface Runtime {
  /** Begin the drain; safe to call more than once (a second call stops sessions at once). */
  stop(reason: string): void;
  /** Read the configuration again (SIGHUP, an edit): apply it if valid, else keep the last good one and say why. */
  reload(source: string): void;
  /** Resolves after the drain with the summary of the sessions this run started. */
  readonly finished: Promise<LaneSummary[]>;
  /**
   * What the first tick did (a `once` run's only tick, an operator run's first), for the exit code;
   * read after `finished`. An operator run whose first tick started no agent stops there.
   */
  firstTick(): FirstTickResult;
}

const randomSeed = () => randomBytes(4).readUInt32LE(0);

export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  let opts = options;
  const { store, log } = opts;
  // A once run's lanes never respawn: each run is one tick's worth of work.
  const forMode = (c: ResolvedConfig): ResolvedConfig =>
    opts.once ? { ...c, lanes: c.lanes.map((l) => ({ ...l, chainLimit: 0 })) } : c;
  let config = forMode(opts.config);
  const clock = opts.clock ?? Date.now;
  const startedAt = clock();
  if (config.demo) await prepareDemoRepos(config);

  // The fleet as the machines see it: journaled first, so replay rebuilds the same actors.
  let fleet = fleetSpec(config);
  const mode = opts.once ? 'once' : opts.operator ? 'operator' : 'service';
  // Every start goes on from where the last run left the fleet (its last checkpoint and the journal
  // after it): cooldowns and their deadlines, respawn chains, no-op backoff, arm rests and share
  // deficits are the scheduler's memory, whether the last run drained or died. A deadline that
  // passed while nothing ran is simply due at the first event.
  const lastStop = await store.runtimeInfo.get('run_state');
  // A run that never drained (kill -9, a crash): its sessions are reconciled with the world too.
  const crashed = lastStop === 'running';
  const restored = await resume(store, log, opts.inspect);
  await store.runtimeInfo.set('run_state', 'running');
  const host = restored?.host ?? new FleetHost({ ...fleet, inspect: opts.inspect });
  await store.lanes.retain(host.laneIds);
  // What goes into the journal before the first tick: the fleet, what was learned before, the task list.
  const startup: BusEvent[] = [];
  if (restored && crashed && store.shared) {
    // The dead run may have journaled grades it never folded into the shared posteriors: fold
    // them now (a grade already there changes nothing).
    const m = restored.host.selectorMemory();
    const fresh = {
      learning: emptyLearning(m.learning.model, m.learning.forgetting),
      arms: emptyLearning(m.learning.model, m.arms.forgetting),
      fairness: m.fairness,
      graded: [],
    };
    for (const g of restored.grades) await store.learning.applyGrade(g, fresh, clock());
  }
  if (restored) {
    // The file changed while no lanekeeper ran (or this run's mode differs: a --once run never
    // respawns): applied like a reload, before the fleet resumes, so a cooldown whose deadline
    // passed meanwhile ends under the settings of this run.
    if (JSON.stringify(restored.fleet) !== JSON.stringify(fleet))
      startup.push({ type: 'CONFIG_RELOADED', fleet, source: 'restart', changes: ['fleet'] });
    // The selector's learning came back with the actors: every grade journaled, each once.
    startup.push({
      type: 'RUNTIME_RECOVERED',
      after: restored.after,
      machines: MACHINES_VERSION,
      mode,
      stop: crashed ? 'crash' : 'drain',
    });
    // A model version bump added since (`replaces:`) starts from the older model's evidence, as at a fresh start.
    const memory = restored.host.selectorMemory();
    const bumped = withModelBumps(memory, config, log);
    if (bumped.arms !== memory.arms)
      startup.push({ type: 'SELECTOR_RESTORED', learning: memory.learning, arms: bumped.arms });
  } else {
    startup.push({ type: 'RUNTIME_STARTED', fleet, machines: MACHINES_VERSION, mode });
    const memory = await store.learning.load();
    if (memory && memory.learning.model === config.selector.model)
      startup.push({ type: 'SELECTOR_RESTORED', ...withModelBumps(memory, config, log) });
    else if (memory) {
      // Shares and recent starts do not depend on the model; the evidence does.
      const discarded = `the evidence in the store was kept with the ${memory.learning.model} model; this run uses ${config.selector.model}, so learning starts fresh`;
      startup.push({
        type: 'SELECTOR_RESTORED',
        learning: emptyLearning(config.selector.model),
        fairness: memory.fairness,
        arms: emptyLearning(config.selector.model),
        discarded,
      });
    }
  }
  // Late grades given while lanekeeper was down are learned first.
  const lateInFlight = new Set<number>();
  startup.push(...(await lateGradeEvents(store, log, lateInFlight)));
  // Every task snapshot is whole, so only the latest one matters: a ReplaySubject(1) keeps it
  // for the bus even if it arrives before the bus is listening.
  const taskSnapshots$ = new ReplaySubject<BusEvent>(1);
  let tasks: TaskWatch | null = null;
  if (config.tasks) {
    tasks = watchTasks(
      config.tasks.dir,
      config.lanes.map((l) => l.name),
      (snapshot) => taskSnapshots$.next({ type: 'TASKS_CHANGED', tasks: snapshot.tasks, problems: snapshot.problems }),
      { onError: (err) => log.warn(`task files: ${err.message}`) },
    );
    // The first tick must see the tasks.
    await tasks.ready;
  }
  let tasksRead: Promise<void> = Promise.resolve();
  const armHealth = new ArmHealth(config.arms, config.stateDir);
  // Arm rests carry over a stop like the lanes do: from this host's sessions of the rules' window.
  armHealth.restore(
    (await store.sessions.list({ since: clock() - NO_PROBE_LOOKBACK_MS })).filter(
      (s) => !store.shared || s.id.endsWith(`@${config.host}`),
    ),
  );
  const wake = wakeups(clock);
  const stopTicks$ = new Subject<void>();
  const closed$ = new Subject<void>();
  // Journaled here; logged with the tick's decision (a `builtin` fallback), once per distinct violation.
  const onViolation = (reason: string, durationMs: number) =>
    bus.push({ type: 'SELECTOR_CONTRACT_VIOLATION', reason, durationMs });
  // `status` shows when the next timer tick is due; a --once run plans none (forget a crashed run's).
  const nextTick = (at: number | null) =>
    void store.runtimeInfo
      .set('next_tick', at === null ? null : String(at))
      .catch((err: unknown) => log.warn({ err }, 'could not record the next tick'));
  if (opts.once) nextTick(null);
  // Operator mode asks for its back-to-back ticks here, so they are gathered like every other.
  const operatorTicks$ = new Subject<TickEvent>();
  // The timer follows the schedule of the configuration in force: a reload that changes it
  // restarts the timer (without a tick on the spot).
  const scheduleConfig$ = new BehaviorSubject(config.schedule);
  const timer$ = (first: boolean) =>
    scheduleConfig$.pipe(
      distinctUntilChanged((a, b) => JSON.stringify(a) === JSON.stringify(b)),
      switchMap((s, i) =>
        ticks({ ...s, tickOnStart: first && i === 0 && s.tickOnStart }, { now: clock, onScheduled: nextTick }),
      ),
    );
  const schedule$: Observable<TickEvent> = opts.once
    ? of({ type: 'TICK', reason: 'manual' })
    : opts.operator
      ? merge(concat(of<TickEvent>({ type: 'TICK', reason: 'operator' }), timer$(false)), operatorTicks$)
      : timer$(true);
  const ticks$ = schedule$.pipe(
    concatMap(async (tick) => {
      // The machines' code runs once on a throwaway fleet while the probes run (warm-up.ts).
      const warmUp = () =>
        warmUpMachines(fleet, clock(), (err) =>
          log.warn({ err }, 'warming up the machines before the tick failed; the tick runs them cold'),
        );
      await armHealth.refresh(clock(), (e) => bus.push(e), warmUp);
      if (store.shared) {
        // The fleet's posteriors (every host's grades, this host's own all in) before deciding.
        await effects.learningSettled();
        const learned = await fleetLearning(store, host.selectorMemory());
        if (learned) bus.push(learned);
      }
      const inputs = await gatherTickInputs({ config, store, onViolation });
      // After a reload changed the lanes, the task files are read again; the tick sees that read.
      await tasksRead;
      if (operator) return { ...tick, inputs: { ...inputs, maxWidth: Math.max(0, operatorRoom(host.lanes())) } };
      if (!store.shared) return { ...tick, inputs };
      // Several hosts: this tick's share of the fleet's width.
      const width = await claimTickWidth(
        store,
        `${config.host}:${runId}`,
        ++tickCount,
        config.width,
        Math.max(1000, Math.floor(config.schedule.intervalMs * 0.9)),
      );
      tickWidths.push(width);
      return { ...tick, inputs: { ...inputs, maxWidth: Math.min(inputs.maxWidth ?? config.width, width.granted) } };
    }),
    takeUntil(stopTicks$),
  );
  const bus = createBus({
    journal: store.journal,
    lastSeq: await store.journal.lastSeq(),
    clock,
    seed: randomSeed,
    sources: [from(startup), taskSnapshots$, ticks$, wake.events$],
    until: closed$,
  });
  const supervisorDeps: SupervisorDeps = {
    config,
    store,
    log,
    baseEnv: opts.baseEnv,
    emit: bus.push,
    clock,
    // A backend whose quota is past 70% gets its sessions' shorter limit.
    timeoutFor: (arm, laneTimeoutMs) => {
      const quota = config.arms.find((a) => a.id === arm)?.quota;
      return quota && armHealth.verdict(clock()).shortened.includes(arm)
        ? Math.min(laneTimeoutMs, quota.shortTimeoutMs)
        : laneTimeoutMs;
    },
  };
  const supervisor = new SessionSupervisor(supervisorDeps);
  // What the dead run left: decided now, before any tick (a lane whose agent still runs keeps its
  // slot), acted on once the bus runs.
  // A drained run leaves nothing open, but a session that ended after its bus closed has no exit in
  // the journal: checked at every start that goes on from a fleet, not only after a crash.
  const reconciled =
    crashed || restored
      ? await reconcileSessions({ config, store, supervisor, log, clock }, restored ? host.lanes() : [])
      : null;
  // Expired claims go only now: an adopted session has taken its own back first.
  const swept = await store.claims.sweep();
  if (swept) log.info(`released ${swept} expired claim${swept === 1 ? '' : 's'} left by an earlier run`);
  const effectDeps: EffectDeps = {
    config,
    store,
    log,
    supervisor,
    push: bus.push,
    memory: () => host.selectorMemory(),
    blockedArms: () => armHealth.verdict(clock()).blocked,
  };
  const effects = new EffectRunner(effectDeps);

  // Late grades (`lanekeeper grade`) are looked for every second: a cheap read of a small table.
  // Housekeeping runs one at a time: while a shared store does not answer, calls wait rather than pile up.
  const oneAtATime = (work: () => Promise<unknown>) => {
    let busy = false;
    return () => {
      if (busy) return;
      busy = true;
      void work().finally(() => (busy = false));
    };
  };
  const lateGrades = setInterval(
    oneAtATime(() =>
      lateGradeEvents(store, log, lateInFlight)
        .then((events) => events.forEach((e) => bus.push(e)))
        .catch((err: unknown) => log.error({ err }, 'could not read late grades')),
    ),
    1000,
  );

  // Claims whose holders died (a crashed agent, a runtime killed earlier) free themselves.
  // The WAL is checkpointed here too, off the claims' hot path.
  const sweep = oneAtATime(() =>
    store.claims
      .sweep()
      .then((n) => {
        if (n) log.info(`released ${n} expired claim${n === 1 ? '' : 's'}`);
        return store.checkpoint();
      })
      .catch((err: unknown) => log.error({ err }, 'claim sweep failed')),
  );
  let sweeper = setInterval(sweep, config.claims.sweepEveryMs);

  let targets = new Map(config.lanes.map((l) => [l.name, l.targetShare]));
  /** The lanes table `status` and `stats` read. */
  const saveLane = (l: LaneStatus, since: number) =>
    store.lanes.set({
      lane_id: l.laneId,
      lane: l.lane,
      slot: l.slot,
      state: l.state,
      since,
      session: activeSession(l),
      target_share: targets.get(l.lane) ?? null,
      deadline: deadlineOf(l),
    });
  // A lane the last run left in the same state has been in it since then (a cooldown goes on).
  const rows = new Map(
    (await store.lanes.list()).filter((r) => !store.shared || r.host === config.host).map((r) => [r.lane_id, r]),
  );
  for (const l of host.lanes())
    await saveLane(l, rows.get(l.laneId)?.state === l.state ? rows.get(l.laneId)!.since : startedAt);
  let scheduled: number | null = null;
  /** Several hosts: the width each pending tick claimed, oldest first, and how many ticks there were. */
  const tickWidths: TickWidth[] = [];
  let tickCount = 0;
  // Width holders name this run, so a restart within an interval never renews its predecessor's slots.
  const runId = randomBytes(3).toString('hex');
  let shownLanes = host.laneIds.join(',');

  /** The last event the fleet took, and the last checkpoint this run wrote (the drain writes one at the end). */
  let lastTaken = 0;
  let lastCheckpoint: number | null = null;
  const handle = async (event: StampedEvent) => {
    // A reload applies to the shell before the intents of its own event run (none start sessions).
    if (event.type === 'CONFIG_RELOADED' && event.source !== 'restart') {
      const next = pendingConfigs.shift();
      if (next) applyConfig(next);
    }
    const { intents, lanes, changed, from } = host.step(event);
    await store.journal.recordEffects(event.seq, intents, changed);
    armHealth.observe(event, intents);
    if (event.type === 'SESSION_REGRADED' && event.lateGradeId !== undefined) {
      await store.lateGrades.applied(event.lateGradeId);
      lateInFlight.delete(event.lateGradeId);
    }
    logEvent(log, event, config.arms);
    if (event.type === 'TICK' && store.shared && event.reason !== 'operator') {
      const width = tickWidths.shift();
      const decision = intents.find((i) => i.type === 'recordDecision');
      if (width)
        void releaseUnused(store, width, decision?.chosen.length ?? 0).catch((err: unknown) =>
          log.warn({ err }, 'could not give back the unused width'),
        );
    }
    for (const intent of intents) effects.run(intent, event);
    let becameIdle = false;
    for (const l of lanes) {
      if (!(l.laneId in changed)) continue;
      if (l.path === 'idle') becameIdle = true;
      log.debug({ lane: l.laneId }, `${from.get(l.laneId)} → ${l.path}`);
      await saveLane(l, event.now);
    }
    lastTaken = event.seq;
    if (event.seq % config.checkpointEvery === 0) {
      await store.journal.saveCheckpoint({
        seq: event.seq,
        version: MACHINES_VERSION,
        state: { fleet, actors: host.persist() },
      });
      lastCheckpoint = event.seq;
    }
    const deadline = host.nextDeadline(lanes);
    if (deadline !== scheduled || event.type === 'WAKE') wake.setDeadline((scheduled = deadline));
    for (const o of opts.observers ?? []) {
      try {
        o.event(event, intents, lanes);
      } catch (err) {
        log.warn({ err }, `an observer failed on ${event.type} #${event.seq}; the runtime goes on`);
      }
    }
    // A reload adds lanes at once; the lanes it removed leave the table once their session is over.
    const ids = lanes.map((l) => l.laneId).join(',');
    if (ids !== shownLanes) {
      shownLanes = ids;
      await store.lanes.retain(host.laneIds);
      for (const l of lanes) await saveLane(l, event.now);
    }
    if (opts.once || (operator && !first.startedAny)) first.observe(event, intents);
    if (opts.once) watchOnce(lanes);
    if (operator) watchOperator(event, intents, lanes, becameIdle);
  };

  /** Sessions an operator run may still begin: its target less those begun and being claimed. */
  const operatorRoom = (lanes: LaneStatus[]) =>
    operator!.target - operator!.begun - lanes.filter((l) => l.state === 'claiming').length;
  // Operator mode: a decision whenever capacity frees up, until the sessions are all begun.
  const operator = opts.operator
    ? { target: opts.operator.sessions, begun: 0, tickPending: false, closing: false }
    : null;
  const watchOperator = (event: StampedEvent, intents: Intent[], lanes: LaneStatus[], becameIdle: boolean) => {
    const op = operator!;
    if (event.type === 'TICK') op.tickPending = false;
    op.begun += intents.filter((i) => i.type === 'startSession').length;
    const active = lanes.filter((l) => isActive(l.state)).length;
    if (!op.closing && op.begun >= op.target) {
      // No more dispatches or respawns, but the sessions that run finish in their own time.
      op.closing = true;
      log.info(`--operator: ${plural(op.begun, 'session')} begun; waiting for the running ones to end`);
      stopTicks$.next();
      bus.push({ type: 'DRAIN', reason: `--operator: ${plural(op.target, 'session')} begun` });
    }
    if (op.closing) {
      if (active === 0) drain(`--operator: ${plural(op.target, 'session')} done`);
      return;
    }
    if (op.tickPending || draining) return;
    const room =
      active < config.width &&
      operatorRoom(lanes) > 0 &&
      lanes.some((l) => l.state === 'idle' && config.lanes.find((c) => c.name === l.lane)?.enabled);
    // A lane freed (graded, idle again), or one no backend could run (now waiting): the slot goes
    // to another idle lane at once.
    const noArm = intents.some((i) => i.type === 'laneNote' && i.note === 'no_arm');
    if (room && (event.type === 'SESSION_GRADED' || becameIdle || noArm)) {
      op.tickPending = true;
      operatorTicks$.next({ type: 'TICK', reason: 'operator' });
      return;
    }
    // No agent has started, nothing is going on, and no decision is due: everything was busy or
    // gated, no backend could run, or no agent could start (another arm is tried first, while a
    // lane is free). A run that can do nothing says so with --once's exit codes, not by waiting.
    if (!first.startedAny && first.settled(lanes)) {
      op.closing = true;
      drain('--operator: no session could start');
    }
  };

  // What the first tick did (a once run's only one), for the exit code.
  const first = new FirstTick();
  // A once run drains when nothing its tick began is still going.
  const watchOnce = (lanes: LaneStatus[]) => {
    if (first.settled(lanes)) drain('--once: the tick is done');
  };

  let beginDrain!: () => void;
  const drainStarted = new Promise<void>((resolve) => (beginDrain = resolve));
  let draining = false;
  let terminating = false;
  /** No new sessions; running ones get the drain grace. */
  const drain = (reason: string) => {
    if (draining) return;
    draining = true;
    log.info(
      `stopping (${reason}): no new sessions; ${supervisor.running} running session(s) get up to ${formatDuration(config.sessions.drainGraceMs)}`,
    );
    stopTicks$.next();
    void tasks?.close().then(() => taskSnapshots$.complete());
    bus.push({ type: 'DRAIN', reason });
    beginDrain();
  };
  /** Stop running sessions now (SIGTERM, then SIGKILL after the kill grace). */
  const terminate = (reason: string) => {
    if (terminating) return;
    terminating = true;
    log.warn(`stopping now (${reason}): terminating ${supervisor.running} session(s)`);
    supervisor.stopAll(reason);
  };

  /** A reload: the configuration read again; applied when valid, else the last good one stays. */
  /** Reloads read but not yet taken by the actors, oldest first: each applies as its CONFIG_RELOADED is handled. */
  const pendingConfigs: ResolvedConfig[] = [];
  const reload = (source: string) => {
    if (draining || operator?.closing) {
      log.info(`config reload (${source}) ignored: lanekeeper is stopping`);
      return;
    }
    if (!opts.reload) return;
    const verdict = readReload(opts.reload, opts.config);
    if ('reason' in verdict) {
      log.warn(`config reload (${source}) rejected, the last good configuration stays: ${verdict.reason}`);
      bus.push({ type: 'CONFIG_REJECTED', source, reason: verdict.reason });
      return;
    }
    opts = { ...opts, config: verdict.config };
    if (!verdict.changes.length) {
      log.info(`config reload (${source}): nothing changed`);
      return;
    }
    const next = forMode(verdict.config);
    pendingConfigs.push(next);
    log.info(
      `config reloaded (${source}): ${verdict.changes.join(', ')} changed; running sessions keep what they started with`,
    );
    bus.push({ type: 'CONFIG_RELOADED', fleet: fleetSpec(next), source, changes: verdict.changes });
  };
  /**
   * The shell takes a reloaded configuration when the actors do (its CONFIG_RELOADED), so what
   * was decided before it (a grant, a respawn) starts with the configuration it was decided under.
   */
  const applyConfig = (next: ResolvedConfig) => {
    config = next;
    fleet = fleetSpec(config);
    supervisorDeps.config = config;
    effectDeps.config = config;
    armHealth.reconfigure(config.arms);
    tasksRead = tasks?.setLanes(config.lanes.map((l) => l.name)) ?? tasksRead;
    targets = new Map(config.lanes.map((l) => [l.name, l.targetShare]));
    clearInterval(sweeper);
    sweeper = setInterval(sweep, config.claims.sweepEveryMs);
    scheduleConfig$.next(config.schedule);
    void store.runtimeInfo
      .set('enabled_lanes', JSON.stringify(config.lanes.filter((l) => l.enabled).map((l) => l.name)))
      .catch((err: unknown) => log.warn({ err }, 'could not record the enabled lanes'));
  };

  let failure: unknown = null;
  const pipelineDone = new Promise<void>((resolve) => {
    bus.events$.pipe(concatMap(handle)).subscribe({
      complete: resolve,
      // A bug or a broken store: stop the way a signal would (no new sessions, running ones
      // drained and killed), then report the failure from `finished`.
      error: (err: unknown) => {
        failure = err;
        log.fatal({ err }, 'the event pipeline failed; stopping');
        drain('event pipeline failed');
        terminate('event pipeline failed');
        resolve();
      },
    });
  });

  if (reconciled) reconciled.apply();
  if (crashed && reconciled) {
    const { adopted, closed, released } = reconciled;
    log.warn(
      `the last run ended without a drain: ${restored ? `lanes restored from the journal (${foldedText(restored)})` : 'the fleet starts fresh'}; ` +
        `${adopted.length} session(s) still running adopted${adopted.length ? ` (${adopted.join(', ')})` : ''}, ${closed.length} closed${closed.length ? ` (${closed.join(', ')})` : ''}, ${released.length} leftover claim(s) released`,
    );
  } else if (restored) {
    const stoppedAt = Number((await store.runtimeInfo.get('stopped_at')) ?? NaN);
    const closed = reconciled?.closed.length
      ? `; ${reconciled.closed.length} session(s) whose end the last run did not journal closed (${reconciled.closed.join(', ')})`
      : '';
    log.info(
      `going on from the last run${Number.isFinite(stoppedAt) ? ` (drained ${isoSeconds(stoppedAt)})` : ''}: lanes restored from the journal (${foldedText(restored)})${resting(host.lanes(), clock())}${closed}`,
    );
  }

  const finished = (async () => {
    await drainStarted;
    const graceTimer = setTimeout(() => {
      if (supervisor.running)
        log.warn(
          `drain grace of ${formatDuration(config.sessions.drainGraceMs)} over: stopping ${supervisor.running} session(s)`,
        );
      supervisor.stopAll('drain grace over');
    }, config.sessions.drainGraceMs);
    await supervisor.settled();
    clearTimeout(graceTimer);
    clearInterval(sweeper);
    clearInterval(lateGrades);
    await effects.settled();
    closed$.next();
    wake.close();
    await pipelineDone;
    // An event still in the bus at the drain may have started a session: stop and wait for it too.
    supervisor.stopAll('drain');
    await supervisor.settled();
    await effects.settled();
    if (!failure) {
      // The next start goes on from here: a checkpoint of the fleet as it stops, so it folds
      // nothing, and the lane rows stay as they are (a cooldown says until when) for status and
      // plan. A run that dies before this is gone on from all the same, from the journal.
      if (lastTaken > (lastCheckpoint ?? 0))
        await store.journal.saveCheckpoint({
          seq: lastTaken,
          version: MACHINES_VERSION,
          state: { fleet, actors: host.persist() },
        });
      await store.runtimeInfo.set('stopped_at', String(clock()));
      await store.runtimeInfo.set('run_state', 'stopped');
    }
    host.stop();
    if (failure) throw failure;
    // On a shared store the sessions table holds every host's: the summary is this host's.
    const mine = (await store.sessions.list({ since: startedAt })).filter(
      (s) => !store.shared || s.id.endsWith(`@${config.host}`),
    );
    return summarize(mine);
  })();

  return {
    stop: (reason) => (draining ? terminate(reason) : drain(reason)),
    reload,
    finished,
    firstTick: () => first.get(),
  };
}

/**
 * The actors as the last run left them, or null: the journal is empty (the first run here), or it
 * cannot be gone on from (the log says why, and the fleet starts fresh with what the store learned).
 */
async function resume(store: Store, log: Logger, inspect?: (e: InspectionEvent) => void): Promise<Restored | null> {
  const r = await restoreFleet(store, { inspect });
  if (!('reason' in r)) return r;
  if (!r.empty) log.warn(`the fleet starts fresh (lanes idle, what was learned kept): ${r.reason}`);
  return null;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "12 events from seq 4001, after its last checkpoint". */
function foldedText(r: Restored): string {
  return `${r.folded} event${r.folded === 1 ? '' : 's'} from seq ${r.from.seq}, after its ${r.from.at === 'checkpoint' ? 'last checkpoint' : 'start'}`;
}

/** "; resting: code cooldown (1h 59m left), docs waiting (due now)": the lanes a deadline holds. */
function resting(lanes: readonly LaneStatus[], now: number): string {
  const held = lanes
    .filter((l) => deadlineOf(l) !== null)
    .map((l) => `${l.laneId} ${l.state} (${leftText(deadlineOf(l)!, now)})`);
  return held.length ? `; resting: ${held.join(', ')}` : '';
}

/** What a cooling down or waiting lane waits for, or null. */
function deadlineOf(l: LaneStatus): number | null {
  return l.state === 'cooldown' || l.state === 'waiting' ? l.context.deadline : null;
}

function activeSession(l: LaneStatus): string | null {
  return l.state === 'claiming' || l.state === 'running' ? l.context.sessionId : null;
}
