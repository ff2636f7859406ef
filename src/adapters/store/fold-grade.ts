// One grade folded into a stored selector memory (policy/graded.ts), for both stores' applyGrade:
// the memory after it, or null when it changes nothing (the session was learned already).
import { applyGrade, type GradeUpdate } from '../../policy/graded.js';
import type { SelectorMemory } from './ports.js';

export function foldGrade(memory: SelectorMemory, fresh: SelectorMemory, update: GradeUpdate): SelectorMemory | null {
  const before = { learning: memory.learning, arms: memory.arms ?? fresh.arms!, graded: memory.graded ?? [] };
  const after = applyGrade(before, update);
  return after === before ? null : { ...memory, ...after };
}
