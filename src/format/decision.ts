// One line per selector decision, for the log and `status`: what was chosen (with its score and
// task), what the gate did, every fallback, and what was skipped and why. A tick is named by the
// journal seq of its event ("tick at event 15"): ticks share the journal with every other event,
// so a bare "tick 15" would read as if fourteen ticks came before it.
import type { RecordDecisionIntent } from '../machines/intents.js';

export function decisionLine(d: RecordDecisionIntent): string {
  const slot = (c: { laneId: string; task: { id: string } | null }) => `${c.laneId}${c.task ? ` [${c.task.id}]` : ''}`;
  if (d.kind === 'pivot') return `pivot after ${d.denied.key} was denied to ${d.denied.laneId} → ${d.chosen.map(slot).join(', ') || 'nothing'} (${d.reason})`;
  if (d.gate.action === 'skip') return `tick at event ${d.seq} skipped by the resource gate: ${d.gate.reason}`;
  const chosen = d.chosen.map((c) => `${slot(c)} ${c.score.toFixed(2)}`).join(', ');
  // "width reached" is the normal case for every lane not chosen; the rest are worth reading.
  const skipped = d.skipped.filter((s) => s.reason !== 'width reached');
  return [
    `tick at event ${d.seq}${d.source === 'external' ? ' (external selector)' : ''}: ${chosen ? `→ ${chosen}` : 'no lane dispatched'}`,
    d.gate.narrowed ? `resource gate: ${d.gate.reason}` : '',
    d.fallbacks.length ? `fallbacks: ${d.fallbacks.map((f) => `${f.step} (${f.reason})`).join('; ')}` : '',
    skipped.length ? `skipped ${skipped.map((s) => `${s.laneId} (${s.reason})`).join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('; ');
}
