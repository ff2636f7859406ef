// Stopping: a drain (no new sessions; running ones get the drain grace, then their process
// groups are killed), or, asked a second time, at once. Every exit and grade is journaled before
// the bus closes; the run ends with a checkpoint so the next start goes on from here.
import type { Logger } from 'pino';
import type { Store } from '../ports/store.js';
import type { BusEvent } from '../machines/events.js';
import type { FleetHost } from '../streams/fleet-host.js';
import type { SessionSupervisor } from '../adapters/process/supervisor.js';
import { formatDuration } from '../config/duration.js';
import { summarize, type LaneSummary } from '../format/summary.js';
import type { EffectRunner } from './effects.js';
import type { HostLoop } from './host-loop.js';
import type { LiveConfig } from './live-config.js';

export interface ShutdownDeps {
  live: LiveConfig;
  log: Logger;
  supervisor: SessionSupervisor;
  push: (event: BusEvent) => void;
  /** No more ticks, no more task snapshots. */
  quiet: () => void;
}

export class Shutdown {
  private draining = false;
  private terminating = false;
  private begin!: () => void;
  /** Resolves when the drain begins. */
  private readonly started = new Promise<void>((resolve) => (this.begin = resolve));

  constructor(private readonly d: ShutdownDeps) {}

  get isDraining(): boolean {
    return this.draining;
  }

  /** No new sessions; running ones get the drain grace. */
  drain(reason: string): void {
    if (this.draining) return;
    this.draining = true;
    const { log, supervisor, live } = this.d;
    log.info(
      `stopping (${reason}): no new sessions; ${supervisor.running} running session(s) get up to ${formatDuration(live.current.sessions.drainGraceMs)}`,
    );
    this.d.quiet();
    this.d.push({ type: 'DRAIN', reason });
    this.begin();
  }

  /** Stop running sessions now (SIGTERM, then SIGKILL after the kill grace). */
  terminate(reason: string): void {
    if (this.terminating) return;
    this.terminating = true;
    this.d.log.warn(`stopping now (${reason}): terminating ${this.d.supervisor.running} session(s)`);
    this.d.supervisor.stopAll(reason);
  }

  /**
   * Once the drain began: waits for the sessions (killed when the grace is over), closes the bus
   * (`close`), waits for the pipeline to take the last event (`pipelineDone`: its failure, if any),
   * writes the final checkpoint, and returns the summary of the sessions this run started.
   */
  async finish(run: {
    store: Store;
    host: FleetHost;
    loop: HostLoop;
    effects: EffectRunner;
    close: () => void;
    pipelineDone: Promise<unknown>;
    startedAt: number;
    now: () => number;
  }): Promise<LaneSummary[]> {
    const { supervisor, log, live } = this.d;
    await this.started;
    const grace = live.current.sessions.drainGraceMs;
    const graceTimer = setTimeout(() => {
      if (supervisor.running)
        log.warn(`drain grace of ${formatDuration(grace)} over: stopping ${supervisor.running} session(s)`);
      supervisor.stopAll('drain grace over');
    }, grace);
    await supervisor.settled();
    clearTimeout(graceTimer);
    await run.effects.settled();
    run.close();
    const failure = await run.pipelineDone;
    // An event still in the bus at the drain may have started a session: stop and wait for it too.
    supervisor.stopAll('drain');
    await supervisor.settled();
    await run.effects.settled();
    const { store } = run;
    if (!failure) {
      // The next start goes on from here, and the lane rows stay as they are (a cooldown says until
      // when) for status and plan. A run that dies before this is gone on from all the same, from the journal.
      await run.loop.finalCheckpoint();
      await store.runtimeInfo.set('stopped_at', String(run.now()));
      await store.runtimeInfo.set('run_state', 'stopped');
    }
    run.host.stop();
    if (failure) throw failure;
    // On a shared store the sessions table holds every host's: the summary is this host's.
    const mine = (await store.sessions.list({ since: run.startedAt })).filter(
      (s) => !store.shared || s.id.endsWith(`@${live.current.host}`),
    );
    return summarize(mine);
  }
}
