// Replay: folds a journal through fresh machines in virtual time (each event's own `now` and
// seed; the one fold, fold.ts), binds no side effects, and compares what the machines produce now
// with what was recorded when the event was first taken: the intents, in order, and the lane
// states that changed.
//
// Where it begins is the fold's: at the latest checkpoint at or before the end (if the same
// machines wrote it), else at the start of the run that holds the end, else at the first event;
// `fromStart` begins at the first event. Events before any RUNTIME_STARTED (journals of an older
// lanekeeper) cannot be replayed and are counted.
// A long journal in a store can be replayed in pieces at once (`jobs`; replay-parallel.ts), each a
// span folded here, with the same answer as one fold.
import { isDeepStrictEqual } from 'node:util';
import { JournalFileError } from '../errors.js';
import type { StampedEvent } from '../machines/events.js';
import type { Intent } from '../machines/intents.js';
import { MACHINES_VERSION, type FleetHost, type HostOptions, type LaneStatus } from './fleet-host.js';
import { fold, FoldError, foldStart, type FoldEnd, type Folded } from './fold.js';
import {
  finish,
  type Divergence,
  type ReplayResult,
  type ReplayStart,
  type Span,
  type SpanResult,
} from './replay-result.js';
import type { JournalSource } from './journal-source.js';

export type { JournalSource } from './journal-source.js';
export type { Divergence, ReplayResult, ReplayStart, Span, SpanResult } from './replay-result.js';

export interface ReplayStep {
  seq: number;
  event: StampedEvent;
  lanes: { laneId: string; lane: string; path: string }[];
  intents: Intent[];
}

export interface ReplayOptions {
  /** Stop after this seq (and report the state there). */
  until?: number;
  /** Begin at the first event, not the nearest checkpoint. */
  fromStart?: boolean;
  /** Called after each replayed event. */
  onStep?: (step: ReplayStep) => void;
  /** Builds each fleet (tests pass altered machines). */
  host?: (opts: HostOptions) => FleetHost;
  /**
   * Replay in this many pieces at once (worker threads), cut at checkpoints; each seam is proven
   * by the fleet equalling the checkpoint there. 1 or absent: one piece.
   */
  jobs?: number;
}

export async function replayJournal(source: JournalSource, opts: ReplayOptions = {}): Promise<ReplayResult> {
  try {
    const start = await beginAt(source, opts);
    if (opts.jobs && opts.jobs > 1 && !opts.onStep && !opts.host && source.origin) {
      const { cutPoints, replayInPieces } = await import('./replay-parallel.js');
      const cuts = await cutPoints(source, start, opts.jobs);
      if (cuts.length) {
        const pieces = await replayInPieces(source, start, cuts);
        if (!('why' in pieces)) return pieces;
        // Not proven equal to one fold: replay it in one piece, and say why.
        const again = await beginAt(source, opts);
        const result = finish(
          again,
          await foldSpan(source, { from: again.begin.seq, until: again.until, host: again.host, checkAt: null }, opts),
        );
        return pieces.why ? { ...result, notes: [...result.notes, pieces.why] } : result;
      }
    }
    return finish(
      start,
      await foldSpan(source, { from: start.begin.seq, until: start.until, host: start.host, checkAt: null }, opts),
    );
  } finally {
    await source.close();
  }
}

async function beginAt(source: JournalSource, opts: ReplayOptions): Promise<ReplayStart> {
  const bounds = await source.bounds();
  const until = opts.until ?? bounds.last;
  if (opts.until !== undefined && (opts.until < bounds.first || opts.until > bounds.last)) {
    throw new JournalFileError(
      source.name,
      0,
      `--until ${opts.until} is outside the journal (seq ${bounds.first}–${bounds.last})`,
    );
  }
  const { host, begin, notes } = await foldStart(source, until, { fromStart: opts.fromStart, build: opts.host });
  return { host, begin, until, notes: notes.map((n) => n.replace('the fold begins', 'replay begins')) };
}

/** Folds a span through the machines (fold.ts) and compares each event with what was recorded. */
export async function foldSpan(
  source: JournalSource,
  span: Span,
  opts: Pick<ReplayOptions, 'onStep' | 'host'> = {},
): Promise<SpanResult> {
  const notes: string[] = [];
  const result = { events: 0, divergences: 0, firstDivergence: null as Divergence | null, untaken: 0 };
  const diverge = (d: Divergence) => {
    result.divergences++;
    result.firstDivergence ??= d;
  };
  const onStep = ({ event, intents, lanes, changed, recorded }: Folded) => {
    if (event.type === 'RUNTIME_STARTED' && event.machines !== MACHINES_VERSION)
      notes.push(
        `the run at seq ${event.seq} was recorded by other machines (${event.machines}; these are ${MACHINES_VERSION})`,
      );
    result.events++;
    if (recorded === null) result.untaken++;
    else if (!sameIntents(intents, recorded.effects))
      diverge({
        seq: event.seq,
        event: event.type,
        what: 'intents',
        expected: recorded.effects.map(parse),
        got: intents,
      });
    else if (!sameChanges(changed, recorded.changed))
      diverge({ seq: event.seq, event: event.type, what: 'states', expected: recorded.changed, got: changed });
    opts.onStep?.({ seq: event.seq, event, lanes: lanes.map(stepLane), intents });
  };
  let folded: FoldEnd;
  try {
    folded = await fold(
      source,
      { from: span.from, until: span.until, start: { host: span.host, fleet: null } },
      { build: opts.host, onStep },
    );
  } catch (err) {
    if (!(err instanceof FoldError)) throw err;
    diverge({
      seq: err.seq,
      event: err.type,
      what: 'error',
      expected: 'the event taken',
      got: (err.cause as Error)?.message ?? String(err.cause),
    });
    return { ...result, skipped: 0, notes, end: err.seq, lanes: [], matches: span.checkAt === null ? null : false };
  }
  const { host, end, skipped } = folded;
  let matches: boolean | null = null;
  if (span.checkAt !== null) {
    const cp = await source.checkpoint(span.checkAt);
    // Compared as JSON, as the checkpoint was stored: key order and undefined fields aside.
    matches =
      host !== null &&
      cp !== null &&
      cp.seq === span.checkAt &&
      isDeepStrictEqual(JSON.parse(JSON.stringify(host.persist())), cp.state.actors);
  }
  const lanes = host ? host.lanes().map((l) => ({ name: l.laneId, lane: l.lane, state: l.state, path: l.path })) : [];
  host?.stop();
  return { ...result, skipped, notes, end, lanes, matches };
}

/** The intents, in order, as the journal recorded them (each as its JSON text). */
function sameIntents(intents: readonly Intent[], recorded: readonly string[]): boolean {
  if (intents.length !== recorded.length) return false;
  for (let i = 0; i < intents.length; i++) if (JSON.stringify(intents[i]) !== recorded[i]) return false;
  return true;
}

/** The same lanes changed to the same paths, in the same order: what comparing their JSON tells. */
function sameChanges(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

const stepLane = (l: LaneStatus) => ({ laneId: l.laneId, lane: l.lane, path: l.path });
const parse = (s: string): unknown => JSON.parse(s);
