// The lanes table that `status`, `stats` and `plan` read: one row per lane slot with its state,
// since when, its session and what it waits for. Written as the fleet changes; a row outlives the
// run (a cooldown says until when after a stop). With them, the lanes enabled now (for liveness).
import { skip } from 'rxjs';
import type { Logger } from 'pino';
import type { Store } from '../ports/store.js';
import type { LaneStatus } from '../streams/fleet-host.js';
import type { LiveConfig } from './live-config.js';

export class LaneRows {
  /** The lane slots the table holds, as "a,b,c": a reload adds and removes slots. */
  private shown = '';

  constructor(
    private readonly store: Store,
    private readonly live: LiveConfig,
    log: Logger,
  ) {
    // Liveness (status) judges the lanes enabled now: a reload the actors took is recorded.
    live.changes$.pipe(skip(1)).subscribe((config) => {
      const enabled = config.lanes.filter((l) => l.enabled).map((l) => l.name);
      void store.runtimeInfo
        .set('enabled_lanes', JSON.stringify(enabled))
        .catch((err: unknown) => log.warn({ err }, 'could not record the enabled lanes'));
    });
  }

  /**
   * At the start: every lane's row, and a lane the last run left in the same state has been in
   * it since then (a cooldown goes on).
   */
  async restore(lanes: readonly LaneStatus[], startedAt: number): Promise<void> {
    const host = this.live.current.host;
    const rows = new Map(
      (await this.store.lanes.list()).filter((r) => !this.store.shared || r.host === host).map((r) => [r.lane_id, r]),
    );
    for (const l of lanes) {
      const row = rows.get(l.laneId);
      await this.save(l, row?.state === l.state ? row.since : startedAt);
    }
    this.shown = lanes.map((l) => l.laneId).join(',');
  }

  /** After an event: the rows of the lanes it changed; a reload's new lanes at once, and the ones it removed once gone. */
  async update(lanes: readonly LaneStatus[], changed: Readonly<Record<string, unknown>>, now: number): Promise<void> {
    for (const l of lanes) if (l.laneId in changed) await this.save(l, now);
    const ids = lanes.map((l) => l.laneId).join(',');
    if (ids === this.shown) return;
    this.shown = ids;
    await this.store.lanes.retain(lanes.map((l) => l.laneId));
    for (const l of lanes) await this.save(l, now);
  }

  private save(l: LaneStatus, since: number): Promise<void> {
    return this.store.lanes.set({
      lane_id: l.laneId,
      lane: l.lane,
      slot: l.slot,
      state: l.state,
      since,
      session: activeSession(l),
      target_share: this.live.current.lanes.find((c) => c.name === l.lane)?.targetShare ?? null,
      deadline: deadlineOf(l),
    });
  }
}

/** What a cooling down or waiting lane waits for, or null. */
export function deadlineOf(l: LaneStatus): number | null {
  return l.state === 'cooldown' || l.state === 'waiting' ? l.context.deadline : null;
}

function activeSession(l: LaneStatus): string | null {
  return l.state === 'claiming' || l.state === 'running' ? l.context.sessionId : null;
}
