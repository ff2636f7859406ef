// The numbers `lanekeeper stats` reports about sessions and ticks, from store rows. Pure.
import type { DecisionRow, LaneStateRow, SessionRow } from '../ports/store.js';
import { OUTCOMES, type Outcome } from '../policy/outcome.js';

export interface FleetStats {
  /** skipped: lane slots passed over; gated: ticks the resource gate skipped whole. */
  ticks: { count: number; spawned: number; skipped: number; gated: number };
  outcomes: Record<Outcome, number>;
  /** Share of finished sessions that did nothing; refusals are counted apart, not as noops. */
  noop_rate: number | null;
  lanes: { lane: string; sessions: number; share: number; target: number | null; over_allocation: number | null }[];
  /** The value heartbeat: mean of the last 20 grades (target 0.55). */
  grade_mean_last20: number | null;
}

export function fleetStats(input: {
  sessions: readonly SessionRow[];
  decisions: readonly DecisionRow[];
  lanes: readonly LaneStateRow[];
  /** The last graded sessions, newest first, regardless of the window. */
  recentGrades: readonly number[];
}): FleetStats {
  const ticks = input.decisions.filter((d) => d.kind === 'tick');
  const skippedOf = (d: DecisionRow) =>
    ((d.detail as { skipped?: { reason: string }[] }).skipped ?? []).filter((s) => s.reason !== 'disabled').length;
  const outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  for (const s of input.sessions) if (s.outcome) outcomes[s.outcome]++;
  const finished = OUTCOMES.reduce((n, o) => n + (o === 'refused' ? 0 : outcomes[o]), 0);
  const total = input.sessions.length;
  const targets = new Map<string, number | null>();
  for (const l of input.lanes) targets.set(l.lane, l.target_share ?? null);
  for (const s of input.sessions) if (!targets.has(s.lane)) targets.set(s.lane, null);
  const lanes = [...targets.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([lane, target]) => {
      const sessions = input.sessions.filter((s) => s.lane === lane).length;
      const share = total ? sessions / total : 0;
      return { lane, sessions, share: round(share), target, over_allocation: target ? round(share / target) : null };
    });
  const last20 = input.recentGrades.slice(0, 20);
  return {
    ticks: {
      count: ticks.length,
      spawned: ticks.reduce((n, d) => n + d.chosen.length, 0),
      skipped: ticks.reduce((n, d) => n + skippedOf(d), 0),
      gated: ticks.filter((d) => (d.detail as { gate?: { action: string } }).gate?.action === 'skip').length,
    },
    outcomes,
    noop_rate: finished ? round(outcomes.noop / finished) : null,
    lanes,
    grade_mean_last20: last20.length ? round(last20.reduce((a, b) => a + b, 0) / last20.length) : null,
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
