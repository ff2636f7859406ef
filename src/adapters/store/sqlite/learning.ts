// What the selector has learned, kept across restarts in the `posteriors` table: one row per lane
// belief (scope "lane") so a reader can see each lane's evidence, and one row for the rest of the
// state (the learning clock, model, forgetting, share deficits and recent session starts), and one
// for the arms (`lane|arm` and `*|arm` beliefs together).
import type Database from 'better-sqlite3';
import type { Fairness } from '../../../policy/fairness.js';
import type { Belief, Learning } from '../../../policy/learning.js';
import { retryBusy, writer } from './busy.js';
import type { LearningPort, SelectorMemory } from '../ports.js';
import { foldGrade } from '../fold-grade.js';
import type { GradeUpdate } from '../../../policy/graded.js';

interface Meta {
  model: Learning['model'];
  forgetting: Learning['forgetting'];
  clock: number;
  fairness: Fairness;
  graded?: [string, number][];
}

export function sqliteLearning(db: Database.Database): LearningPort {
  const upsert = db.prepare(
    `INSERT INTO posteriors (scope, arm, data, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (scope, arm) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
  );
  const rows = db.prepare(`SELECT scope, arm, data FROM posteriors WHERE scope IN ('lane', 'selector')`);
  const saveRows = (memory: SelectorMemory, at: number) => {
    const { learning, fairness } = memory;
    const meta: Meta = { model: learning.model, forgetting: learning.forgetting, clock: learning.clock, fairness, ...(memory.graded ? { graded: memory.graded } : {}) };
    upsert.run('selector', 'state', JSON.stringify(meta), at);
    if (memory.arms) upsert.run('selector', 'arms', JSON.stringify(memory.arms), at);
    for (const [lane, belief] of Object.entries(learning.beliefs)) upsert.run('lane', lane, JSON.stringify(belief), at);
  };
  const loadRows = (): SelectorMemory | null => {
    const all = rows.all() as { scope: string; arm: string; data: string }[];
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
  };
  const save = writer(db, saveRows);
  const apply = writer(db, (update: GradeUpdate, fresh: SelectorMemory, at: number) => {
    const memory = loadRows() ?? fresh;
    const next = foldGrade(memory, fresh, update);
    if (next) saveRows(next, at);
  });
  return {
    async save(memory, at) {
      save(memory, at);
    },
    async applyGrade(update, fresh, at) {
      apply(update, fresh, at);
    },
    async load() {
      return retryBusy(loadRows);
    },
  };
}
