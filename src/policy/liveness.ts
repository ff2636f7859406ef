/*
 * Liveness: is the fleet stalled? Pure; `now` and everything known come in. Two rules, each only
 * while some lane is enabled:
 *
 *   no start  no session started in 90 min.
 *   no ok     no non-failed session in 60 min: sessions ended since, all of them failed or timed
 *             out, and none runs now (a running session has no verdict yet; if the runtime died
 *             under it, "no start" still fires).
 *
 * Time is measured from the later of the run's start and the last start (or the last non-failed
 * end), so a freshly started run is not stalled. A --once run does not reset the clock: a timer
 * starts one every half hour, and each would hide a stall; for those only the sessions count.
 * A stall means something only while lanekeeper runs or ran recently: one that stopped longer
 * than 90 min ago is reported as not running (status says so), not as stalled.
 */
import { formatDuration } from '../config/duration.js';
import type { Outcome } from './outcome.js';

export const NO_START_AFTER_MS = 90 * 60_000;
export const NO_OK_AFTER_MS = 60 * 60_000;
/** A lanekeeper stopped for longer than this is not running rather than stalled. */
export const STOPPED_LONG_AGO_MS = NO_START_AFTER_MS;

/** Outcomes that count as failures; everything else (productive, noop, refused, unknown) does not. */
const FAILED: ReadonlySet<Outcome> = new Set<Outcome>(['failed', 'timeout']);

export type RunMode = 'service' | 'once' | 'operator';

export interface LivenessSession {
  started_at: number;
  ended_at: number | null;
  outcome: Outcome | null;
}

export interface LivenessInput {
  now: number;
  /** Names of the lanes the last run had enabled. None: never stalled. */
  enabledLanes: readonly string[];
  /** The last run's start and mode, or null when no run recorded one. */
  run: { startedAt: number; mode: RunMode } | null;
  /** When lanekeeper stopped (every lane slot `stopped`), or null while it runs. */
  stoppedAt: number | null;
  /** Recent sessions, in any order (enough of them to find the last non-failed one). */
  sessions: readonly LivenessSession[];
}

export interface Liveness {
  stalled: boolean;
  /** One line per rule that fired, e.g. "no session started in 2h 10m (enabled lanes: code, docs)". */
  reasons: string[];
  /** The latest session start, or null. */
  lastStart: number | null;
  /** The latest end of a session that did not fail, or null. */
  lastOk: number | null;
}

export function liveness(v: LivenessInput): Liveness {
  const lastStart = latest(v.sessions.map((s) => s.started_at));
  const lastOk = latest(
    v.sessions
      .filter((s) => s.ended_at !== null && s.outcome !== null && !FAILED.has(s.outcome))
      .map((s) => s.ended_at!),
  );
  const result = (reasons: string[]): Liveness => ({ stalled: reasons.length > 0, reasons, lastStart, lastOk });
  if (!v.enabledLanes.length) return result([]);
  if (v.stoppedAt !== null && v.now - v.stoppedAt > STOPPED_LONG_AGO_MS) return result([]);
  const runStart = v.run && v.run.mode !== 'once' ? v.run.startedAt : null;
  const reasons: string[] = [];

  const startRef = latest([runStart, lastStart]);
  if (startRef !== null && v.now - startRef >= NO_START_AFTER_MS) {
    reasons.push(`no session started in ${minutes(v.now - startRef)} (enabled lanes: ${v.enabledLanes.join(', ')})`);
  }

  const okRef = latest([runStart, lastOk]);
  const failedSince = v.sessions.filter(
    (s) => s.ended_at !== null && s.outcome !== null && FAILED.has(s.outcome) && (okRef === null || s.ended_at > okRef),
  );
  const running = v.sessions.some((s) => s.ended_at === null);
  // With neither a run start nor a success to measure from, the failures themselves are the span.
  const from = okRef ?? (failedSince.length ? Math.min(...failedSince.map((s) => s.started_at)) : null);
  if (failedSince.length && !running && from !== null && v.now - from >= NO_OK_AFTER_MS) {
    const n = failedSince.length;
    reasons.push(
      `no non-failed session in ${minutes(v.now - from)} (${n} session${n === 1 ? '' : 's'} since failed or timed out)`,
    );
  }
  return result(reasons);
}

function latest(values: readonly (number | null)[]): number | null {
  let best: number | null = null;
  for (const x of values) if (x !== null && (best === null || x > best)) best = x;
  return best;
}

/** Whole minutes, so the line does not change every second: "1h 30m", "2h 10m", "26h 5m". */
function minutes(ms: number): string {
  return formatDuration(Math.floor(ms / 60_000) * 60_000);
}
