// "Replay made visible": the local view folds a journal through fresh machines once (streams/
// replay.ts, from the first event) and keeps, for each event, what the page steps through: the
// event, the intents it produced, and every lane's state path after it. The page asks for them a
// page at a time. A step whose lanes did not change shares the previous step's lane list, so a
// long journal costs about one small record per event.
import { eventSummary, intentSummary } from '../../format/event.js';
import { replayJournal, type JournalSource, type ReplayStep } from '../../streams/replay.js';

export interface ViewStep {
  /** Position in the steps (0-based); the page's slider moves over it. */
  index: number;
  seq: number;
  at: number;
  type: string;
  summary: string;
  lanes: readonly { laneId: string; lane: string; path: string }[];
  intents: string[];
}

export interface JournalInfo {
  /** The state directory or journal file replayed. */
  name: string;
  total: number;
  /** Lane ids seen in any step, in order of first appearance. */
  lanes: string[];
  divergences: number;
  firstDivergence: { seq: number; event: string; what: string } | null;
  /** Events journaled before any RUNTIME_STARTED (an older lanekeeper): not replayed, so not steps. */
  skipped: number;
  notes: string[];
}

export interface JournalSteps {
  /** Replays the journal on first use, or again with `reload`. */
  info(opts?: { reload?: boolean }): Promise<JournalInfo>;
  page(from: number, limit: number): Promise<{ total: number; from: number; steps: ViewStep[] }>;
}

interface Replayed {
  info: JournalInfo;
  steps: ViewStep[];
}

/** `open` gives a fresh source for each replay (replay closes it when done). */
export function journalSteps(open: () => Promise<JournalSource>): JournalSteps {
  let replayed: Promise<Replayed> | null = null;
  const load = (reload = false) => {
    if (!replayed || reload) {
      const next = replay(open);
      // A failed replay is not kept: the next request tries again (the file may have been fixed).
      next.catch(() => {
        if (replayed === next) replayed = null;
      });
      replayed = next;
    }
    return replayed;
  };
  return {
    info: async (opts = {}) => (await load(opts.reload)).info,
    async page(from, limit) {
      const { steps } = await load();
      return { total: steps.length, from, steps: steps.slice(from, from + limit) };
    },
  };
}

async function replay(open: () => Promise<JournalSource>): Promise<Replayed> {
  const source = await open();
  const name = source.name;
  const steps: ViewStep[] = [];
  const laneIds = new Set<string>();
  let previous: ViewStep['lanes'] = [];
  const onStep = (s: ReplayStep) => {
    const same =
      s.lanes.length === previous.length &&
      s.lanes.every((l, i) => l.laneId === previous[i]!.laneId && l.path === previous[i]!.path);
    if (!same) {
      previous = s.lanes.map((l) => ({ laneId: l.laneId, lane: l.lane, path: l.path }));
      for (const l of previous) laneIds.add(l.laneId);
    }
    steps.push({
      index: steps.length,
      seq: s.seq,
      at: s.event.now,
      type: s.event.type,
      summary: eventSummary(s.event),
      lanes: previous,
      intents: s.intents.map(intentSummary),
    });
  };
  const result = await replayJournal(source, { fromStart: true, onStep });
  const first = result.firstDivergence;
  return {
    info: {
      name,
      total: steps.length,
      lanes: [...laneIds],
      divergences: result.divergences,
      firstDivergence: first ? { seq: first.seq, event: first.event, what: first.what } : null,
      skipped: result.skipped,
      notes: result.notes,
    },
    steps,
  };
}
