// What the runtime tells whoever watches it (metrics, live views) of each event it took: an
// interface below the adapters, so an adapter implements it without importing the runtime.
import type { StampedEvent } from '../machines/events.js';
import type { Intent } from '../machines/intents.js';
import type { LaneStatus } from '../machines/types.js';

/** Sees each journaled event with the intents it produced and the lanes after it. */
export interface RuntimeObserver {
  event(event: StampedEvent, intents: readonly Intent[], lanes: readonly LaneStatus[]): void;
}
