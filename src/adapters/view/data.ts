// What the local view shows live, read from the store (a state directory's, or PostgreSQL): lanes and their states,
// running sessions, the latest journal events, recent decisions with their score components and
// their fallbacks (each distinct one once, with a count), what the selector learned, and the
// claims held. Read-only use: the store is opened with `mustExist` (no new database is made), and
// nothing here writes. One snapshot is a handful of indexed reads, cheap enough for a page that
// polls every second.
import { readRunState } from '../instance/run-state.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../../ports/store.js';
import {
  decisionLine,
  FALLBACK_WINDOW,
  fallbackSteps,
  tallyFallbacks,
  type FallbackTally,
} from '../../format/decision.js';
import { eventSummary } from '../../format/event.js';
import type { RecordDecisionIntent } from '../../machines/intents.js';
import { posteriorView, type PosteriorView } from './posteriors.js';

export interface LiveView {
  /** The server's clock when the snapshot was read (the page computes elapsed times from it). */
  now: number;
  stateDir: string;
  /** Whether a lanekeeper runs on this state directory (its instance lock is held), as `status` tells. */
  running: boolean;
  /** How the last run ended, when none runs: drained (`clean`) or died without draining. */
  lastStop: { at: number; clean: boolean } | null;
  lanes: { laneId: string; lane: string; slot: number; state: string; since: number; session: string | null }[];
  sessions: {
    id: string;
    lane: string;
    laneId: string;
    arm: string;
    dispatch: string;
    task: string | null;
    pid: number | null;
    startedAt: number;
  }[];
  events: { seq: number; at: number; type: string; summary: string }[];
  decisions: ViewDecision[];
  /** Each distinct fallback of the last FALLBACK_WINDOW decisions once, with how many recorded it; the latest first. */
  fallbacks: FallbackTally[];
  posteriors: PosteriorView | null;
  claims: { key: string; slot: number; holder: string; epoch: number; acquiredAt: number; expiresAt: number }[];
}

export interface ViewDecision {
  seq: number;
  kind: 'tick' | 'pivot';
  line: string;
  chosen: { laneId: string; task: string | null; score: number | null; components: Record<string, unknown> | null }[];
  skipped: { laneId: string; reason: string }[];
}

export interface ViewData {
  readonly stateDir: string;
  live(opts?: { events?: number; decisions?: number }): Promise<LiveView>;
  close(): Promise<void>;
}

/** `url`: the PostgreSQL store, or null for the SQLite file in stateDir. */
export async function openViewData(stateDir: string, url: string | null = null, host?: string): Promise<ViewData> {
  const store = await openStore({ stateDir, url, host, mustExist: true });
  return {
    stateDir,
    live: (opts = {}) => readLive(store, stateDir, opts.events ?? 60, opts.decisions ?? 8, host),
    close: () => store.close(),
  };
}

async function readLive(
  store: Store,
  stateDir: string,
  eventCount: number,
  decisionCount: number,
  host?: string,
): Promise<LiveView> {
  const now = Date.now();
  const lanes = await store.lanes.list();
  const run = await readRunState(store, stateDir, lanes, host);
  // Sessions still open; a few hundred recent rows cover any fleet's running ones.
  const sessions = (await store.sessions.list({ limit: 300 })).filter((s) => s.ended_at === null);
  const last = await store.journal.lastSeq();
  const events = await store.journal.read({ fromSeq: Math.max(1, last - eventCount + 1), limit: eventCount });
  const recent = (await store.decisions.list({ limit: Math.max(decisionCount, FALLBACK_WINDOW) }))
    .map((d) => d.detail as RecordDecisionIntent)
    .filter(isCurrentShape);
  const claims = await store.claims.list();
  return {
    now,
    stateDir,
    running: run.running !== false,
    lastStop: run.lastStop,
    lanes: lanes.map((l) => ({
      laneId: l.lane_id,
      lane: l.lane,
      slot: l.slot,
      state: l.state,
      since: l.since,
      session: l.session,
    })),
    sessions: sessions.map((s) => ({
      id: s.id,
      lane: s.lane,
      laneId: s.lane_id,
      arm: s.arm,
      dispatch: s.dispatch,
      task: s.task,
      pid: s.pid,
      startedAt: s.started_at,
    })),
    events: events.reverse().map((e) => ({ seq: e.seq, at: e.now, type: e.type, summary: eventSummary(e) })),
    decisions: recent.slice(0, decisionCount).map(viewDecision),
    fallbacks: tallyFallbacks(recent.slice(0, FALLBACK_WINDOW)),
    posteriors: posteriorView(await store.learning.load()),
    claims: claims.map((c) => ({
      key: c.key,
      slot: c.slot,
      holder: c.holder,
      epoch: c.epoch,
      acquiredAt: c.acquired_at,
      expiresAt: c.expires_at,
    })),
  };
}

/** Decisions recorded by an older lanekeeper have another shape; they are left out (as `status` does). */
function isCurrentShape(d: RecordDecisionIntent): boolean {
  return (d.kind === 'tick' && 'gate' in d) || (d.kind === 'pivot' && 'denied' in d);
}

function viewDecision(d: RecordDecisionIntent): ViewDecision {
  return {
    seq: d.seq,
    kind: d.kind,
    line: decisionLine(d, { fallbacks: fallbackSteps }),
    chosen: d.chosen.map((c) => ({
      laneId: c.laneId,
      task: c.task?.id ?? null,
      score: 'score' in c ? c.score : null,
      components: 'components' in c ? { ...c.components } : null,
    })),
    skipped: d.kind === 'tick' ? d.skipped : [],
  };
}
