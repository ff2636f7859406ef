// How a run is driven: a long-running service ticks on its timer; `run --once` takes one tick and
// stops when what it began has ended (a systemd timer's run); `run --operator` dispatches back to
// back until its sessions are begun. The host loop is the same for all three: a mode only says
// which ticks there are, how wide a tick may be, and when the run ends.
import type { Observable } from 'rxjs';
import type { Logger } from 'pino';
import type { BusEvent, StampedEvent, TickEvent } from '../../machines/events.js';
import type { Intent } from '../../machines/intents.js';
import type { LaneStatus } from '../../streams/fleet-host.js';
import type { FirstTickResult } from '../first-tick.js';
import type { LiveConfig } from '../live-config.js';

/** What a mode may do to the run it drives. */
export interface ModeControls {
  live: LiveConfig;
  log: Logger;
  push(event: BusEvent): void;
  /** End the run: no new sessions, the running ones get the drain grace. */
  drain(reason: string): void;
  /** No more ticks, the timer's or the mode's own. */
  stopTicks(): void;
  /** Whether the run is draining. */
  draining(): boolean;
}

/** The timer on the live schedule; `tickOnStart`: whether it may tick at once (as the schedule says). */
export type Timer = (tickOnStart: boolean) => Observable<TickEvent>;

export interface RunStrategy {
  /** The ticks this mode runs on; `scheduled` records when the next timer tick is due (null: none). */
  ticks(timer: Timer, scheduled: (at: number | null) => void): Observable<TickEvent>;
  /** The most sessions the next tick may start, when the mode limits it (undefined: it does not). */
  tickRoom(lanes: readonly LaneStatus[]): number | undefined;
  /** Told of every event after the fleet took it, with the lanes after it. */
  observe(event: StampedEvent, intents: readonly Intent[], lanes: readonly LaneStatus[], becameIdle: boolean): void;
  /** The mode is ending the run on its own (a reload is not taken any more). */
  readonly stopping: boolean;
  /** What the first tick did, for the exit code of a once or operator run. */
  firstTick(): FirstTickResult;
}
