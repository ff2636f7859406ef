// Whether lanekeeper runs on a state directory (or, on a shared store, as a host), and how the last
// run ended, for `status` and `stats`: the instance lock (or the host's lock) says whether a
// runtime runs now; the runtime info and the journal say how the last one stopped.
import { instanceState } from './held.js';
import type { LaneStateRow, Store } from '../../ports/store.js';

export interface RunState {
  /** Whether a runtime holds the lock now; null when that cannot be told (`unknown` says why). */
  running: boolean | null;
  unknown?: string;
  /** How the last run ended, when none runs now: drained (`clean`), or died without draining. */
  lastStop: { at: number; clean: boolean } | null;
}

export async function readRunState(
  store: Store,
  dir: string,
  lanes: readonly LaneStateRow[],
  host?: string,
): Promise<RunState> {
  const now = await runningNow(store, dir, lanes, host);
  if (now.running === true) return { running: true, lastStop: null };
  return { ...now, lastStop: await lastStop(store, lanes) };
}

async function runningNow(
  store: Store,
  dir: string,
  lanes: readonly LaneStateRow[],
  host?: string,
): Promise<Omit<RunState, 'lastStop'>> {
  if (!store.hostRunning) {
    const s = instanceState(dir);
    if (s.running === null) return { running: null, unknown: s.reason };
    // A run that could not take the lock (no `flock`) and never stopped: it may be running.
    const lockless = !s.running && (await store.runtimeInfo.get('instance_lock')) === 'none';
    if (lockless && (await store.runtimeInfo.get('run_state')) === 'running') {
      return {
        running: null,
        unknown: 'the last run went on without the instance lock (no flock), so whether it still runs cannot be told',
      };
    }
    return { running: s.running };
  }
  // A shared store: the host asked for, else any host whose lanes it holds.
  const hosts = host ? [host] : [...new Set(lanes.map((l) => l.host).filter((h): h is string => !!h))];
  for (const h of hosts) if (await store.hostRunning(h)) return { running: true };
  return { running: false };
}

async function lastStop(store: Store, lanes: readonly LaneStateRow[]): Promise<RunState['lastStop']> {
  const state = await store.runtimeInfo.get('run_state');
  if (state === 'stopped') {
    const at = Number((await store.runtimeInfo.get('stopped_at')) ?? NaN);
    return { at: Number.isFinite(at) ? at : latestSince(lanes), clean: true };
  }
  if (state === 'running') {
    // It died without a drain: the last thing it journaled is when it was last seen alive.
    const last = await store.journal.lastSeq();
    const event = last ? (await store.journal.read({ fromSeq: last, limit: 1 }))[0] : undefined;
    return { at: event?.now ?? latestSince(lanes), clean: false };
  }
  // An older lanekeeper marked every lane `stopped` at its drain.
  return lanes.length && lanes.every((l) => l.state === 'stopped') ? { at: latestSince(lanes), clean: true } : null;
}

const latestSince = (lanes: readonly LaneStateRow[]) => (lanes.length ? Math.max(...lanes.map((l) => l.since)) : 0);
