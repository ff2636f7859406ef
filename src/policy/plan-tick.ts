// Which lane slots get the free places on a tick, and why. Pure: the lanes' states, what the
// selector has learned, the tick's seed and the figures the shell gathered for the tick come in;
// the decision (with every score component and every skip reason) goes out.
//
// Steps, in order:
//  1. The resource gate may skip the tick or narrow its width.
//  2. Masking: slots that cannot run (disabled, busy, lane slot held elsewhere, or sitting out a
//     tick of no-op backoff) are skipped with their reason before anything is drawn, and a masked
//     lane's posterior is not touched.
//  3. Scores: one Thompson draw per available lane (from a stream derived from the tick seed and
//     the lane name, so masking one lane never changes another's draw), plus the deficit of its
//     target share, the plateau components and the external signal.
//  4. Order: with task files, lanes with active tasks come first, then lanes with ready tasks by
//     priority, then lane-level work (the CASCADE tiers); the score orders lanes within a tier.
//     An external selector's valid payload replaces this order, step by recorded step; when the
//     allowlist stands in for it, that is a recorded step too.
//  5. Fill: one slot per lane first (the top N distinct lanes with a positive score), then further
//     idle slots of the chosen lanes while width is left, under the parallel rules. Each
//     task-backed slot gets the next task of its lane. Under an external order, its lanes (all
//     their slots) go first; the width they leave goes to the other lanes in the built-in order
//     (`fill: builtin`, each such slot a recorded `fill` fallback), or stays empty (`fill: none`).
import { draw, summary } from './learning.js';
import { deriveSeed, rngFromSeed } from './prng.js';
import { fairnessComponents } from './fairness.js';
import { skipDispatch } from './noop-backoff.js';
import { resourceGate } from './resource-gate.js';
import { laneKey, laneWork, taskKey, type LaneWork } from './task-tiers.js';
import { orderLanes } from './plan-order.js';
import { fillSlots } from './plan-fill.js';
import type { Components, Decision, LaneScore, LaneView, PlanInput, SlotTask, TickInputs } from './plan-types.js';

// The shapes live in plan-types.ts and the pivot after a denial in plan-pivot.ts; callers keep
// importing them from here, the planner's one entry.
export type {
  ChosenSlot,
  Components,
  Decision,
  ExternalVerdict,
  LaneScore,
  LaneView,
  PlanInput,
  PlanSettings,
  SlotTask,
  TickInputs,
} from './plan-types.js';
export { isActive } from './plan-types.js';
export { pivotTarget } from './plan-pivot.js';

const round = (x: number) => Number(x.toFixed(6));

export function planTick(p: PlanInput): Decision {
  const inputs = p.inputs;
  const gate = resourceGate(inputs.resources ?? null, p.settings.gate, Math.min(p.width, inputs.maxWidth ?? p.width));
  const fallbacks: Decision['fallbacks'] = [];
  const skipped: Decision['skipped'] = [];
  const blocked = new Set(inputs.blocked ?? []);

  if (gate.action === 'skip') {
    for (const v of p.view) skipped.push({ laneId: v.laneId, reason: `resource gate: ${gate.reason}` });
    return { width: gate.width, gate, source: 'builtin', fallbacks, chosen: [], ranked: [], skipped, spare: {} };
  }

  // 2. Masking.
  const idleSlots = maskSlots(p, blocked, skipped);
  const available = [...idleSlots.keys()].sort();

  // Work supply per lane (task files).
  const work = new Map(available.map((lane) => [lane, p.tasks ? laneWork(p.tasks, lane, blocked) : null]));
  const spare: Record<string, SlotTask[]> = {};
  for (const [lane, w] of work) {
    spare[lane] = (w?.candidates ?? []).map((c) => ({
      id: c.task.id,
      key: taskKey(c.task.id),
      path: c.task.path,
      tier: c.tier,
    }));
  }

  // 3. Scores.
  const scores = scoreLanes(p, available, work, signalValues(inputs.signals, fallbacks));

  // 4. Order.
  const lanes = orderLanes(p, scores, available, blocked, spare, fallbacks);

  // 5. Fill.
  const chosen = fillSlots({ view: p.view, idleSlots, scores, spare, width: gate.width, skipped, fallbacks }, lanes);
  const ranked = [...lanes.order, ...lanes.fill];
  // Lanes the external order left out (with `fill: none`) were not considered at all; say so.
  for (const lane of available) {
    if (!ranked.some((s) => s.lane === lane))
      for (const v of idleSlots.get(lane)!)
        skipped.push({ laneId: v.laneId, reason: 'not named by the external selector' });
  }
  return { width: gate.width, gate, source: lanes.source, fallbacks, chosen, ranked, skipped, spare };
}

/**
 * Step 2: the idle slots of each lane that may run, every other slot skipped with its reason. A
 * lane whose last sessions were noops sits out a seeded share of its ticks.
 */
function maskSlots(p: PlanInput, blocked: ReadonlySet<string>, skipped: Decision['skipped']): Map<string, LaneView[]> {
  const backoffs = new Map<string, string | null>();
  const backoff = (lane: string): string | null => {
    if (!backoffs.has(lane)) {
      const n = p.fairness.noops?.[lane] ?? 0;
      const d = skipDispatch(n, p.seed, lane);
      backoffs.set(
        lane,
        d.skip ? `noop backoff: ${n} noop sessions in a row, ${d.rate * 100}% of its ticks skipped` : null,
      );
    }
    return backoffs.get(lane)!;
  };
  const idleSlots = new Map<string, LaneView[]>();
  for (const v of p.view) {
    if (!v.enabled) skipped.push({ laneId: v.laneId, reason: 'disabled' });
    else if (v.state !== 'idle') skipped.push({ laneId: v.laneId, reason: v.state });
    else if (blocked.has(laneKey(v.lane)))
      skipped.push({ laneId: v.laneId, reason: `claim_blocked: ${laneKey(v.lane)} is held elsewhere` });
    else if (backoff(v.lane)) skipped.push({ laneId: v.laneId, reason: backoff(v.lane)! });
    else idleSlots.set(v.lane, [...(idleSlots.get(v.lane) ?? []), v]);
  }
  return idleSlots;
}

/**
 * Step 3: each available lane's score, one Thompson draw (from a stream derived from the tick
 * seed and the lane name, so masking one lane never changes another's draw) plus the deficit of
 * its target share, the plateau components and the external signal.
 */
function scoreLanes(
  p: PlanInput,
  available: readonly string[],
  work: ReadonlyMap<string, LaneWork | null>,
  signals: Record<string, number>,
): Map<string, LaneScore> {
  const fair = fairnessComponents(p.fairness, available, p.now, p.settings.fairness);
  const scores = new Map<string, LaneScore>();
  for (const lane of available) {
    const rng = rngFromSeed(deriveSeed(p.seed, `lane:${lane}`));
    const sample = draw(p.learning, lane, rng);
    const { mean, weight } = summary(p.learning, lane);
    const f = fair[lane]!;
    const signal = p.settings.signalWeight * Math.max(-1, Math.min(1, signals[lane] ?? 0));
    const w = work.get(lane);
    const components: Components = {
      sample: round(sample),
      mean: round(mean),
      evidence: round(weight),
      deficit: f.deficit,
      monotony: f.monotony,
      neglect: f.neglect,
      plateau: f.plateau,
      streak: f.streak,
      windowShare: f.share,
      signal: round(signal),
      tier: w ? w.tier : 3,
      priority: w && w.tier === 2 ? w.candidates[0]!.task.priority : null,
      claimBlocked: (w?.blocked ?? []).map((b) => b.task.id),
    };
    scores.set(lane, {
      lane,
      score: round(sample + f.deficit + f.monotony + f.neglect + signal),
      tiebreak: rng(),
      components,
    });
  }
  return scores;
}

function signalValues(signals: TickInputs['signals'], fallbacks: Decision['fallbacks']): Record<string, number> {
  if (!signals) return {};
  if ('error' in signals) {
    fallbacks.push({ step: 'signals', reason: `external signals ignored this tick: ${signals.error}` });
    return {};
  }
  return signals.values;
}
