// The session side of the shell: the session supervisor (the process adapter that starts, watches,
// grades and releases each session), the effect runner that carries out the machines' intents
// through it and the other adapters, and the arm health both consult. All read the live
// configuration; all report back to the bus through `push`.
import { skip } from 'rxjs';
import type { Logger } from 'pino';
import type { Store } from '../ports/store.js';
import type { BusEvent } from '../machines/events.js';
import type { FleetHost } from '../streams/fleet-host.js';
import { SessionSupervisor } from '../adapters/process/supervisor.js';
import { NO_PROBE_LOOKBACK_MS } from '../config/quota-defaults.js';
import { ArmHealth } from './arm-health.js';
import { EffectRunner } from './effects.js';
import type { LiveConfig } from './live-config.js';

export interface SessionSide {
  armHealth: ArmHealth;
  supervisor: SessionSupervisor;
  effects: EffectRunner;
}

export async function wireSessions(d: {
  live: LiveConfig;
  store: Store;
  log: Logger;
  clock: () => number;
  host: FleetHost;
  push: (event: BusEvent) => void;
  /** The environment sessions inherit. */
  baseEnv: Readonly<Record<string, string | undefined>>;
}): Promise<SessionSide> {
  const { live, store, log, clock, host, push } = d;
  const armHealth = new ArmHealth(live.current.arms, live.current.stateDir);
  // Arm rests carry over a stop like the lanes do: from this host's sessions of the rules' window.
  armHealth.restore(
    (await store.sessions.list({ since: clock() - NO_PROBE_LOOKBACK_MS })).filter(
      (s) => !store.shared || s.id.endsWith(`@${live.current.host}`),
    ),
  );
  const supervisor = new SessionSupervisor({
    get config() {
      return live.current;
    },
    store,
    log,
    baseEnv: d.baseEnv,
    emit: push,
    clock,
    // A backend whose quota is past 70% gets its sessions' shorter limit.
    timeoutFor: (arm, laneTimeoutMs) => {
      const quota = live.current.arms.find((a) => a.id === arm)?.quota;
      const short = quota && armHealth.verdict(clock()).shortened.includes(arm);
      return short ? Math.min(laneTimeoutMs, quota.shortTimeoutMs) : laneTimeoutMs;
    },
  });
  const effects = new EffectRunner({
    get config() {
      return live.current;
    },
    store,
    log,
    supervisor,
    push,
    memory: () => host.selectorMemory(),
    blockedArms: () => armHealth.verdict(clock()).blocked,
  });
  // A reload the actors took: the arms' rules follow it.
  live.changes$.pipe(skip(1)).subscribe((config) => armHealth.reconfigure(config.arms));
  return { armHealth, supervisor, effects };
}
