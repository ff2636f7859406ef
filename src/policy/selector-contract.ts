// The contract of an external selector (`selector.command`): what a run of it means for one tick.
// Its stdout is one JSON object of one of two shapes:
//   scores  {"all_scores": {"code": 0.7, "triage": 0.4}}
//   tiered  {"tier": 3, "selected": {"id": "t1", "category": "code", "suggested_claim": "task:t1"},
//            "diversity_alternatives": [{"category": "content"}], "alternatives": [{"category": "triage"}],
//            "all_scores": {...}}                                   (gptme/Bob's CASCADE --json)
// Fields the schemas do not know are kept and ignored, so a selector can grow without breaking us.
// Lanes are taken from selected.category, diversity_alternatives, alternatives, then the all_scores
// ranking; the configured allowlist only when none of those named a configured lane. Anything
// else — a failed run, bad JSON, a payload of neither shape — is a violation with its reason, and
// the caller journals it and lets the built-in selector decide that tick. Pure: the run comes in.
import { z } from 'zod';
import { claimKeyProblem } from './claim-key.js';
import { jsonObject, runProblem, type ProgramRun } from './program-run.js';
import { formatIssues, formatPath } from '../config/problems.js';
import { taskKey } from './task-tiers.js';

/** What became of one run of the selector program. */
export type SelectorRun = ProgramRun;

export type OrderStepKind = 'selected' | 'diversity_alternatives' | 'alternatives' | 'all_scores' | 'allowlist';

export interface OrderStep {
  lane: string;
  step: OrderStepKind;
  /** Why this lane is here, e.g. "diversity alternative 1" or "all_scores rank 3 (0.42)". */
  reason: string;
}

/** A category the payload named that is not a configured lane. */
export interface IgnoredEntry {
  value: string;
  step: OrderStepKind;
  reason: string;
}

export type SelectorVerdict =
  | {
      ok: true;
      shape: 'scores' | 'tiered';
      order: OrderStep[];
      ignored: IgnoredEntry[];
      /** A tiered payload whose selected entry has an id: the lane runs that task under that claim. */
      task: { id: string; lane: string; claim: string } | null;
      scores: Record<string, number> | null;
      tier: number | null;
    }
  | { ok: false; reason: string };

// Bob's exact all_scores shape is unknown; a record of numbers is what we can rank, so anything
// else in it is a violation rather than a guess.
const scoresRecord = z.record(z.string(), z.number());
const nonEmpty = z.string().regex(/\S/, { message: 'expected a non-empty string' });
const categoryRef = z.looseObject({ category: nonEmpty });

const scoresPayload = z.looseObject({ all_scores: scoresRecord });

// `tier` is what marks a payload as tiered (CASCADE always prints it). `selected` may be null
// when the selector found nothing to select; the alternatives then carry the tick.
const tieredPayload = z.looseObject({
  tier: z.number().int().min(0),
  selected: z
    .looseObject({
      category: nonEmpty,
      id: nonEmpty.optional(),
      suggested_claim: z.string().optional(),
    })
    .nullable()
    .optional(),
  diversity_alternatives: z.array(categoryRef).optional(),
  alternatives: z.array(categoryRef).optional(),
  all_scores: scoresRecord.optional(),
});

type Tiered = z.infer<typeof tieredPayload>;
/** What planOrder reads; a scores payload is one with only all_scores. */
type Steps = Pick<Partial<Tiered>, 'tier' | 'selected' | 'diversity_alternatives' | 'alternatives' | 'all_scores'>;

const TIERED_KEYS = ['tier', 'selected', 'diversity_alternatives', 'alternatives'];

export function interpretSelectorRun(
  run: SelectorRun,
  lanes: readonly string[],
  allowlist: readonly string[],
): SelectorVerdict {
  const failed = runProblem(run);
  if (failed) return { ok: false, reason: failed };
  const json = jsonObject(run.stdout, 'with "all_scores" or "tier"');
  if (!json.ok) return json;
  const record = json.data;

  // JSON can spell Infinity (1e999); zod would call it "not a number", which reads as a lie.
  const scoresProblem = nonFiniteScore(record['all_scores']);
  if (scoresProblem) return { ok: false, reason: scoresProblem };

  // The shape is decided by the keys, so a payload that means to be tiered is judged as tiered:
  // a `selected` beside all_scores but without `tier` must not pass as scores with `selected` ignored.
  const aimed = TIERED_KEYS.filter((k) => k in record);
  const parsed = (aimed.length ? tieredPayload : scoresPayload).safeParse(record, { reportInput: true });
  if (!parsed.success) {
    // A record is a mapping to the reader; problems.ts speaks of config, which has none.
    const mapped = parsed.error.issues.map((i) =>
      i.code === 'invalid_type' && i.expected === 'record' ? { ...i, expected: 'object' as const } : i,
    );
    const issues = formatIssues(mapped)
      .slice(0, 3)
      .map((p) => `${formatPath(p.path)}: ${p.message}`)
      .join('; ');
    const how = aimed.length
      ? `read as tiered (it has "${aimed[0]}")`
      : 'read as scores (it has no tier, selected or alternatives)';
    return { ok: false, reason: `payload matches neither selector shape; ${how}: ${issues}` };
  }
  if (aimed.length) return planOrder('tiered', parsed.data as Tiered, lanes, allowlist);
  return planOrder(
    'scores',
    { all_scores: (parsed.data as z.infer<typeof scoresPayload>).all_scores },
    lanes,
    allowlist,
  );
}

function nonFiniteScore(scores: unknown): string | null {
  if (typeof scores !== 'object' || scores === null || Array.isArray(scores)) return null;
  for (const [k, v] of Object.entries(scores)) {
    if (typeof v === 'number' && !Number.isFinite(v)) return `all_scores.${k}: expected a finite number, got ${v}`;
  }
  return null;
}

/** null when `key` may be used as a claim key, else why not. */
export function selectorClaimProblem(key: string): string | null {
  if (/\s/.test(key)) return 'a claim key cannot hold whitespace';
  const base = claimKeyProblem(key);
  if (base) return base;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*:./.test(key)) return 'expected NAMESPACE:REST (e.g. task:my-task)';
  return null;
}

function planOrder(
  shape: 'scores' | 'tiered',
  p: Steps,
  lanes: readonly string[],
  allowlist: readonly string[],
): SelectorVerdict {
  const known = new Set(lanes);
  const order: OrderStep[] = [];
  const ignored: IgnoredEntry[] = [];
  // A lane already placed by an earlier step is skipped without a note: it lost nothing.
  const take = (value: string, step: OrderStepKind, reason: string, where: string): boolean => {
    if (!known.has(value)) {
      ignored.push({ value, step, reason: `${where} "${value}" is not a configured lane` });
      return false;
    }
    if (!order.some((o) => o.lane === value)) order.push({ lane: value, step, reason });
    return true;
  };

  let task: { id: string; lane: string; claim: string } | null = null;
  const sel = p.selected;
  if (sel) {
    const checked = selectedClaim(sel);
    if (!checked.ok) return checked;
    const claim = checked.claim;
    const tierNote = p.tier === undefined ? '' : `tier ${p.tier}`;
    const taskNote = sel.id === undefined ? '' : `task ${sel.id}`;
    const notes = [tierNote, taskNote].filter(Boolean).join(', ');
    if (take(sel.category, 'selected', `selected lane${notes ? ` (${notes})` : ''}`, 'selected.category')) {
      if (sel.id !== undefined && claim !== null) task = { id: sel.id, lane: sel.category, claim };
    }
  }
  (p.diversity_alternatives ?? []).forEach((a, i) =>
    take(
      a.category,
      'diversity_alternatives',
      `diversity alternative ${i + 1}`,
      `diversity_alternatives[${i}].category`,
    ),
  );
  (p.alternatives ?? []).forEach((a, i) =>
    take(a.category, 'alternatives', `alternative ${i + 1}`, `alternatives[${i}].category`),
  );
  const ranked = Object.entries(p.all_scores ?? {}).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0));
  ranked.forEach(([lane, score], i) =>
    take(lane, 'all_scores', `all_scores rank ${i + 1} (${score})`, 'all_scores key'),
  );

  if (order.length === 0) {
    const named = [...new Set(ignored.map((g) => g.value))];
    const why = `the payload named no configured lane (${named.length ? `named: ${named.join(', ')}` : 'it named none'}); selector.allowlist stands in`;
    for (const lane of allowlist) take(lane, 'allowlist', why, 'allowlist entry');
  }
  // Decision: a payload that leaves no lane to dispatch (nothing it named is configured, and no
  // allowlist lane either) is a violation, not an empty plan. An empty plan would quietly idle
  // the fleet or hand the tick to the built-in without a trace — the silent default the contract
  // forbids. As a violation it is journaled with the names it did give.
  if (order.length === 0) {
    const named = ignored.filter((g) => g.step !== 'allowlist').map((g) => g.value);
    const namedNote = named.length ? `named: ${[...new Set(named)].join(', ')}` : 'it named none';
    const allowNote = allowlist.length ? 'no allowlist entry is a configured lane either' : 'the allowlist is empty';
    return {
      ok: false,
      reason: `payload named no configured lane (${namedNote}; known: ${[...known].join(', ') || 'none'}) and ${allowNote}`,
    };
  }
  return {
    ok: true,
    shape,
    order,
    ignored,
    task,
    scores: p.all_scores ?? null,
    tier: p.tier ?? null,
  };
}

/** The claim of the selected entry (null when it names no task), or why the payload is broken. */
function selectedClaim(
  sel: NonNullable<Steps['selected']>,
): { ok: true; claim: string | null } | { ok: false; reason: string } {
  // The claim is checked even when the lane is not ours: a bad claim is a broken payload.
  if (sel.suggested_claim !== undefined) {
    const problem = selectorClaimProblem(sel.suggested_claim);
    if (problem)
      return {
        ok: false,
        reason: `selected.suggested_claim ${JSON.stringify(sel.suggested_claim)} is not a claim key: ${problem}`,
      };
  }
  const claim = sel.id === undefined ? null : (sel.suggested_claim ?? defaultClaim(sel.id));
  if (claim !== null && sel.suggested_claim === undefined) {
    const problem = selectorClaimProblem(claim);
    if (problem)
      return {
        ok: false,
        reason: `selected.id ${JSON.stringify(sel.id)} makes the claim key ${JSON.stringify(claim)}, which is not one: ${problem}`,
      };
  }
  return { ok: true, claim };
}

/**
 * The claim for a selected id that came without `suggested_claim`: `task:<id>`, except that an
 * issue reference (`owner/repo#42`, CASCADE's tier 0) is claimed as `github:owner/repo#42`, the
 * key agents use for issues.
 */
export function defaultClaim(id: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+#\d+$/.test(id) ? `github:${id}` : taskKey(id);
}
