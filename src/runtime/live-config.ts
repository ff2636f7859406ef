// The live configuration: the one place the running service reads its settings from. The session
// supervisor, the effects, the timer, the sweeper, arm health and the task watch all read it here
// (or follow `changes$`) instead of holding copies that a reload would have to patch.
//
// A reload is read and checked at once (refused with its reason, or journaled as CONFIG_RELOADED),
// but the shell takes it only when the actors do, as its CONFIG_RELOADED is handled: what was
// decided before it (a grant, a respawn) starts with the configuration it was decided under.
import { BehaviorSubject, type Observable } from 'rxjs';
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/types.js';
import type { ConfigReloadedEvent, ConfigRejectedEvent } from '../machines/events.js';
import type { FleetInput } from '../machines/types.js';
import { readReload } from '../config/reload.js';
import { fleetSpec } from './selection.js';

export type RunMode = 'service' | 'once' | 'operator';

export class LiveConfig {
  /** The file as last read successfully: what the next reload is compared with. */
  private read: ResolvedConfig;
  private readonly inForce: BehaviorSubject<ResolvedConfig>;
  private spec: FleetInput;
  /** Reloads journaled but not yet taken by the actors, oldest first. */
  private readonly pending: ResolvedConfig[] = [];

  constructor(
    config: ResolvedConfig,
    readonly mode: RunMode,
  ) {
    this.read = config;
    this.inForce = new BehaviorSubject(this.forMode(config));
    this.spec = fleetSpec(this.inForce.value);
  }

  /** The configuration in force. */
  get current(): ResolvedConfig {
    return this.inForce.value;
  }

  /** The fleet the machines are configured for (journaled with the run's start and each reload). */
  get fleet(): FleetInput {
    return this.spec;
  }

  /** The configuration in force, now and after every reload the actors took. */
  get changes$(): Observable<ResolvedConfig> {
    return this.inForce.asObservable();
  }

  /**
   * Reads the configuration again. Returns the event to journal: CONFIG_RELOADED when something
   * changed, CONFIG_REJECTED (with the reason; the last good configuration stays) when the file is
   * invalid or changes what needs a restart, null when nothing changed.
   */
  offer(source: string, load: () => ResolvedConfig, log: Logger): ConfigReloadedEvent | ConfigRejectedEvent | null {
    const verdict = readReload(load, this.read);
    if ('reason' in verdict) {
      log.warn(`config reload (${source}) rejected, the last good configuration stays: ${verdict.reason}`);
      return { type: 'CONFIG_REJECTED', source, reason: verdict.reason };
    }
    this.read = verdict.config;
    if (!verdict.changes.length) {
      log.info(`config reload (${source}): nothing changed`);
      return null;
    }
    const next = this.forMode(verdict.config);
    this.pending.push(next);
    log.info(
      `config reloaded (${source}): ${verdict.changes.join(', ')} changed; running sessions keep what they started with`,
    );
    return { type: 'CONFIG_RELOADED', fleet: fleetSpec(next), source, changes: verdict.changes };
  }

  /** The actors took a reload (its CONFIG_RELOADED is being handled): the shell takes it too. */
  take(): void {
    const next = this.pending.shift();
    if (!next) return;
    this.spec = fleetSpec(next);
    this.inForce.next(next);
  }

  /** A once run's lanes never respawn: each run is one tick's worth of work. */
  private forMode(c: ResolvedConfig): ResolvedConfig {
    return this.mode === 'once' ? { ...c, lanes: c.lanes.map((l) => ({ ...l, chainLimit: 0 })) } : c;
  }
}
