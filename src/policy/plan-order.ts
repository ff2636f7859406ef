// Step 4 of a tick's plan (plan-tick.ts): the order in which the scored lanes are considered.
// Built in: lanes with active tasks first, then lanes with ready tasks by priority, then
// lane-level work (the CASCADE tiers); the score orders lanes within a tier, a seeded tiebreak
// after it. An external selector's valid payload replaces this order, step by recorded step; when
// the allowlist stands in for it, that is a recorded step too. Pure.
import type { Decision, ExternalVerdict, LaneScore, PlanInput, SlotTask } from './plan-types.js';

export interface LaneOrder {
  order: LaneScore[];
  /** The lanes that fill the width the external order leaves, in the built-in order. */
  fill: LaneScore[];
  source: Decision['source'];
}

/**
 * The order of the tick's lanes. An external payload's task goes first among its lane's spare
 * tasks (`spare` is changed in place), unless its claim is held elsewhere.
 */
export function orderLanes(
  p: PlanInput,
  scores: ReadonlyMap<string, LaneScore>,
  available: readonly string[],
  blocked: ReadonlySet<string>,
  spare: Record<string, SlotTask[]>,
  fallbacks: Decision['fallbacks'],
): LaneOrder {
  const builtin = [...scores.values()].sort(
    (a, b) =>
      a.components.tier - b.components.tier ||
      (b.components.priority ?? 0) - (a.components.priority ?? 0) ||
      b.score - a.score ||
      b.tiebreak - a.tiebreak,
  );
  let order = builtin;
  let fill: LaneScore[] = [];
  let source: Decision['source'] = 'builtin';
  const external = p.inputs.external ?? null;
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
  return { order, fill, source };
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
