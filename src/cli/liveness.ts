// Liveness for `status` and `stats`: what `lanekeeper run` records about itself when it starts
// (its start time, mode and enabled lanes, in the store's runtime_info), and the reading of it
// with the lane rows and the recent sessions that policy/liveness.ts judges.
import type { LaneStateRow, SessionRow, Store } from '../ports/store.js';
import type { LaneConfig } from '../config/types.js';
import { liveness, type Liveness, type RunMode } from '../policy/liveness.js';
import { iso } from './io.js';
import type { RunState } from '../adapters/instance/run-state.js';

/** Sessions read to find the last start and the last non-failed one. */
export const HISTORY = 300;
const MODES: readonly RunMode[] = ['service', 'once', 'operator'];

/** Called by `lanekeeper run` once it holds the state directory, before the runtime starts. */
export async function recordRunStart(
  store: Store,
  config: { lanes: readonly Pick<LaneConfig, 'name' | 'enabled'>[] },
  mode: RunMode,
  now = Date.now(),
): Promise<void> {
  await store.runtimeInfo.set('started_at', String(now));
  await store.runtimeInfo.set('run_mode', mode);
  await store.runtimeInfo.set(
    'enabled_lanes',
    JSON.stringify(config.lanes.filter((l) => l.enabled).map((l) => l.name)),
  );
}

/**
 * `read`: rows the caller has already read (the lane rows; the newest sessions, at least HISTORY
 * of them when there are that many), so a status frame reads each once.
 */
export async function readLiveness(
  store: Store,
  now: number,
  read: { lanes?: LaneStateRow[]; sessions?: SessionRow[]; run?: RunState } = {},
): Promise<Liveness> {
  const lanes = read.lanes ?? (await store.lanes.list());
  const startedAt = Number((await store.runtimeInfo.get('started_at')) ?? NaN);
  const mode = (await store.runtimeInfo.get('run_mode')) as RunMode | null;
  return liveness({
    now,
    // A store written before runs recorded their lanes: every lane it has rows for.
    enabledLanes: parseLanes(await store.runtimeInfo.get('enabled_lanes')) ?? [...new Set(lanes.map((l) => l.lane))],
    run: Number.isFinite(startedAt) ? { startedAt, mode: mode && MODES.includes(mode) ? mode : 'service' } : null,
    stoppedAt: read.run?.running === false && read.run.lastStop ? read.run.lastStop.at : null,
    sessions: read.sessions?.slice(0, HISTORY) ?? (await store.sessions.list({ limit: HISTORY })),
  });
}

/** The `liveness` object of `status --json` and `stats --json`. */
export function livenessJson(l: Liveness) {
  return { stalled: l.stalled, reasons: l.reasons, last_start: iso(l.lastStart), last_ok: iso(l.lastOk) };
}

function parseLanes(value: string | null): string[] | null {
  if (value === null) return null;
  try {
    const lanes = JSON.parse(value) as unknown;
    return Array.isArray(lanes) && lanes.every((l) => typeof l === 'string') ? lanes : null;
  } catch {
    return null;
  }
}
