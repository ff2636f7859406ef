// Several hosts, one store (PostgreSQL). Two things make them one fleet beyond the claims (which
// already keep lane concurrency and tasks fleet-wide):
//
// - Learning: each grade is folded into the store's posteriors atomically by the host that saw it
//   (effects.ts), and before each tick the selector takes the fleet's posteriors, every host's
//   grades, through a journaled SELECTOR_RESTORED, so replay sees what the tick saw.
// - Width: a tick claims the sessions it may start from `fleet:width`, a claim key with `width`
//   slots that lapse after most of a tick interval, so ticks on several hosts start at most
//   `width` sessions together per interval instead of `width` each. Slots a tick did not use are
//   given back at once.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { AcquireResult, SelectorMemory, Store } from '../ports/store.js';
import type { SelectorRestoredEvent, StampedEvent } from '../machines/events.js';
import type { Intent } from '../machines/intents.js';
import type { LiveConfig } from './live-config.js';

export const WIDTH_KEY = 'fleet:width';

/**
 * The fleet's posteriors as a SELECTOR_RESTORED event, when they differ from what this host's
 * selector holds (another host graded meanwhile); null when they agree or hold another model's.
 */
export async function fleetLearning(store: Store, mine: SelectorMemory): Promise<SelectorRestoredEvent | null> {
  const shared = await store.learning.load();
  if (!shared || shared.learning.model !== mine.learning.model) return null;
  const same =
    JSON.stringify([shared.learning.beliefs, shared.learning.clock, shared.arms, shared.graded]) ===
    JSON.stringify([mine.learning.beliefs, mine.learning.clock, mine.arms, mine.graded]);
  if (same) return null;
  // Without fairness: share deficits stay this host's own, as they are when the event is taken.
  return {
    type: 'SELECTOR_RESTORED',
    learning: shared.learning,
    ...(shared.arms ? { arms: shared.arms } : {}),
    graded: shared.graded ?? [],
  };
}

export interface TickWidth {
  granted: number;
  held: { holder: string; token: number }[];
}

/** Takes up to `width` slots of the fleet's width for one tick. */
export async function claimTickWidth(
  store: Store,
  host: string,
  tick: number,
  width: number,
  ttlMs: number,
): Promise<TickWidth> {
  const held: TickWidth['held'] = [];
  for (let i = 0; i < width; i++) {
    const holder = `tick:${host}:${tick}:${i}`;
    const r: AcquireResult = await store.claims.acquire({ key: WIDTH_KEY, holder, ttlMs, slots: width });
    if (!r.granted) break;
    held.push({ holder, token: r.token });
  }
  return { granted: held.length, held };
}

/** Gives back the slots a tick took but did not use. */
export async function releaseUnused(store: Store, width: TickWidth, used: number): Promise<void> {
  for (const { holder, token } of width.held.slice(used))
    await store.claims.release({ key: WIDTH_KEY, holder, token, result: 'unused' });
}

/** The width each pending tick of this run claimed, oldest first: given back in part once the tick is taken. */
export class TickWidths {
  private readonly pending: TickWidth[] = [];
  private count = 0;
  // Width holders name this run, so a restart within an interval never renews its predecessor's slots.
  private readonly runId = randomBytes(3).toString('hex');

  constructor(
    private readonly store: Store,
    private readonly live: LiveConfig,
    private readonly log: Logger,
  ) {}

  /** Claims this tick's share of the fleet's width; returns how many sessions it may start. */
  async claim(): Promise<number> {
    const config = this.live.current;
    const ttlMs = Math.max(1000, Math.floor(config.schedule.intervalMs * 0.9));
    const width = await claimTickWidth(this.store, `${config.host}:${this.runId}`, ++this.count, config.width, ttlMs);
    this.pending.push(width);
    return width.granted;
  }

  /** The fleet took an event: after a tick, the slots its decision did not use go back at once. */
  taken(event: StampedEvent, intents: readonly Intent[]): void {
    if (event.type !== 'TICK' || event.reason === 'operator') return;
    const width = this.pending.shift();
    if (!width) return;
    const decision = intents.find((i) => i.type === 'recordDecision');
    void releaseUnused(this.store, width, decision?.chosen.length ?? 0).catch((err: unknown) =>
      this.log.warn({ err }, 'could not give back the unused width'),
    );
  }
}
