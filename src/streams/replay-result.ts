// What a replay answers (replay.ts), and how the answers of its pieces add up to one
// (replay-parallel.ts): in a file of its own, so the two never import each other.
import type { FleetHost } from './fleet-host.js';

export interface Divergence {
  seq: number;
  event: string;
  /** What differs: the intents, the lane states, or the machines threw. */
  what: 'intents' | 'states' | 'error';
  expected: unknown;
  got: unknown;
}

export interface ReplayResult {
  /** Events folded through the machines. */
  events: number;
  divergences: number;
  firstDivergence: Divergence | null;
  /** Every lane (slot) after the last replayed event. */
  lanes: { name: string; lane: string; state: string; path: string }[];
  /** The seq replay began at, and why there. */
  begin: { seq: number; at: 'checkpoint' | 'run' | 'first' };
  /** The last seq replayed. */
  end: number;
  /** Events journaled but never taken (the runtime stopped in between): replayed, not compared. */
  untaken: number;
  /** Events before any RUNTIME_STARTED: an older journal; not replayed. */
  skipped: number;
  /** Why replay began where it did, when that was not the obvious place. */
  notes: string[];
}

/** Where a replay begins (and the fleet it begins with), and where it ends. */
export interface ReplayStart {
  host: FleetHost | null;
  begin: ReplayResult['begin'];
  until: number;
  notes: string[];
}

/** A stretch of the journal to fold: from a seq (with the fleet as it was before it) to `until`. */
export interface Span {
  from: number;
  until: number;
  host: FleetHost | null;
  /** A checkpoint at `until` the fleet must equal at the end (a parallel replay's seam), or null. */
  checkAt: number | null;
}

export interface SpanResult {
  events: number;
  divergences: number;
  firstDivergence: Divergence | null;
  untaken: number;
  skipped: number;
  notes: string[];
  end: number;
  lanes: ReplayResult['lanes'];
  /** Whether the fleet at the end equals the checkpoint at `checkAt` (null: none asked). */
  matches: boolean | null;
}

/** The result of a replay that began at `start` and folded `span` (the pieces of one, merged). */
export function finish(start: ReplayStart, span: SpanResult): ReplayResult {
  const notes = [...start.notes, ...span.notes];
  if (span.skipped)
    notes.push(
      `${span.skipped} event(s) before the first RUNTIME_STARTED were recorded by an older lanekeeper and not replayed`,
    );
  const { matches: _matches, notes: _notes, ...rest } = span;
  return { ...rest, begin: start.begin, notes };
}
