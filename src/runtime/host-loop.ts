// The host loop: per stamped event (already journaled by the bus), fold it into the fleet, record
// the intents it produced, run them through the adapters (whose results come back as events), and
// keep what others read in step: the lane rows, the checkpoint, the next wake-up, the observers
// (metrics, live views) and the run's mode.
import { concatMap, type Observable } from 'rxjs';
import type { Logger } from 'pino';
import type { Store } from '../ports/store.js';
import type { RuntimeObserver } from '../ports/observer.js';
import type { StampedEvent } from '../machines/events.js';
import type { Intent } from '../machines/intents.js';
import { MACHINES_VERSION, type FleetHost, type LaneStatus } from '../streams/fleet-host.js';
import type { Wakeups } from '../streams/wakeups.js';
import { logEvent } from '../format/event-log.js';
import type { ArmHealth } from './arm-health.js';
import type { EffectRunner } from './effects.js';
import type { TickWidths } from './fleet-share.js';
import type { LaneRows } from './lane-rows.js';
import type { LiveConfig } from './live-config.js';
import type { RunStrategy } from './modes/mode.js';

export interface HostLoopDeps {
  host: FleetHost;
  store: Store;
  live: LiveConfig;
  log: Logger;
  /** Carries out the intents through the adapters. */
  effects: Pick<EffectRunner, 'run'>;
  /** Learns crash loops and rests from what the fleet took. */
  armHealth: Pick<ArmHealth, 'observe'>;
  rows: Pick<LaneRows, 'update'>;
  /** The next deadline wake-up. */
  wake: Pick<Wakeups, 'setDeadline'>;
  strategy: RunStrategy;
  observers: readonly RuntimeObserver[];
  /** Several hosts: the width each tick claimed; null on one host. */
  widths: TickWidths | null;
  /** Late grades on their way to the bus (marked applied once taken). */
  lateInFlight: Set<number>;
}

export class HostLoop {
  /** The last event the fleet took, and the last checkpoint this run wrote. */
  private lastTaken = 0;
  private lastCheckpoint = 0;
  /** The wake-up asked for, to ask again only when it moves. */
  private scheduled: number | null = null;

  constructor(private readonly d: HostLoopDeps) {}

  /**
   * Takes the bus's events one at a time. Resolves when the bus ends, with the failure that ended
   * it early (a bug, a broken store: `onFailure` is told first, to stop the run) or null.
   */
  run(events$: Observable<StampedEvent>, onFailure: () => void): Promise<unknown> {
    return new Promise((resolve) => {
      events$.pipe(concatMap((event) => this.take(event))).subscribe({
        complete: () => resolve(null),
        error: (err: unknown) => {
          this.d.log.fatal({ err }, 'the event pipeline failed; stopping');
          onFailure();
          resolve(err);
        },
      });
    });
  }

  /** One stamped event, journaled already. */
  async take(event: StampedEvent): Promise<void> {
    const { host, store, live, log, effects } = this.d;
    // A reload applies to the shell before the intents of its own event run (none start sessions).
    if (event.type === 'CONFIG_RELOADED' && event.source !== 'restart') live.take();
    const { intents, lanes, changed, from } = host.step(event);
    await store.journal.recordEffects(event.seq, intents, changed);
    this.d.armHealth.observe(event, intents);
    if (event.type === 'SESSION_REGRADED' && event.lateGradeId !== undefined) {
      await store.lateGrades.applied(event.lateGradeId);
      this.d.lateInFlight.delete(event.lateGradeId);
    }
    logEvent(log, event, live.current.arms);
    this.d.widths?.taken(event, intents);
    for (const intent of intents) effects.run(intent, event);
    for (const [id, path] of Object.entries(changed)) log.debug({ lane: id }, `${from.get(id)} → ${path}`);
    await this.d.rows.update(lanes, changed, event.now);
    this.lastTaken = event.seq;
    if (event.seq % live.current.checkpointEvery === 0) await this.checkpoint();
    const deadline = host.nextDeadline(lanes);
    if (deadline !== this.scheduled || event.type === 'WAKE') this.d.wake.setDeadline((this.scheduled = deadline));
    this.tell(event, intents, lanes);
    const becameIdle = lanes.some((l) => l.laneId in changed && l.path === 'idle');
    this.d.strategy.observe(event, intents, lanes, becameIdle);
  }

  /**
   * At the end of a drain: a checkpoint of the fleet as it stops (unless the last one is it), so
   * the next start folds nothing.
   */
  async finalCheckpoint(): Promise<void> {
    if (this.lastTaken > this.lastCheckpoint) await this.checkpoint();
  }

  private async checkpoint(): Promise<void> {
    const { store, live, host } = this.d;
    await store.journal.saveCheckpoint({
      seq: this.lastTaken,
      version: MACHINES_VERSION,
      state: { fleet: live.fleet, actors: host.persist() },
    });
    this.lastCheckpoint = this.lastTaken;
  }

  private tell(event: StampedEvent, intents: Intent[], lanes: LaneStatus[]): void {
    for (const o of this.d.observers) {
      try {
        o.event(event, intents, lanes);
      } catch (err) {
        this.d.log.warn({ err }, `an observer failed on ${event.type} #${event.seq}; the runtime goes on`);
      }
    }
  }
}
