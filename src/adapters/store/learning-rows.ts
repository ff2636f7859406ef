// The selector's memory as rows of the `posteriors` table, the same in both stores: one row per
// lane belief (scope "lane"), one for the rest of the state (the learning clock, model,
// forgetting, share deficits and recently learned sessions: scope "selector", "state"), one for
// the arms ("selector", "arms"). And one grade folded into a stored memory (policy/graded.ts),
// for both stores' applyGrade.
import type { Fairness } from '../../policy/fairness.js';
import { applyGrade, type GradedList, type GradeUpdate } from '../../policy/graded.js';
import type { Belief, Learning } from '../../policy/learning.js';
import type { SelectorMemory } from '../../ports/store.js';

export interface PosteriorRow {
  scope: string;
  arm: string;
  data: string;
}

interface Meta {
  model: Learning['model'];
  forgetting: Learning['forgetting'];
  clock: number;
  fairness: Fairness;
  graded?: GradedList;
}

export function memoryRows(memory: SelectorMemory): PosteriorRow[] {
  const { learning, fairness } = memory;
  const meta: Meta = {
    model: learning.model,
    forgetting: learning.forgetting,
    clock: learning.clock,
    fairness,
    ...(memory.graded ? { graded: memory.graded } : {}),
  };
  const rows: PosteriorRow[] = [{ scope: 'selector', arm: 'state', data: JSON.stringify(meta) }];
  if (memory.arms) rows.push({ scope: 'selector', arm: 'arms', data: JSON.stringify(memory.arms) });
  for (const [lane, belief] of Object.entries(learning.beliefs))
    rows.push({ scope: 'lane', arm: lane, data: JSON.stringify(belief) });
  return rows;
}

/** The memory the rows hold, or null when nothing was learned yet. */
export function memoryFromRows(all: readonly PosteriorRow[]): SelectorMemory | null {
  const metaRow = all.find((r) => r.scope === 'selector' && r.arm === 'state');
  if (!metaRow) return null;
  const meta = JSON.parse(metaRow.data) as Meta;
  const beliefs: Record<string, Belief> = {};
  for (const r of all) if (r.scope === 'lane') beliefs[r.arm] = JSON.parse(r.data) as Belief;
  const armsRow = all.find((r) => r.scope === 'selector' && r.arm === 'arms');
  return {
    learning: { model: meta.model, forgetting: meta.forgetting, clock: meta.clock, beliefs },
    fairness: meta.fairness,
    ...(meta.graded ? { graded: meta.graded } : {}),
    ...(armsRow ? { arms: JSON.parse(armsRow.data) as Learning } : {}),
  };
}

/** `memory` after `update`, or null when it changes nothing (the session was learned already). */
export function foldGrade(memory: SelectorMemory, fresh: SelectorMemory, update: GradeUpdate): SelectorMemory | null {
  const before = { learning: memory.learning, arms: memory.arms ?? fresh.arms!, graded: memory.graded ?? [] };
  const after = applyGrade(before, update);
  return after === before ? null : { ...memory, ...after };
}
