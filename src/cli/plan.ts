// lanekeeper plan [--config F] [--state DIR] [--seed N] [--json]: what a tick would do now and
// why, starting nothing. It reads the lanes' states and what was learned from the store, the task
// files, the load and the signals, runs the external selector if one is configured, and prints
// the decision the running selector would make from the same seed.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { openStore } from '../adapters/store/open-store.js';
import type { Store } from '../ports/store.js';
import { DB_FILE } from '../adapters/store/sqlite/open.js';
import { readTasks } from '../adapters/tasks/read.js';
import { loadConfig } from '../config/load.js';
import type { ResolvedConfig } from '../config/types.js';
import { StoreError } from '../errors.js';
import { laneIds } from '../machines/fleet.js';
import { emptyFairness } from '../policy/fairness.js';
import { emptyLearning } from '../policy/learning.js';
import { planTick, type Decision, type LaneView } from '../policy/plan-tick.js';
import { leftText } from '../format/left.js';
import { renderTable } from '../format/table.js';
import { selectionFromConfig } from '../runtime/selection.js';
import { gatherTickInputs } from '../runtime/tick-inputs.js';
import { out } from './io.js';

export interface PlanOptions {
  config?: string;
  state?: string;
  seed?: number;
  json?: boolean;
}

export async function planCommand(opts: PlanOptions): Promise<void> {
  const config = loadConfig({ file: opts.config, stateDir: opts.state, env: process.env });
  const store = await existingStore(config);
  const hasStore = store !== null;
  try {
    const rows = store ? await store.lanes.list() : [];
    const now = Date.now();
    // The lanes as the running (or the next) lanekeeper has them: every start goes on from where the
    // last run left them. A slot the store has no state for (never run; or 'stopped', written by
    // an older lanekeeper) is idle, and so is one whose cooldown or wait is over (due at the tick).
    const rowOf = (laneId: string) => rows.find((r) => r.lane_id === laneId);
    const stateOf = (laneId: string) => {
      const r = rowOf(laneId);
      if (!r || r.state === 'stopped') return 'idle';
      return r.deadline != null && r.deadline <= now ? 'idle' : r.state;
    };
    const view: LaneView[] = config.lanes.flatMap((l) =>
      laneIds(l).map((laneId) => ({
        laneId,
        lane: l.name,
        enabled: l.enabled,
        parallel: l.parallel,
        state: stateOf(laneId),
      })),
    );
    const memory = store ? await store.learning.load() : null;
    const selection = selectionFromConfig(config);
    const sameModel = memory?.learning.model === selection.model;
    const learning =
      memory && sameModel
        ? { ...memory.learning, forgetting: selection.forgetting }
        : emptyLearning(selection.model, selection.forgetting);
    const tasks = config.tasks
      ? await readTasks(
          config.tasks.dir,
          config.lanes.map((l) => l.name),
        )
      : null;
    // A contract violation shows in the decision's fallbacks; plan journals nothing.
    const inputs = await gatherTickInputs({ config, store });
    const seed = opts.seed ?? randomBytes(4).readUInt32LE(0);
    const planned = planTick({
      view,
      width: config.width,
      seed,
      now,
      learning,
      fairness: memory?.fairness ?? emptyFairness(),
      settings: selection.plan,
      tasks: tasks?.tasks ?? null,
      inputs,
    });
    // A resting lane says how long it still rests: "cooldown (1h 59m left)".
    const left = (laneId: string, reason: string) => {
      const deadline = rowOf(laneId)?.deadline;
      return (reason === 'cooldown' || reason === 'waiting') && deadline != null
        ? `${reason} (${leftText(deadline, now)})`
        : reason;
    };
    const decision = { ...planned, skipped: planned.skipped.map((x) => ({ ...x, reason: left(x.laneId, x.reason) })) };
    const notes = [
      ...(hasStore
        ? []
        : [
            `no store at ${config.store ? 'the configured PostgreSQL store' : config.stateDir} yet: planned from a fresh start`,
          ]),
      ...(memory && !sameModel
        ? [
            `the evidence in the store was kept with the ${memory.learning.model} model; this config uses ${selection.model}`,
          ]
        : []),
      ...(tasks?.problems ?? []).map((p) => `task file ${p.file}: ${p.message}`),
    ];
    if (opts.json) out(JSON.stringify(planJson(decision, seed, notes)));
    else out(renderPlan(decision, seed, notes));
  } finally {
    await store?.close();
  }
}

/** The store the running lanekeeper writes, or null when it has not made one yet (plan creates nothing). */
async function existingStore(config: ResolvedConfig): Promise<Store | null> {
  if (!config.store)
    return existsSync(path.join(config.stateDir, DB_FILE))
      ? openStore({ stateDir: config.stateDir, mustExist: true })
      : null;
  try {
    return await openStore({ stateDir: config.stateDir, url: config.store, mustExist: true });
  } catch (err) {
    if (err instanceof StoreError && err.kind === 'missing') return null;
    throw err;
  }
}

function planJson(d: Decision, seed: number, notes: string[]) {
  return {
    width: d.width,
    seed,
    gate: d.gate,
    chosen: d.chosen.map((c) => ({
      lane: c.lane,
      lane_id: c.laneId,
      ...(c.task ? { task: c.task.id, claim: c.task.key } : {}),
      score: c.score,
      components: c.components,
    })),
    skipped: d.skipped.map((s) => ({ lane: s.laneId, reason: s.reason })),
    ranked: d.ranked.map((r) => ({ lane: r.lane, score: r.score, components: r.components })),
    source: d.source,
    fallbacks: d.fallbacks,
    notes,
  };
}

function renderPlan(d: Decision, seed: number, notes: string[]): string {
  const chosen = new Map(d.chosen.map((c) => [c.lane, c]));
  const f = (x: number) => x.toFixed(3);
  const rows = [
    ['LANE', 'PICK', 'SCORE', 'SAMPLE', 'MEAN', 'N', 'DEFICIT', 'PLATEAU', 'SIGNAL', 'TIER', 'TASK', 'FLAGS'],
    ...d.ranked.map((r) => {
      const c = r.components;
      const pick = chosen.get(r.lane);
      return [
        r.lane,
        pick ? pick.laneId : '',
        f(r.score),
        f(c.sample),
        f(c.mean),
        c.evidence.toFixed(1),
        f(c.deficit),
        f(c.monotony + c.neglect),
        f(c.signal),
        String(c.tier),
        pick?.task?.id ?? '',
        c.plateau.join(','),
      ];
    }),
  ];
  const lines = [
    `plan (seed ${seed}, ${d.source} order): ${d.chosen.length ? `would start ${d.chosen.map((c) => c.laneId + (c.task ? ` [${c.task.id}]` : '')).join(', ')}` : 'would start nothing'}`,
    `width ${d.width}: ${d.gate.reason}`,
    '',
    d.ranked.length ? renderTable(rows) : 'no lane can run now',
  ];
  const skipped = d.skipped.filter((s) => s.reason !== 'width reached');
  if (skipped.length) lines.push('', 'skipped:', ...skipped.map((s) => `  ${s.laneId}: ${s.reason}`));
  if (d.fallbacks.length) lines.push('', 'fallbacks:', ...d.fallbacks.map((x) => `  ${x.step}: ${x.reason}`));
  if (notes.length) lines.push('', ...notes.map((n) => `note: ${n}`));
  return lines.join('\n');
}
