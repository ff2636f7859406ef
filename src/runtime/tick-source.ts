// The tick source: the mode's ticks (the timer on the live schedule, a once run's one tick, an
// operator's back-to-back ones), each gathered into a TICK that carries what the tick decides
// from: arm health (probes), the fleet's shared learning, load, signals, claims held, the external
// selector, the width this tick may use. They travel inside the event, so replay decides the same.
import { concatMap, distinctUntilChanged, map, switchMap, takeUntil, type Observable } from 'rxjs';
import type { Logger } from 'pino';
import type { Store } from '../ports/store.js';
import type { BusEvent, TickEvent } from '../machines/events.js';
import type { FleetHost } from '../streams/fleet-host.js';
import { ticks } from '../streams/ticks.js';
import { fleetLearning, type TickWidths } from './fleet-share.js';
import { gatherTickInputs } from './tick-inputs.js';
import { warmUpMachines } from './warm-up.js';
import type { ArmHealth } from './arm-health.js';
import type { LiveConfig } from './live-config.js';
import type { RunStrategy } from './modes/mode.js';

export interface TickSourceDeps {
  live: LiveConfig;
  store: Store;
  log: Logger;
  clock: () => number;
  host: FleetHost;
  strategy: RunStrategy;
  armHealth: ArmHealth;
  push: (event: BusEvent) => void;
  /** Resolves once every grade this host saw is folded into a shared store. */
  learningSettled: () => Promise<void>;
  /** Resolves once the task files are read for the lanes in force. */
  tasksRead: () => Promise<void>;
  /** Several hosts: the share of the fleet's width each tick claims; null on one host. */
  widths: TickWidths | null;
  /** Emits once: no more ticks. */
  stop$: Observable<void>;
}

export function tickSource(d: TickSourceDeps): Observable<TickEvent> {
  // `status` shows when the next timer tick is due.
  const scheduled = (at: number | null) =>
    void d.store.runtimeInfo
      .set('next_tick', at === null ? null : String(at))
      .catch((err: unknown) => d.log.warn({ err }, 'could not record the next tick'));
  // The timer follows the schedule in force: a reload that changes it restarts the timer (without a tick on the spot).
  const timer = (tickOnStart: boolean) =>
    d.live.changes$.pipe(
      map((c) => c.schedule),
      distinctUntilChanged((a, b) => JSON.stringify(a) === JSON.stringify(b)),
      switchMap((s, i) =>
        ticks({ ...s, tickOnStart: tickOnStart && i === 0 && s.tickOnStart }, { now: d.clock, onScheduled: scheduled }),
      ),
    );
  return d.strategy.ticks(timer, scheduled).pipe(
    concatMap((tick) => gather(d, tick)),
    takeUntil(d.stop$),
  );
}

async function gather(d: TickSourceDeps, tick: TickEvent): Promise<TickEvent> {
  const { live, store, log, clock, push } = d;
  // The machines' code runs once on a throwaway fleet while the probes run (warm-up.ts).
  const warmUp = () =>
    warmUpMachines(live.fleet, clock(), (err) =>
      log.warn({ err }, 'warming up the machines before the tick failed; the tick runs them cold'),
    );
  await d.armHealth.refresh(clock(), push, warmUp);
  if (store.shared) {
    // The fleet's posteriors (every host's grades, this host's own all in) before deciding.
    await d.learningSettled();
    const learned = await fleetLearning(store, d.host.selectorMemory());
    if (learned) push(learned);
  }
  const inputs = await gatherTickInputs({
    config: live.current,
    store,
    // Journaled here; logged with the tick's decision (a `builtin` fallback), once per distinct violation.
    onViolation: (reason, durationMs) => push({ type: 'SELECTOR_CONTRACT_VIOLATION', reason, durationMs }),
  });
  // After a reload changed the lanes, the task files are read again; the tick sees that read.
  await d.tasksRead();
  const room = d.strategy.tickRoom(d.host.lanes());
  if (room !== undefined) return { ...tick, inputs: { ...inputs, maxWidth: Math.max(0, room) } };
  if (!d.widths) return { ...tick, inputs };
  const granted = await d.widths.claim();
  return { ...tick, inputs: { ...inputs, maxWidth: Math.min(inputs.maxWidth ?? live.current.width, granted) } };
}
