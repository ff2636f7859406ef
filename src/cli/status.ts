// lanekeeper status [--state DIR] [--json] [--limit N] [--watch [--interval 2s]]
// Reads the store a running (or stopped) lanekeeper writes and prints one view of it: the text
// view (src/format/status-view.ts) or JSON. --watch redraws it every interval until Ctrl-C.
import type { ClaimRow, SessionRow, Store } from '../ports/store.js';
import { FALLBACK_WINDOW, tallyFallbacks } from '../format/decision.js';
import { renderStatusView } from '../format/status-view.js';
import type { RecordDecisionIntent } from '../machines/intents.js';
import { UsageError } from '../errors.js';
import { iso, out } from './io.js';
// HISTORY: the sessions read for liveness, and for the text view's per-lane outcomes (a lane
// quiet for longer shows none).
import { HISTORY, livenessJson, readLiveness } from './liveness.js';
import { openReaderStore } from './reader-store.js';
import { readRunState, type RunState } from '../adapters/instance/run-state.js';
import { watch } from './watch.js';

export interface StatusOptions {
  state?: string;
  config?: string;
  json?: boolean;
  limit?: number;
  watch?: boolean;
  /** Milliseconds between frames with --watch. */
  interval?: number;
}

export const DEFAULT_WATCH_INTERVAL_MS = 2000;
/** The text view fits this many columns when stdout is not a terminal. */
const PLAIN_WIDTH = 100;

export async function statusCommand(opts: StatusOptions): Promise<void> {
  if (opts.interval !== undefined && !opts.watch)
    throw new UsageError('--interval goes with --watch (how often to redraw)');
  const { store, dir, host } = await openReaderStore(opts, process.env);
  try {
    const frame = () => (opts.json ? statusJson(store, dir, opts, host) : statusText(store, dir, opts, host));
    if (!opts.watch) {
      out(await frame());
      return;
    }
    // JSON frames are one line each (one document per line); text frames get a rule between them.
    await watch(frame, {
      intervalMs: opts.interval ?? DEFAULT_WATCH_INTERVAL_MS,
      separator: opts.json ? null : '─'.repeat(PLAIN_WIDTH),
    });
  } finally {
    await store.close();
  }
}

async function statusJson(store: Store, dir: string, opts: StatusOptions, host?: string): Promise<string> {
  const lanes = await store.lanes.list();
  const run = await readRunState(store, dir, lanes, host);
  // Read once for both: the sessions shown, and the newest HISTORY that liveness judges.
  const limit = opts.limit ?? 200;
  const newest = await store.sessions.list({ limit: Math.max(limit, HISTORY) });
  const sessions = newest.slice(0, limit);
  const decisions = await recentDecisions(store, FALLBACK_WINDOW);
  const claims = await store.claims.list();
  const nextTick = await nextTickOf(store, run);
  return JSON.stringify({
    state_dir: dir,
    ...(store.shared ? { store: store.location } : {}),
    running: run.running,
    ...(run.unknown ? { running_unknown: run.unknown } : {}),
    last_stop: run.lastStop && { at: iso(run.lastStop.at), clean: run.lastStop.clean },
    lanes: lanes.map((l) => ({
      name: l.lane,
      slot: l.slot,
      lane_id: l.lane_id,
      state: l.state,
      since: iso(l.since),
      until: iso(l.deadline ?? null),
      session: l.session,
      ...(l.host ? { host: l.host } : {}),
    })),
    sessions: sessions.map(sessionJson),
    decisions: decisions.map(decisionJson),
    fallbacks: tallyFallbacks(decisions).map((t) => ({
      step: t.step,
      reason: t.reason,
      count: t.count,
      first_seq: t.firstSeq,
      last_seq: t.lastSeq,
    })),
    next_tick: iso(nextTick),
    claims: claims.map(claimJson),
    liveness: livenessJson(await readLiveness(store, Date.now(), { lanes, sessions: newest, run })),
  });
}

async function statusText(store: Store, dir: string, opts: StatusOptions, host?: string): Promise<string> {
  const limit = opts.limit ?? 8;
  const lanes = await store.lanes.list();
  const run = await readRunState(store, dir, lanes, host);
  const history = await store.sessions.list({ limit: Math.max(limit, HISTORY) });
  // The newest sessions as read, before running ones older than them are added below.
  const newest = history.slice();
  // A running session older than the history (a very long one) is looked up by its id.
  const known = new Set(history.map((s) => s.id));
  for (const l of lanes) {
    if (l.session === null || known.has(l.session)) continue;
    const s = await store.sessions.get(l.session);
    if (s) history.push(s);
  }
  const tty = process.stdout.isTTY === true && process.stdout.columns > 0;
  const now = Date.now();
  return renderStatusView({
    dir,
    ...(store.shared ? { store: store.location } : {}),
    now,
    width: tty ? process.stdout.columns : PLAIN_WIDTH,
    lanes,
    sessions: recentWithRunning(history, limit),
    history,
    claims: await store.claims.list(),
    decisions: await recentDecisions(store, FALLBACK_WINDOW),
    run,
    nextTick: await nextTickOf(store, run),
    liveness: await readLiveness(store, now, { lanes, sessions: newest, run }),
  });
}

/** The newest `limit` sessions, and every running one even when newer ones pushed it out. */
function recentWithRunning(history: readonly SessionRow[], limit: number): SessionRow[] {
  const recent = history.slice(0, limit);
  const older = history.slice(limit).filter((s) => s.ended_at === null);
  return [...recent, ...older].sort((a, b) => b.started_at - a.started_at);
}

/** Decisions recorded by an older lanekeeper have another shape; they are left out. */
async function recentDecisions(store: Store, limit: number): Promise<RecordDecisionIntent[]> {
  return (await store.decisions.list({ limit }))
    .map((d) => d.detail as RecordDecisionIntent)
    .filter((d) => (d.kind === 'tick' && 'gate' in d) || (d.kind === 'pivot' && 'denied' in d));
}

/** The timer tick the runtime planned; none when no runtime runs. */
async function nextTickOf(store: Store, run: RunState): Promise<number | null> {
  if (run.running === false) return null;
  const value = await store.runtimeInfo.get('next_tick');
  const at = value === null ? NaN : Number(value);
  return Number.isFinite(at) ? at : null;
}

function sessionJson(s: SessionRow) {
  return {
    id: s.id,
    lane: s.lane,
    arm: s.arm,
    dispatch: s.dispatch,
    parent: s.parent,
    task: s.task,
    started_at: iso(s.started_at),
    ended_at: iso(s.ended_at),
    exit_code: s.exit_code,
    outcome: s.outcome,
    grade: s.grade,
    grade_source: s.grade_source,
    reason: s.reason,
  };
}

function claimJson(c: ClaimRow) {
  return {
    key: c.key,
    slot: c.slot,
    holder: c.holder,
    token: c.epoch,
    acquired_at: iso(c.acquired_at),
    expires_at: iso(c.expires_at),
  };
}

/** A decision as `status --json` shows it: the chosen slots with score components, skips, fallbacks. */
function decisionJson(d: RecordDecisionIntent) {
  const chosen = d.chosen.map((c) => ({
    lane: c.lane,
    lane_id: c.laneId,
    task: c.task?.id ?? null,
    ...('score' in c ? { score: c.score, components: c.components } : {}),
  }));
  if (d.kind === 'pivot')
    return { seq: d.seq, kind: d.kind, tick: d.tickSeq, denied: d.denied, chosen, reason: d.reason };
  return {
    seq: d.seq,
    kind: d.kind,
    seed: d.seed,
    width: d.width,
    source: d.source,
    gate: d.gate,
    chosen,
    skipped: d.skipped,
    fallbacks: d.fallbacks,
  };
}
