// One line per selector decision, for the log and `status`: what was chosen (with its score and
// task), what the gate did, every fallback, and what was skipped and why. A tick is named by the
// journal seq of its event ("tick at event 15"): ticks share the journal with every other event,
// so a bare "tick 15" would read as if fourteen ticks came before it. And the fallbacks of several
// decisions tallied, so one that repeats tick after tick is read once, with a count.
import type { RecordDecisionIntent } from '../machines/intents.js';

export interface Fallback {
  step: string;
  reason: string;
}

export interface LineOptions {
  /** What the line says of the decision's fallbacks (there is at least one); '' for nothing. Default: each with its reason. */
  fallbacks?: (fallbacks: readonly Fallback[]) => string;
}

/** "fallbacks: fill (docs: …); allowlist (…)": every fallback with its reason. */
export const fallbacksInFull = (fallbacks: readonly Fallback[]): string =>
  `fallbacks: ${fallbacks.map((f) => `${f.step} (${f.reason})`).join('; ')}`;

/** "fallbacks: fill ×2, alternatives (each once below)": the steps only, for a view that tallies the reasons apart. */
export function fallbackSteps(fallbacks: readonly Fallback[]): string {
  const steps = new Map<string, number>();
  for (const f of fallbacks) steps.set(f.step, (steps.get(f.step) ?? 0) + 1);
  return `fallbacks: ${[...steps].map(([step, n]) => (n > 1 ? `${step} ×${n}` : step)).join(', ')} (each once below)`;
}

export function decisionLine(d: RecordDecisionIntent, opts: LineOptions = {}): string {
  const slot = (c: { laneId: string; task: { id: string } | null }) => `${c.laneId}${c.task ? ` [${c.task.id}]` : ''}`;
  if (d.kind === 'pivot')
    return `pivot after ${d.denied.key} was denied to ${d.denied.laneId} → ${d.chosen.map(slot).join(', ') || 'nothing'} (${d.reason})`;
  if (d.gate.action === 'skip') return `tick at event ${d.seq} skipped by the resource gate: ${d.gate.reason}`;
  const chosen = d.chosen.map((c) => `${slot(c)} ${c.score.toFixed(2)}`).join(', ');
  // "width reached" is the normal case for every lane not chosen; the rest are worth reading.
  const skipped = d.skipped.filter((s) => s.reason !== 'width reached');
  return [
    `tick at event ${d.seq}${d.source === 'external' ? ' (external selector)' : ''}: ${chosen ? `→ ${chosen}` : 'no lane dispatched'}`,
    d.gate.narrowed ? `resource gate: ${d.gate.reason}` : '',
    d.fallbacks.length ? (opts.fallbacks ?? fallbacksInFull)(d.fallbacks) : '',
    skipped.length ? `skipped ${skipped.map((s) => `${s.laneId} (${s.reason})`).join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('; ');
}

/** `status` and the view tally the fallbacks of this many recent decisions. */
export const FALLBACK_WINDOW = 20;

/** One distinct fallback and the decisions that recorded it. */
export interface FallbackTally extends Fallback {
  count: number;
  firstSeq: number;
  lastSeq: number;
}

/** Each distinct fallback (same step and reason) of these decisions once, with how many recorded it; the latest first. */
export function tallyFallbacks(decisions: readonly RecordDecisionIntent[]): FallbackTally[] {
  const byKey = new Map<string, FallbackTally>();
  for (const d of decisions) {
    if (d.kind !== 'tick') continue;
    // A decision that recorded the same fallback twice (two slots' worth) counts once.
    for (const [key, f] of new Map(d.fallbacks.map((f) => [`${f.step}\0${f.reason}`, f]))) {
      const t = byKey.get(key);
      byKey.set(
        key,
        t
          ? { ...t, count: t.count + 1, firstSeq: Math.min(t.firstSeq, d.seq), lastSeq: Math.max(t.lastSeq, d.seq) }
          : { step: f.step, reason: f.reason, count: 1, firstSeq: d.seq, lastSeq: d.seq },
      );
    }
  }
  return [...byKey.values()].sort((a, b) => b.lastSeq - a.lastSeq);
}

/** "×3 alternatives: alternatives[0].category "novelty" is not a configured lane · ticks 12–40". */
export function tallyLine(t: FallbackTally): string {
  return `×${t.count} ${t.step}: ${t.reason} · ${t.count === 1 ? `tick at event ${t.lastSeq}` : `ticks at events ${t.firstSeq}–${t.lastSeq}`}`;
}
