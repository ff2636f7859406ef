// Which lane slots get the free places on a tick. Pure: the view of the lanes and the seed come in,
// the decision goes out. The ranking sits behind one function (rankLanes) so the learning
// selector can replace it without touching the rules around it.
import { rngFromSeed, type Rng } from './prng.js';

export interface LaneView {
  laneId: string;
  lane: string;
  /** The lane machine's top-level state: idle, claiming, running, cooldown, respawn, waiting. */
  state: string;
  enabled: boolean;
  /** May run beside other lanes. */
  parallel: boolean;
}

export interface RankedLane {
  laneId: string;
  lane: string;
  score: number;
  state: string;
}

export interface TickPlan {
  chosen: string[];
  ranked: RankedLane[];
  skipped: { laneId: string; reason: string }[];
}

/** Placeholder ranking: a seeded random order. Issue #4 puts the learning selector here. */
export function rankLanes(candidates: readonly LaneView[], rng: Rng): RankedLane[] {
  return candidates
    .map((c) => ({ laneId: c.laneId, lane: c.lane, state: c.state, score: Number(rng().toFixed(6)) }))
    .sort((a, b) => b.score - a.score || a.laneId.localeCompare(b.laneId));
}

const ACTIVE = new Set(['claiming', 'running', 'respawn']);

export function planTick(view: readonly LaneView[], seed: number, width: number): TickPlan {
  const skipped: TickPlan['skipped'] = [];
  const candidates: LaneView[] = [];
  for (const v of view) {
    if (!v.enabled) skipped.push({ laneId: v.laneId, reason: 'disabled' });
    else if (v.state !== 'idle') skipped.push({ laneId: v.laneId, reason: v.state });
    else candidates.push(v);
  }
  const ranked = rankLanes(candidates, rngFromSeed(seed));
  const activeLanes = view.filter((v) => ACTIVE.has(v.state));
  const exclusiveRunning = activeLanes.some((v) => !v.parallel);
  let othersActive = activeLanes.length > 0;
  const chosen: string[] = [];
  for (const r of ranked) {
    const v = candidates.find((c) => c.laneId === r.laneId)!;
    if (chosen.length >= width) skipped.push({ laneId: r.laneId, reason: 'width reached' });
    else if (exclusiveRunning) skipped.push({ laneId: r.laneId, reason: 'a lane that runs alone is running' });
    else if (!v.parallel && othersActive) skipped.push({ laneId: r.laneId, reason: 'runs alone; others are running' });
    else {
      chosen.push(r.laneId);
      othersActive = true;
      if (!v.parallel) {
        // A lane that runs alone takes the whole tick.
        for (const rest of ranked.slice(ranked.indexOf(r) + 1)) skipped.push({ laneId: rest.laneId, reason: 'a lane that runs alone was chosen' });
        break;
      }
    }
  }
  return { chosen, ranked, skipped };
}

/**
 * The lane a denied slot pivots to: the next lane of the same tick's ranking that is idle, was not
 * denied this tick, and may run beside what is running now.
 */
export function pivotTarget(view: readonly LaneView[], ranked: readonly string[], denied: readonly string[]): string | null {
  const byId = new Map(view.map((v) => [v.laneId, v]));
  const active = view.filter((v) => ACTIVE.has(v.state));
  if (active.some((v) => !v.parallel)) return null;
  for (const id of ranked) {
    const v = byId.get(id);
    if (!v || denied.includes(id) || v.state !== 'idle' || !v.enabled) continue;
    if (!v.parallel && active.length > 0) continue;
    return id;
  }
  return null;
}
