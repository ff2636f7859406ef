// The running service, wired: store, bus, fleet, adapters, observers and the run's mode. Events flow
//   sources → bus (stamp, journal) → host loop (fold, record, run the intents) → adapters → events → bus …
// one event at a time. Each job lives in its own file beside this one: the start (startup.ts), the
// live configuration (live-config.ts), the tick source (tick-source.ts), housekeeping
// (housekeeping.ts), the host loop (host-loop.ts), the modes (modes/), the stop (shutdown.ts).
import { randomBytes } from 'node:crypto';
import { from, Subject } from 'rxjs';
import type { BusEvent } from '../machines/events.js';
import { createBus } from '../streams/bus.js';
import { wakeups } from '../streams/wakeups.js';
import { prepareDemoRepos } from '../demo/prepare.js';
import { TickWidths } from './fleet-share.js';
import { HostLoop } from './host-loop.js';
import { lateGrades$, retention$, sweeps$ } from './housekeeping.js';
import { plural } from '../format/event.js';
import { LaneRows } from './lane-rows.js';
import { lateGradeEvents } from './late-grades.js';
import { LiveConfig } from './live-config.js';
import { modeFor } from './modes/index.js';
import { reconcileSessions } from './recover.js';
import { Shutdown } from './shutdown.js';
import { beginRun, logStart } from './startup.js';
import { openTaskFeed } from './task-feed.js';
import { tickSource } from './tick-source.js';
import type { Runtime, RuntimeOptions } from './options.js';
import { wireSessions } from './session-side.js';

export type { FirstTickResult, Runtime, RuntimeObserver, RuntimeOptions } from './options.js';

/** Starts a run: what it stands on first (the fleet, the adapters, what the last run left), then the bus. */
export async function startRuntime(opts: RuntimeOptions): Promise<Runtime> {
  return wire(opts, await ground(opts));
}

type Ground = Awaited<ReturnType<typeof ground>>;

/** The fleet this run goes on from, the live configuration, the session side, and what the last run left. */
async function ground(opts: RuntimeOptions) {
  const { store, log } = opts;
  const clock = opts.clock ?? Date.now;
  const startedAt = clock();
  const live = new LiveConfig(opts.config, opts.once ? 'once' : opts.operator ? 'operator' : 'service');
  if (live.current.demo) await prepareDemoRepos(live.current);
  const start = await beginRun(store, live, log, clock, opts.inspect);
  const { host } = start;
  // Late grades given while lanekeeper was down are learned first.
  const lateInFlight = new Set<number>();
  const startup = [...start.events, ...(await lateGradeEvents(store, log, lateInFlight))];
  // What the adapters and the control code report; a source of the bus like the others.
  const inbox = new Subject<BusEvent>();
  const push = (event: BusEvent) => inbox.next(event);
  const tasks = await openTaskFeed(live, log);
  const sessions = await wireSessions({ live, store, log, clock, host, push, baseEnv: opts.baseEnv });
  // What the last run left: decided now, before any tick (a lane whose agent still runs keeps its
  // slot), acted on once the bus runs. A drained run leaves nothing open, but a session that ended
  // after its bus closed has no exit in the journal: checked at every start that goes on from a fleet.
  const reconcile = { config: live.current, store, supervisor: sessions.supervisor, log, clock };
  const reconciled =
    start.crashed || start.restored ? await reconcileSessions(reconcile, start.restored ? host.lanes() : []) : null;
  // Expired claims go only now: an adopted session has taken its own back first.
  const swept = await store.claims.sweep();
  if (swept) log.info(`released ${plural(swept, 'expired claim')} left by an earlier run`);
  const rows = new LaneRows(store, live, log);
  await rows.restore(host.lanes(), startedAt);
  return {
    ...sessions,
    store,
    log,
    clock,
    startedAt,
    live,
    start,
    host,
    lateInFlight,
    startup,
    inbox,
    push,
    tasks,
    rows,
    reconciled,
  };
}

/** The bus over the sources, the host loop over the bus, the run's mode, and how it stops. */
async function wire(opts: RuntimeOptions, g: Ground): Promise<Runtime> {
  const { store, log, clock, live, host, push, tasks, effects, supervisor } = g;
  const stopTicks$ = new Subject<void>();
  const closed$ = new Subject<void>();
  const quiet = () => {
    stopTicks$.next();
    tasks.close();
  };
  const shutdown = new Shutdown({ live, log, supervisor, push, quiet });
  const strategy = modeFor(live.mode, opts.operator?.sessions ?? 0, {
    ...{ live, log, push },
    drain: (reason) => shutdown.drain(reason),
    stopTicks: () => stopTicks$.next(),
    draining: () => shutdown.isDraining,
  });
  const widths = store.shared && live.mode !== 'operator' ? new TickWidths(store, live, log) : null;
  const wake = wakeups(clock);
  const ticks$ = tickSource({
    ...{ live, store, log, clock, host, strategy, armHealth: g.armHealth, push, widths },
    learningSettled: () => effects.learningSettled(),
    tasksRead: () => tasks.read(),
    stop$: stopTicks$,
  });
  const housekeeping = [
    lateGrades$(store, log, g.lateInFlight),
    sweeps$(store, log, live),
    retention$(store, log, live, clock),
  ];
  const bus = createBus({
    ...{ journal: store.journal, lastSeq: await store.journal.lastSeq(), clock },
    seed: () => randomBytes(4).readUInt32LE(0),
    sources: [g.inbox, from(g.startup), tasks.events$, ticks$, wake.events$, ...housekeeping],
    until: closed$,
  });
  const observers = opts.observers ?? [];
  const loop = new HostLoop({ ...g, wake, strategy, observers, widths });
  // A bug or a broken store ends the pipeline: stop the way a signal would (no new sessions,
  // running ones drained and killed), then report the failure from `finished`.
  const pipelineDone = loop.run(bus.events$, () => {
    shutdown.drain('event pipeline failed');
    shutdown.terminate('event pipeline failed');
  });
  g.reconciled?.apply();
  await logStart(store, log, g.start, g.reconciled, clock());
  const close = () => {
    closed$.next();
    wake.close();
  };
  const finished = shutdown.finish({ ...g, loop, pipelineDone, close, now: clock });
  return {
    stop: (reason) => (shutdown.isDraining ? shutdown.terminate(reason) : shutdown.drain(reason)),
    reload: (source) => {
      if (shutdown.isDraining || strategy.stopping)
        return log.info(`config reload (${source}) ignored: lanekeeper is stopping`);
      const event = opts.reload ? live.offer(source, opts.reload, log) : null;
      if (event) push(event);
    },
    finished,
    firstTick: () => strategy.firstTick(),
  };
}
