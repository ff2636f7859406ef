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
import { draw, summary, type Learning } from './learning.js';
import { deriveSeed, rngFromSeed } from './prng.js';
import { fairnessComponents, type Fairness, type FairnessSettings } from './fairness.js';
import { skipDispatch } from './noop-backoff.js';
import { resourceGate, type GateResult, type GateThresholds, type ResourceReading } from './resource-gate.js';
import { laneKey, laneWork, taskKey } from './task-tiers.js';
import type { Task } from './task.js';

export interface LaneView {
  laneId: string;
  lane: string;
  /** The lane machine's top-level state: idle, claiming, running, cooldown, respawn, waiting. */
  state: string;
  enabled: boolean;
  /** May run beside other lanes. */
  parallel: boolean;
}

/** What an external selector's payload said, once validated (policy/selector-contract.ts). */
export type ExternalVerdict =
  | {
      ok: true;
      order: { lane: string; step: string; reason: string }[];
      task: { id: string; lane: string; claim: string } | null;
      /** Entries of the payload that named no configured lane. */
      ignored?: { value: string; step: string; reason: string }[];
    }
  | { ok: false; reason: string };

/** Figures the shell gathered for this tick; journaled with it so a replay decides the same. */
export interface TickInputs {
  resources?: ResourceReading | null;
  /** External per-lane signals (e.g. lesson effectiveness), or why they could not be read. */
  signals?: { values: Record<string, number> } | { error: string } | null;
  /** Claim keys held elsewhere at the tick (lane slots all taken, tasks claimed). */
  blocked?: string[];
  external?: ExternalVerdict | null;
  /** At most this many slots this tick (operator mode: the sessions it has left to start). */
  maxWidth?: number;
}

export interface PlanSettings {
  fairness: FairnessSettings;
  signalWeight: number;
  gate: GateThresholds;
  /** Lanes taken, in order, when an external payload named no lane that can run. */
  allowlist: readonly string[];
  /**
   * What takes the width an external order leaves: the other lanes in the built-in order, or
   * nothing. Absent only in fleets journaled before the setting existed, which kept to the
   * external order; so they replay as they ran.
   */
  fill?: 'builtin' | 'none';
}

export interface SlotTask {
  id: string;
  key: string;
  path: string | null;
  tier: 1 | 2 | null;
}

export interface Components {
  sample: number;
  mean: number;
  evidence: number;
  deficit: number;
  monotony: number;
  neglect: number;
  /** Plateau rules that fire for the lane ('monotony', 'neglected'), surfaced even at weight 0. */
  plateau: string[];
  /** Sessions in a row the lane took last, and its share of the plateau window. */
  streak: number;
  windowShare: number;
  signal: number;
  tier: number;
  priority: number | null;
  /** The lane's tasks passed over because their claim is held or completed (claim_blocked). */
  claimBlocked: string[];
}

export interface LaneScore {
  lane: string;
  score: number;
  /** A seeded draw that breaks ties (lanes with no evidence all sample 1). */
  tiebreak: number;
  components: Components;
}

export interface ChosenSlot {
  laneId: string;
  lane: string;
  task: SlotTask | null;
  score: number;
  components: Components;
}

export interface Decision {
  /** The width after the resource gate. */
  width: number;
  gate: GateResult;
  source: 'builtin' | 'external';
  /** Each step away from the preferred source of order, with its reason. */
  fallbacks: { step: string; reason: string }[];
  chosen: ChosenSlot[];
  /** Available lanes in the order they were considered. */
  ranked: LaneScore[];
  skipped: { laneId: string; reason: string }[];
  /** Per lane, the task candidates left after this tick's assignments (for pivots). */
  spare: Record<string, SlotTask[]>;
}

export interface PlanInput {
  view: readonly LaneView[];
  width: number;
  seed: number;
  now: number;
  learning: Learning;
  fairness: Fairness;
  settings: PlanSettings;
  /** null when no task directory is configured. */
  tasks: readonly Task[] | null;
  inputs: TickInputs;
}

const ACTIVE = new Set(['claiming', 'running', 'respawn']);
/** A lane slot that holds (or is getting) a session: it takes up width. */
export const isActive = (state: string): boolean => ACTIVE.has(state);
const round = (x: number) => Number(x.toFixed(6));

export function planTick(p: PlanInput): Decision {
  const inputs = p.inputs;
  const gate = resourceGate(inputs.resources ?? null, p.settings.gate, Math.min(p.width, inputs.maxWidth ?? p.width));
  const fallbacks: Decision['fallbacks'] = [];
  const skipped: Decision['skipped'] = [];
  const blocked = new Set(inputs.blocked ?? []);
  const empty = (): Decision => ({
    width: gate.width,
    gate,
    source: 'builtin',
    fallbacks,
    chosen: [],
    ranked: [],
    skipped,
    spare: {},
  });

  if (gate.action === 'skip') {
    for (const v of p.view) skipped.push({ laneId: v.laneId, reason: `resource gate: ${gate.reason}` });
    return empty();
  }

  // 2. Masking. A lane whose last sessions were noops sits out a seeded share of its ticks.
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
  const signals = signalValues(inputs.signals, fallbacks);
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

  // 4. Order.
  const builtin = [...scores.values()].sort(
    (a, b) =>
      a.components.tier - b.components.tier ||
      (b.components.priority ?? 0) - (a.components.priority ?? 0) ||
      b.score - a.score ||
      b.tiebreak - a.tiebreak,
  );
  let order = builtin;
  /** The lanes that fill the width the external order leaves, in the built-in order. */
  let fill: LaneScore[] = [];
  let source: Decision['source'] = 'builtin';
  const external = inputs.external ?? null;
  if (external && !external.ok) {
    fallbacks.push({ step: 'builtin', reason: `selector.contract_violation: ${external.reason}` });
  } else if (external?.ok) {
    source = 'external';
    order = externalOrder(external, scores, available, p.settings.allowlist, fallbacks);
    if (p.settings.fill === 'builtin') fill = builtin.filter((s) => !order.includes(s));
    const t = external.task;
    if (t && blocked.has(t.claim))
      fallbacks.push({
        step: 'selected',
        reason: `claim_blocked: ${t.claim} is held elsewhere; the lane takes its next task or lane-level work`,
      });
    else if (t && scores.has(t.lane)) {
      spare[t.lane] = [
        { id: t.id, key: t.claim, path: p.tasks?.find((x) => x.id === t.id)?.path ?? null, tier: null },
        ...spare[t.lane]!.filter((s) => s.key !== t.claim),
      ];
    }
  }

  // 5. Fill.
  const chosen: ChosenSlot[] = [];
  const active = p.view.filter((v) => isActive(v.state));
  const exclusiveRunning = active.some((v) => !v.parallel);
  let othersActive = active.length > 0;
  let alone = false;
  const take = (s: LaneScore, slot: LaneView) => {
    const task = spare[s.lane]!.shift() ?? null;
    chosen.push({ laneId: slot.laneId, lane: s.lane, task, score: s.score, components: s.components });
  };
  /** One slot per lane of `lanes`, then their further slots; `positiveOnly`: a lane scoring ≤ 0 is not taken. */
  const place = (lanes: readonly LaneScore[], positiveOnly: boolean, onTake: (slot: LaneView) => void = () => {}) => {
    const extra: LaneView[] = [];
    for (const s of lanes) {
      const [first, ...rest] = idleSlots.get(s.lane)!;
      const why = alone
        ? 'a lane that runs alone was chosen'
        : positiveOnly && s.score <= 0
          ? `score ${s.score} ≤ 0 (only lanes worth running are taken)`
          : chosen.length >= gate.width
            ? 'width reached'
            : exclusiveRunning
              ? 'a lane that runs alone is running'
              : !first!.parallel && othersActive
                ? 'runs alone; others are running'
                : null;
      if (why) {
        for (const v of idleSlots.get(s.lane)!) skipped.push({ laneId: v.laneId, reason: why });
        continue;
      }
      take(s, first!);
      onTake(first!);
      othersActive = true;
      if (!first!.parallel) alone = true;
      extra.push(...rest);
    }
    for (const slot of extra) {
      if (chosen.length < gate.width && !alone) {
        take(scores.get(slot.lane)!, slot);
        onTake(slot);
      } else
        skipped.push({ laneId: slot.laneId, reason: alone ? 'a lane that runs alone was chosen' : 'width reached' });
    }
  };
  place(order, source === 'builtin');
  // The width an external order left, from the built-in order of the lanes it did not name.
  const ordered = chosen.length;
  place(fill, true, (slot) =>
    fallbacks.push({
      step: 'fill',
      reason: `${slot.laneId}: next in the built-in ranking; the selector's lanes took ${ordered} of ${gate.width} slots (selector.fill: builtin)`,
    }),
  );
  const ranked = [...order, ...fill];
  // Lanes the external order left out (with `fill: none`) were not considered at all; say so.
  for (const lane of available) {
    if (!ranked.some((s) => s.lane === lane))
      for (const v of idleSlots.get(lane)!)
        skipped.push({ laneId: v.laneId, reason: 'not named by the external selector' });
  }
  return { width: gate.width, gate, source, fallbacks, chosen, ranked, skipped, spare };
}

function signalValues(signals: TickInputs['signals'], fallbacks: Decision['fallbacks']): Record<string, number> {
  if (!signals) return {};
  if ('error' in signals) {
    fallbacks.push({ step: 'signals', reason: `external signals ignored this tick: ${signals.error}` });
    return {};
  }
  return signals.values;
}

/** The external payload's lane order, restricted to lanes that can run, each skip recorded. */
function externalOrder(
  verdict: Extract<ExternalVerdict, { ok: true }>,
  scores: ReadonlyMap<string, LaneScore>,
  available: readonly string[],
  allowlist: readonly string[],
  fallbacks: Decision['fallbacks'],
): LaneScore[] {
  const order: LaneScore[] = [];
  for (const i of verdict.ignored ?? []) fallbacks.push({ step: i.step, reason: i.reason });
  // The contract put the allowlist in for a payload that named no configured lane.
  const standIn = verdict.order.filter((s) => s.step === 'allowlist');
  if (standIn.length)
    fallbacks.push({ step: 'allowlist', reason: `${standIn[0]!.reason}: ${standIn.map((s) => s.lane).join(', ')}` });
  for (const step of verdict.order) {
    const s = scores.get(step.lane);
    if (s && !order.includes(s)) order.push(s);
    else if (!s) fallbacks.push({ step: step.step, reason: `${step.reason}: ${step.lane} cannot run now; next step` });
  }
  if (order.length === 0) {
    const fromAllow = [...new Set(allowlist.filter((l) => scores.has(l)))];
    if (!allowlist.length)
      fallbacks.push({
        step: 'external',
        reason: 'no lane the selector named can run now, and selector.allowlist is empty',
      });
    else {
      fallbacks.push({
        step: 'allowlist',
        reason: fromAllow.length
          ? `no lane the selector named can run now (${available.length} available); selector.allowlist stands in: ${fromAllow.join(', ')}`
          : 'no lane the selector named can run now, and no selector.allowlist lane can either',
      });
    }
    for (const l of fromAllow) order.push(scores.get(l)!);
  }
  return order;
}

/**
 * Where a denied slot goes next, within the same tick. A denied task claim tries the lane's next
 * task once; a second denial in the lane (or a denied lane slot) moves on to the next lane of the
 * tick's order that is idle, was not denied, and may run beside what runs now.
 */
export function pivotTarget(
  view: readonly LaneView[],
  order: readonly string[],
  denied: readonly string[],
  deniedLane: { lane: string; laneId: string; taskDenied: boolean; denials: number },
  spare: Readonly<Record<string, SlotTask[]>>,
): { laneId: string; lane: string; task: SlotTask | null; reason: string } | null {
  const byLane = new Map<string, LaneView[]>();
  for (const v of view) byLane.set(v.lane, [...(byLane.get(v.lane) ?? []), v]);
  const active = view.filter((v) => isActive(v.state));
  if (active.some((v) => !v.parallel)) return null;
  if (deniedLane.taskDenied && deniedLane.denials < 2) {
    const next = spare[deniedLane.lane]?.[0];
    const slot = view.find((v) => v.laneId === deniedLane.laneId);
    if (next && slot?.state === 'idle')
      return { laneId: slot.laneId, lane: slot.lane, task: next, reason: 'task claim denied: next task of the lane' };
  }
  for (const lane of order) {
    if (denied.includes(lane)) continue;
    const slot = byLane.get(lane)?.find((v) => v.state === 'idle' && v.enabled);
    if (!slot) continue;
    if (!slot.parallel && active.length > 0) continue;
    const reason =
      lane === deniedLane.lane
        ? 'task claim denied and no other task: lane-level work in the same lane'
        : !deniedLane.taskDenied
          ? 'lane slot denied: next lane'
          : deniedLane.denials >= 2
            ? 'second task denial in the lane: next lane'
            : 'task claim denied and no other task here: next lane';
    return { laneId: slot.laneId, lane, task: spare[lane]?.[0] ?? null, reason };
  }
  return null;
}
