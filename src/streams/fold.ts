// The one fold: given where to begin (a checkpoint, a run's start, or the first event) and the
// journal after it, give me the fleet. Every start (going on from the last run, after a drain or a
// crash), replay (in one piece or in pieces), the warm-up before a tick and the synthetic journal
// fold through here, so they can never disagree on what the journal means.
//
//   foldStart  where a fold to a seq begins: the latest checkpoint at or before it, written by
//              these machines and within the run that holds it; else that run's start; else the
//              first event. With `fromStart` the first event, or in a journal pruned before it
//              (retention), the checkpoint kept there)
//   fold       events through the fleet, one at a time, each with what it produced (intents and
//              the lane states it changed); a RUNTIME_STARTED begins a fresh fleet from the fleet
//              it journaled, a CONFIG_RELOADED changes the fleet the actors are configured for
//
// Nothing here does I/O but read the journal source it is given; what to do with each step
// (compare it, keep its grade, record it) is the caller's.
import type { Checkpoint } from '../ports/store.js';
import type { StampedEvent } from '../machines/events.js';
import type { FleetInput } from '../machines/fleet.js';
import { FleetHost, MACHINES_VERSION, type HostOptions, type Step } from './fleet-host.js';
import type { JournalSource } from './journal-source.js';

/** Builds each fleet (tests pass altered machines; the runtime passes its inspector). */
export type BuildHost = (opts: HostOptions) => FleetHost;
const newHost: BuildHost = (o) => new FleetHost(o);

export interface FoldStart {
  /** The fleet to begin with; null when the fold begins at a RUNTIME_STARTED (or before any). */
  host: FleetHost | null;
  /** The fleet the actors are configured for at the beginning (null with no host). */
  fleet: FleetInput | null;
  /** The seq the fold begins at, and why there. */
  begin: { seq: number; at: 'checkpoint' | 'run' | 'first' };
  /** Why it did not begin at the obvious place. */
  notes: string[];
}

/** Where a fold to `until` begins, and the fleet there. */
export async function foldStart(
  source: JournalSource,
  until: number,
  opts: { fromStart?: boolean; build?: BuildHost } = {},
): Promise<FoldStart> {
  const build = opts.build ?? newHost;
  const bounds = await source.bounds();
  const first: FoldStart = { host: null, fleet: null, begin: { seq: bounds.first, at: 'first' }, notes: [] };
  if (opts.fromStart) return bounds.first > 1 ? journalStart(source, bounds.first, build) : first;
  const run = await source.runStart(until);
  const cp = await source.checkpoint(until);
  const notes: string[] = [];
  if (cp && (run === null || cp.seq >= run)) {
    if (cp.version === MACHINES_VERSION)
      return { host: fleetAt(cp, build), fleet: cp.state.fleet, begin: { seq: cp.seq + 1, at: 'checkpoint' }, notes };
    notes.push(
      `the checkpoint at seq ${cp.seq} was written by other machines (${cp.version}; these are ${MACHINES_VERSION}), so the fold begins at the run's start`,
    );
  }
  if (run === null && bounds.first > 1)
    notes.push(`the journal starts at seq ${bounds.first} (pruned before), after the start of the run that holds it`);
  return run === null ? { ...first, notes } : { host: null, fleet: null, begin: { seq: run, at: 'run' }, notes };
}

/**
 * The earliest a fold can begin in a journal whose first seq is not 1: one pruned (it starts at the
 * checkpoint retention kept, streams/retention.ts) or an export that begins after a checkpoint. A
 * fold from its first event would find no fleet until the next RUNTIME_STARTED, so it begins at
 * that checkpoint; at the first event when that is a run's start, or when there is no checkpoint
 * these machines can resume from there (a note says why).
 */
async function journalStart(source: JournalSource, firstSeq: number, build: BuildHost): Promise<FoldStart> {
  const first: FoldStart = { host: null, fleet: null, begin: { seq: firstSeq, at: 'first' }, notes: [] };
  if ((await source.runStart(firstSeq)) === firstSeq) return first;
  const cp = await source.checkpoint(firstSeq);
  // Pruned: the checkpoint is at the first seq (its event is kept). Exported: just before it.
  if (!cp || cp.seq < firstSeq - 1) return first;
  const where =
    cp.seq === firstSeq
      ? `the journal starts at seq ${firstSeq} (pruned before)`
      : `the journal starts after the checkpoint at seq ${cp.seq}`;
  if (cp.version !== MACHINES_VERSION)
    return {
      ...first,
      notes: [
        `${where}, and that checkpoint was written by other machines (${cp.version}; these are ${MACHINES_VERSION}), so the fold begins at the first event and takes nothing before a RUNTIME_STARTED`,
      ],
    };
  return {
    host: fleetAt(cp, build),
    fleet: cp.state.fleet,
    begin: { seq: cp.seq + 1, at: 'checkpoint' },
    notes: [`${where}; the fold begins at the checkpoint at seq ${cp.seq}`],
  };
}

/** The fleet as a checkpoint holds it. */
export function fleetAt(cp: Checkpoint, build: BuildHost = newHost): FleetHost {
  return build({ ...cp.state.fleet, snapshot: cp.state.actors });
}

/** One event folded: what the fleet produced, and what was recorded of it (null: not journaled with it). */
export interface Folded extends Step {
  event: StampedEvent;
  /** The intents recorded when the runtime took it (JSON text each), and the lane states it changed; null: never taken. */
  recorded: { effects: readonly string[]; changed: Record<string, string> } | null;
}

/** A fold that could not go on: the event the machines threw at. */
export class FoldError extends Error {
  override name = 'FoldError';
  constructor(
    readonly seq: number,
    readonly type: string,
    cause: unknown,
  ) {
    super(`${type} #${seq} does not fold through these machines: ${(cause as Error)?.message ?? String(cause)}`, {
      cause,
    });
  }
}

export interface FoldEnd {
  host: FleetHost | null;
  /** The fleet the actors are configured for at the end (its start's, or the last reload's). */
  fleet: FleetInput | null;
  /** The last seq folded (`from - 1` when there was none). */
  end: number;
  /** Events before any RUNTIME_STARTED (an older lanekeeper's): not folded, counted. */
  skipped: number;
}

/**
 * A fold in progress, event by event: what `fold` does for each journal entry, for callers whose
 * events are not in a journal yet (the warm-up's throwaway tick, the synthetic journal's shell).
 */
export class Fold {
  private readonly state: FoldEnd;

  constructor(
    start: Pick<FoldStart, 'host' | 'fleet'>,
    private readonly build: BuildHost = newHost,
  ) {
    this.state = { host: start.host, fleet: start.fleet, end: 0, skipped: 0 };
  }

  /** A fold that begins with a fresh fleet. */
  static of(fleet: FleetInput, build: BuildHost = newHost): Fold {
    return new Fold({ host: build(fleet), fleet }, build);
  }

  /**
   * Folds one event: what the fleet produced, or null when there is no fleet yet to take it. A
   * RUNTIME_STARTED is not delivered: it begins a fresh fleet (its step has no intents). Throws
   * FoldError at an event the machines throw at (the fleet is stopped).
   */
  step(event: StampedEvent): Step | null {
    const f = this.state;
    f.end = event.seq;
    if (event.type === 'RUNTIME_STARTED') {
      f.host?.stop();
      f.fleet = event.fleet;
      f.host = this.build(f.fleet);
      return { intents: [], lanes: f.host.lanes(), changed: {}, from: new Map() };
    }
    if (!f.host) {
      f.skipped++;
      return null;
    }
    let step: Step;
    try {
      step = f.host.step(event);
    } catch (err) {
      f.host.stop();
      throw new FoldError(event.seq, event.type, err);
    }
    if (event.type === 'CONFIG_RELOADED') f.fleet = event.fleet;
    return step;
  }

  get result(): FoldEnd {
    return { ...this.state };
  }
}

/**
 * Folds the journal from `from` to `until` into `start`'s fleet, telling `onStep` of each event
 * folded (Fold.step). Throws FoldError at an event the machines throw at.
 */
export async function fold(
  source: JournalSource,
  span: { from: number; until: number; start: Pick<FoldStart, 'host' | 'fleet'> },
  opts: { build?: BuildHost; onStep?: (step: Folded) => void } = {},
): Promise<FoldEnd> {
  const f = new Fold(span.start, opts.build);
  let end = span.from - 1;
  for await (const entry of source.entries(span.from)) {
    const event = entry.event;
    if (event.seq > span.until) break;
    end = event.seq;
    const step = f.step(event);
    if (step)
      opts.onStep?.({
        ...step,
        event,
        recorded: entry.changed === null ? null : { effects: entry.effects, changed: entry.changed },
      });
  }
  return { ...f.result, end };
}
