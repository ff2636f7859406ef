// What starts a run (the CLI's `run` hands these in) and what a running one offers back.
import type { Logger } from 'pino';
import type { InspectionEvent } from 'xstate';
import type { Store } from '../ports/store.js';
import type { RuntimeObserver } from '../ports/observer.js';
import type { ResolvedConfig } from '../config/types.js';
import type { LaneSummary } from '../format/summary.js';
import type { FirstTickResult } from './first-tick.js';

export type { FirstTickResult } from './first-tick.js';
export type { RuntimeObserver } from '../ports/observer.js';

export interface RuntimeOptions {
  config: ResolvedConfig;
  store: Store;
  log: Logger;
  baseEnv: Readonly<Record<string, string | undefined>>;
  clock?: () => number;
  /** One tick, then stop once the sessions it started have ended (for a systemd timer); lanes do not respawn. */
  once?: boolean;
  /** Dispatch back to back until `sessions` sessions have begun, then end when they have (modes/operator.ts). */
  operator?: { sessions: number };
  /** Told of every event after the fleet took it (metrics, live views); they must not throw. */
  observers?: readonly RuntimeObserver[];
  /** XState inspection events of the fleet's actors (the inspector feed). */
  inspect?: (event: InspectionEvent) => void;
  /** Reads the configuration again for a reload (throws ConfigError when it is invalid). */
  reload?: () => ResolvedConfig;
}

export interface Runtime {
  /** Begin the drain; safe to call more than once (a second call stops sessions at once). */
  stop(reason: string): void;
  /** Read the configuration again (SIGHUP, an edit): apply it if valid, else keep the last good one and say why. */
  reload(source: string): void;
  /** Resolves after the drain with the summary of the sessions this run started. */
  readonly finished: Promise<LaneSummary[]>;
  /** What the first tick did (a once run's only tick, an operator run's first), for the exit code; read after `finished`. */
  firstTick(): FirstTickResult;
}
