import { fairnessSettings } from '../helpers/settings.js';
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { emptyFairness, type Fairness } from '../../src/policy/fairness.js';
import { emptyLearning, learn, type Learning } from '../../src/policy/learning.js';
import {
  pivotTarget,
  planTick,
  type Decision,
  type ExternalVerdict,
  type LaneView,
  type PlanInput,
  type PlanSettings,
  type TickInputs,
} from '../../src/policy/plan-tick.js';
import { DEFAULT_GATE } from '../../src/policy/resource-gate.js';
import type { Task } from '../../src/policy/task.js';

const STATES = ['idle', 'claiming', 'running', 'cooldown', 'respawn', 'waiting'] as const;
const ACTIVE = new Set(['claiming', 'running', 'respawn']);

const planSettings = (over: Partial<PlanSettings> = {}): PlanSettings => ({
  fairness: fairnessSettings(),
  signalWeight: 0.1,
  gate: DEFAULT_GATE,
  allowlist: [],
  ...over,
});

/** A lane slot: "code" is slot 1 of lane code, "code.2" its slot 2. */
const slot = (laneId: string, state = 'idle', over: Partial<LaneView> = {}): LaneView => ({
  laneId,
  lane: laneId.split('.')[0]!,
  state,
  enabled: true,
  parallel: true,
  ...over,
});
const idle = (...ids: string[]) => ids.map((id) => slot(id));

const task = (id: string, over: Partial<Task> = {}): Task => ({
  id,
  lane: 'code',
  state: 'ready',
  priority: 2,
  waitingFor: null,
  path: `/tasks/${id}.md`,
  title: null,
  ...over,
});

function plan(over: Partial<PlanInput> & { view: LaneView[] }): Decision {
  return planTick({
    width: 3,
    seed: 1,
    now: 0,
    learning: emptyLearning(),
    fairness: emptyFairness(),
    settings: planSettings(),
    tasks: null,
    inputs: {},
    ...over,
  });
}

/** A learning state where each lane was graded `grade` `times` times. */
function graded(grades: Record<string, number>, times = 10): Learning {
  let l = emptyLearning();
  for (let i = 0; i < times; i++) for (const [lane, g] of Object.entries(grades)) l = learn(l, lane, g);
  return l;
}

/** The lanes in the order the planner considered them. */
const lanesOf = (d: Decision) => d.ranked.map((r) => r.lane);
const slotIds = (d: Decision) => d.chosen.map((c) => c.laneId);

function deepFreeze<T>(x: T): T {
  if (x && typeof x === 'object' && !Object.isFrozen(x)) {
    Object.freeze(x);
    for (const v of Object.values(x)) deepFreeze(v);
  }
  return x;
}

// ---------------------------------------------------------------------------------------------
// Random views for the properties.

interface LaneGen {
  enabled: boolean;
  parallel: boolean;
  blocked: boolean;
  states: (typeof STATES)[number][];
}
const stateArb = fc.oneof(
  { arbitrary: fc.constant('idle' as const), weight: 3 },
  { arbitrary: fc.constantFrom(...STATES), weight: 3 },
);
const laneArb: fc.Arbitrary<LaneGen> = fc.record({
  enabled: fc.nat(4).map((n) => n > 0),
  parallel: fc.nat(3).map((n) => n > 0),
  blocked: fc.nat(4).map((n) => n === 0),
  states: fc.array(stateArb, { minLength: 1, maxLength: 3 }),
});
const gradesArb = fc.array(fc.tuple(fc.nat(11), fc.double({ min: 0, max: 1, noNaN: true })), { maxLength: 30 });
const seedArb = fc.integer({ min: 0, max: 0xffffffff });

function buildView(lanes: LaneGen[], prefix = 'l'): { view: LaneView[]; blocked: string[] } {
  const view: LaneView[] = [];
  const blocked: string[] = [];
  lanes.forEach((g, i) => {
    const lane = `${prefix}${i}`;
    if (g.blocked) blocked.push(`lane:${lane}`);
    g.states.forEach((state, k) =>
      view.push({ laneId: k === 0 ? lane : `${lane}.${k + 1}`, lane, state, enabled: g.enabled, parallel: g.parallel }),
    );
  });
  return { view, blocked };
}
const learningOf = (grades: [number, number][], prefix = 'l') =>
  grades.reduce((l, [i, g]) => learn(l, `${prefix}${i}`, g), emptyLearning());
/** Lanes with at least one slot that may be planned: enabled, idle, lane slot not held elsewhere. */
const availableOf = (view: readonly LaneView[], blocked: readonly string[]) =>
  new Set(
    view.filter((v) => v.enabled && v.state === 'idle' && !blocked.includes(`lane:${v.lane}`)).map((v) => v.lane),
  );

describe('masking (property)', () => {
  test('chosen slots are idle, enabled, not blocked, distinct, within width and the parallel rules; every other slot says why', () => {
    fc.assert(
      fc.property(
        fc.array(laneArb, { minLength: 1, maxLength: 12 }),
        gradesArb,
        fc.integer({ min: 1, max: 6 }),
        seedArb,
        fc.array(fc.nat(11), { maxLength: 8 }),
        (lanes, grades, width, seed, starts) => {
          const { view, blocked } = buildView(lanes);
          const learning = learningOf(grades);
          const fairness: Fairness = {
            deficits: { l0: 0.7 },
            history: starts.map((i, k) => ({ lane: `l${i}`, at: k })),
          };
          const settings = planSettings({ fairness: fairnessSettings({ targets: { l0: 0.3 } }) });
          const input: PlanInput = deepFreeze({
            view,
            width,
            seed,
            now: 100,
            learning,
            fairness,
            settings,
            tasks: null,
            inputs: { blocked },
          });
          const before = JSON.stringify(input);
          const d = planTick(input);
          expect(JSON.stringify(input)).toBe(before);

          const byId = new Map(view.map((v) => [v.laneId, v]));
          const available = availableOf(view, blocked);
          // Chosen: idle, enabled, lane slot free, distinct, at most width.
          expect(new Set(slotIds(d)).size).toBe(d.chosen.length);
          expect(d.chosen.length).toBeLessThanOrEqual(width);
          for (const c of d.chosen) {
            const v = byId.get(c.laneId)!;
            expect(v).toBeDefined();
            expect(c.lane).toBe(v.lane);
            expect(v.state).toBe('idle');
            expect(v.enabled).toBe(true);
            expect(blocked).not.toContain(`lane:${v.lane}`);
          }
          // Parallel rules: a lane that runs alone is chosen beside nothing active and nothing chosen.
          const active = view.filter((v) => ACTIVE.has(v.state));
          if (active.some((v) => !v.parallel)) expect(d.chosen).toEqual([]);
          for (const c of d.chosen) {
            if (byId.get(c.laneId)!.parallel) continue;
            expect(d.chosen).toHaveLength(1);
            expect(active).toEqual([]);
          }
          // Every slot is either chosen or skipped with a reason, exactly once.
          expect([...slotIds(d), ...d.skipped.map((s) => s.laneId)].sort()).toEqual(view.map((v) => v.laneId).sort());
          for (const s of d.skipped) expect(s.reason.length).toBeGreaterThan(0);
          // Masked slots say why they were masked.
          for (const s of d.skipped) {
            const v = byId.get(s.laneId)!;
            if (!v.enabled) expect(s.reason).toBe('disabled');
            else if (v.state !== 'idle') expect(s.reason).toBe(v.state);
            else if (blocked.includes(`lane:${v.lane}`))
              expect(s.reason).toBe(`claim_blocked: lane:${v.lane} is held elsewhere`);
          }
          // Masked lanes are not scored (their posterior is not drawn); available ones all are.
          expect(new Set(lanesOf(d))).toEqual(available);
          expect(d.ranked).toHaveLength(available.size);
          // Not vacuous: something runs whenever a parallel lane is available and nothing runs alone.
          const parallelAvailable = view.some((v) => available.has(v.lane) && v.parallel);
          if (parallelAvailable && !active.some((v) => !v.parallel)) expect(d.chosen.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  test("under an external order with fill: builtin, its lanes' slots come first and the rest of the width is filled, each fill slot recorded", () => {
    fc.assert(
      fc.property(
        fc.array(laneArb, { minLength: 1, maxLength: 10 }),
        gradesArb,
        fc.integer({ min: 1, max: 6 }),
        seedArb,
        fc.array(fc.nat(12), { minLength: 1, maxLength: 4 }),
        (lanes, grades, width, seed, named) => {
          const { view, blocked } = buildView(lanes);
          const order = named.map((i) => ({ lane: `l${i}`, step: 'alternatives', reason: `alternative l${i}` }));
          const input: PlanInput = {
            view,
            width,
            seed,
            now: 100,
            learning: learningOf(grades),
            fairness: emptyFairness(),
            settings: planSettings({ fill: 'builtin' }),
            tasks: null,
            inputs: { blocked, external: { ok: true, order, task: null } },
          };
          const d = planTick(input);
          const byId = new Map(view.map((v) => [v.laneId, v]));
          const available = availableOf(view, blocked);
          const isNamed = (lane: string) => order.some((o) => o.lane === lane && available.has(lane));
          // Every slot is chosen or skipped once; chosen ones are idle and within width; every available lane was considered.
          expect([...slotIds(d), ...d.skipped.map((s) => s.laneId)].sort()).toEqual(view.map((v) => v.laneId).sort());
          expect(d.chosen.length).toBeLessThanOrEqual(width);
          for (const c of d.chosen) expect(byId.get(c.laneId)!.state).toBe('idle');
          expect(new Set(lanesOf(d))).toEqual(available);
          // The named lanes' slots first; then one fill fallback per other slot, naming it.
          const kinds = d.chosen.map((c) => isNamed(c.lane));
          expect(kinds).toEqual([...kinds].sort((a, b) => Number(b) - Number(a)));
          const fills = d.fallbacks.filter((f) => f.step === 'fill').map((f) => f.reason.split(':')[0]);
          expect(fills).toEqual(d.chosen.filter((c) => !isNamed(c.lane)).map((c) => c.laneId));
          // The width is filled: with every slot parallel, as many as there are idle slots worth taking.
          if (view.every((v) => v.parallel)) {
            const worth = view.filter(
              (v) =>
                v.state === 'idle' &&
                available.has(v.lane) &&
                (isNamed(v.lane) || d.ranked.find((r) => r.lane === v.lane)!.score > 0),
            );
            expect(d.chosen.length).toBe(Math.min(width, worth.length));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test('the draws of available lanes do not depend on which other lanes are masked', () => {
    const masks = [{ enabled: false }, { state: 'running' }, { state: 'cooldown' }, { blocked: true }] as const;
    fc.assert(
      fc.property(
        fc.array(laneArb, { minLength: 1, maxLength: 8 }),
        gradesArb,
        seedArb,
        fc.constantFrom(...masks),
        fc.nat(20),
        (lanes, grades, seed, mask, pick) => {
          const { view, blocked } = buildView(lanes);
          const learning = learningOf(grades);
          const run = (v: LaneView[], b: string[]) =>
            plan({ view: v, width: 2, seed, learning, inputs: { blocked: b } });
          const base = run(view, blocked);

          // An extra lane, masked: the shared lanes' scores are the same, and so is their order.
          const extra: LaneView = {
            laneId: 'zz',
            lane: 'zz',
            state: 'state' in mask ? mask.state : 'idle',
            enabled: !('enabled' in mask),
            parallel: true,
          };
          const withExtra = run([...view, extra], 'blocked' in mask ? [...blocked, 'lane:zz'] : blocked);
          expect(withExtra.ranked).toEqual(base.ranked);

          // One of the available lanes masked: the others keep their score, tiebreak and components.
          const available = [...availableOf(view, blocked)];
          if (available.length === 0) return;
          const gone = available[pick % available.length]!;
          const fewer = run(
            view.map((v) => (v.lane === gone ? { ...v, enabled: false } : v)),
            blocked,
          );
          expect(lanesOf(fewer)).not.toContain(gone);
          for (const r of fewer.ranked) expect(r).toEqual(base.ranked.find((b) => b.lane === r.lane));
        },
      ),
      { numRuns: 200 },
    );
  });

  test('masked slots in a concrete view: their reasons, and the lane slot held elsewhere', () => {
    const view = [
      slot('off', 'idle', { enabled: false }),
      slot('busy', 'running'),
      slot('cool', 'cooldown'),
      slot('held'),
      slot('free'),
    ];
    const d = plan({ view, inputs: { blocked: ['lane:held'] } });
    expect(slotIds(d)).toEqual(['free']);
    expect(d.skipped).toEqual([
      { laneId: 'off', reason: 'disabled' },
      { laneId: 'busy', reason: 'running' },
      { laneId: 'cool', reason: 'cooldown' },
      { laneId: 'held', reason: 'claim_blocked: lane:held is held elsewhere' },
    ]);
    expect(lanesOf(d)).toEqual(['free']);
  });

  test('planTick does not change its inputs (all frozen, with tasks, signals and an external verdict)', () => {
    const input: PlanInput = deepFreeze({
      view: [slot('code'), slot('code.2'), slot('docs'), slot('ops', 'running')],
      width: 3,
      seed: 5,
      now: 50,
      learning: graded({ code: 0.7, docs: 0.4 }),
      fairness: {
        deficits: { docs: 1 },
        history: [
          { lane: 'code', at: 1 },
          { lane: 'code', at: 2 },
          { lane: 'code', at: 3 },
        ],
      },
      settings: planSettings({ fairness: fairnessSettings({ targets: { docs: 0.5 } }), allowlist: ['docs'] }),
      tasks: [task('t1'), task('t2', { state: 'active' }), task('t3', { lane: 'docs' })],
      inputs: {
        signals: { values: { code: 0.5 } },
        blocked: ['task:t9'],
        external: {
          ok: true,
          order: [{ lane: 'code', step: 's', reason: 'r' }],
          task: { id: 't1', lane: 'code', claim: 'task:t1' },
        },
      },
    });
    const before = JSON.stringify(input);
    const d = planTick(input);
    expect(d.chosen.length).toBeGreaterThan(0);
    expect(JSON.stringify(input)).toBe(before);
  });
});

describe('determinism', () => {
  const input = (seed: number): PlanInput => ({
    view: [...idle('a', 'b', 'c', 'd', 'e', 'f'), slot('a.2'), slot('g', 'running')],
    width: 3,
    seed,
    now: 10,
    learning: graded({ a: 0.6, b: 0.5, c: 0.55 }, 3),
    fairness: { deficits: {}, history: [{ lane: 'a', at: 1 }] },
    settings: planSettings(),
    tasks: [task('x', { lane: 'b' })],
    inputs: {},
  });

  test('the same state and seed give the identical decision', () => {
    for (const seed of [0, 1, 42, 0xffffffff]) expect(planTick(input(seed))).toEqual(planTick(input(seed)));
  });

  test('different seeds give different orders', () => {
    const orders = new Set(
      [1, 2, 3, 4, 5, 6, 7, 8].map((seed) => lanesOf(planTick({ ...input(seed), tasks: null })).join(',')),
    );
    expect(orders.size).toBeGreaterThanOrEqual(4);
  });
});

describe('signals', () => {
  test('a signal enters the score as weight × clamp(value, −1, 1)', () => {
    const d = plan({
      view: idle('a', 'b', 'c', 'd'),
      width: 4,
      settings: planSettings({ signalWeight: 0.4 }),
      inputs: { signals: { values: { a: 0.5, b: 3, c: -7 } } },
    });
    const by = Object.fromEntries(d.ranked.map((r) => [r.lane, r]));
    expect(by.a!.components.signal).toBe(0.2);
    expect(by.b!.components.signal).toBe(0.4);
    expect(by.c!.components.signal).toBe(-0.4);
    expect(by.d!.components.signal).toBe(0);
    for (const r of d.ranked) expect(r.score).toBeCloseTo(r.components.sample + r.components.signal, 6);
    // Nothing learned: every sample is the same, so the signals alone order the lanes.
    expect(lanesOf(d)).toEqual(['b', 'a', 'd', 'c']);
    expect(d.fallbacks).toEqual([]);
  });

  test('signals that could not be read are recorded as a fallback and add nothing', () => {
    const d = plan({ view: idle('a', 'b'), inputs: { signals: { error: 'signals.json: unexpected token' } } });
    expect(d.fallbacks).toEqual([
      { step: 'signals', reason: 'external signals ignored this tick: signals.json: unexpected token' },
    ]);
    for (const r of d.ranked) expect(r.components.signal).toBe(0);
    expect(d.chosen).toHaveLength(2);
  });
});

describe('task tiers in the planner', () => {
  test('active-task lanes before ready-task lanes before lane-level lanes, whatever was learned', () => {
    const tasks = [
      task('a1', { lane: 'act', state: 'active', priority: 1 }),
      task('r1', { lane: 'rdy' }),
      task('b1', { lane: 'lvl', state: 'backlog' }),
    ];
    const learning = graded({ act: 0, rdy: 0.1, lvl: 1 }, 15);
    for (let seed = 0; seed < 20; seed++) {
      const d = plan({ view: idle('lvl', 'rdy', 'act'), width: 3, seed, learning, tasks });
      expect(lanesOf(d)).toEqual(['act', 'rdy', 'lvl']);
      expect(d.ranked.map((r) => r.components.tier)).toEqual([1, 2, 3]);
      expect(d.chosen.map((c) => c.task?.id ?? null)).toEqual(['a1', 'r1', null]);
      // The score alone would have put lvl first.
      expect(d.ranked[2]!.score).toBeGreaterThan(d.ranked[0]!.score);
      expect(slotIds(plan({ view: idle('lvl', 'rdy', 'act'), width: 1, seed, learning, tasks }))).toEqual(['act']);
    }
  });

  test('among lanes with ready tasks, higher priority first', () => {
    const tasks = [
      task('h', { lane: 'hi', priority: 4 }),
      task('m', { lane: 'mid', priority: 2 }),
      task('l', { lane: 'lo', priority: 1 }),
      task('l2', { lane: 'lo', priority: 1 }),
    ];
    const learning = graded({ hi: 0, mid: 0.2, lo: 1 }, 15);
    for (let seed = 0; seed < 20; seed++) {
      const d = plan({ view: idle('lo', 'mid', 'hi'), width: 3, seed, learning, tasks });
      expect(lanesOf(d)).toEqual(['hi', 'mid', 'lo']);
      expect(d.ranked.map((r) => r.components.priority)).toEqual([4, 2, 1]);
    }
  });

  test('each task-backed slot carries the next task of its lane; two slots get two tasks', () => {
    const tasks = [task('t-mid', { priority: 2 }), task('t-top', { priority: 3 }), task('t-low', { priority: 1 })];
    const d = plan({ view: [slot('code'), slot('code.2')], width: 2, tasks });
    expect(slotIds(d)).toEqual(['code', 'code.2']);
    expect(d.chosen[0]!.task).toEqual({ id: 't-top', key: 'task:t-top', path: '/tasks/t-top.md', tier: 2 });
    expect(d.chosen[1]!.task).toEqual({ id: 't-mid', key: 'task:t-mid', path: '/tasks/t-mid.md', tier: 2 });
    expect(d.spare.code!.map((t) => t.id)).toEqual(['t-low']);
  });

  test('a lane with more idle slots than tasks runs the rest as lane-level work', () => {
    const d = plan({ view: [slot('code'), slot('code.2'), slot('code.3')], width: 3, tasks: [task('only')] });
    expect(d.chosen.map((c) => c.task?.id ?? null)).toEqual(['only', null, null]);
  });

  test('a task whose claim is held elsewhere is not assigned (claim_blocked)', () => {
    const tasks = [task('held', { state: 'active' }), task('free')];
    const d = plan({ view: [slot('code'), slot('code.2')], width: 2, tasks, inputs: { blocked: ['task:held'] } });
    expect(d.chosen.map((c) => c.task?.id ?? null)).toEqual(['free', null]);
    expect(d.ranked[0]!.components.tier).toBe(2);
    expect(JSON.stringify(d)).not.toContain('task:held');
    // With its only task held elsewhere, a lane is back to lane-level work.
    const only = plan({ view: idle('code'), tasks: [task('held')], inputs: { blocked: ['task:held'] } });
    expect(only.chosen).toEqual([expect.objectContaining({ laneId: 'code', task: null })]);
    expect(only.ranked[0]!.components.tier).toBe(3);
  });

  test('without a task directory every lane is lane-level work', () => {
    const d = plan({ view: idle('a', 'b'), tasks: null });
    expect(d.chosen.every((c) => c.task === null)).toBe(true);
    expect(d.ranked.every((r) => r.components.tier === 3 && r.components.priority === null)).toBe(true);
  });
});

describe('external verdict in the planner', () => {
  const view = [...idle('a', 'b', 'c', 'd'), slot('e', 'running')];
  const ok = (order: [string, string?][], extra: Partial<Extract<ExternalVerdict, { ok: true }>> = {}): TickInputs => ({
    external: {
      ok: true,
      order: order.map(([lane, step = `pick-${lane}`]) => ({ lane, step, reason: `why ${lane}` })),
      task: null,
      ...extra,
    },
  });

  test("an ok verdict's order is used, and lanes it did not name are skipped with that reason", () => {
    const d = plan({ view, width: 2, learning: graded({ c: 0, a: 0, b: 1, d: 1 }), inputs: ok([['c'], ['a'], ['c']]) });
    expect(d.source).toBe('external');
    expect(lanesOf(d)).toEqual(['c', 'a']);
    expect(slotIds(d)).toEqual(['c', 'a']);
    expect(d.fallbacks).toEqual([]);
    expect(d.skipped).toEqual(
      expect.arrayContaining([
        { laneId: 'b', reason: 'not named by the external selector' },
        { laneId: 'd', reason: 'not named by the external selector' },
        { laneId: 'e', reason: 'running' },
      ]),
    );
  });

  test('a named lane that cannot run is recorded as a fallback and the next step is taken', () => {
    const d = plan({
      view,
      width: 1,
      inputs: ok([
        ['e', 'top'],
        ['gone', 'second'],
        ['b', 'third'],
        ['a', 'fourth'],
      ]),
    });
    expect(d.source).toBe('external');
    expect(d.fallbacks).toEqual([
      { step: 'top', reason: 'why e: e cannot run now; next step' },
      { step: 'second', reason: 'why gone: gone cannot run now; next step' },
    ]);
    expect(slotIds(d)).toEqual(['b']);
    expect(d.skipped).toContainEqual({ laneId: 'a', reason: 'width reached' });
  });

  test("the verdict's task goes to the first slot of its lane, with the verdict's claim key", () => {
    const tasks = [
      task('top', { priority: 4 }),
      task('fix', { priority: 3, path: '/t/fix.md' }),
      task('other', { priority: 1 }),
    ];
    const view3 = [slot('code'), slot('code.2'), slot('code.3'), slot('docs')];
    const d = plan({
      view: view3,
      width: 4,
      tasks,
      inputs: ok([['docs'], ['code']], { task: { id: 'fix', lane: 'code', claim: 'task:fix' } }),
    });
    // The verdict's task is taken out of the lane's own candidates: no slot gets it twice.
    expect(d.chosen.map((c) => [c.laneId, c.task?.id ?? null])).toEqual([
      ['docs', null],
      ['code', 'fix'],
      ['code.2', 'top'],
      ['code.3', 'other'],
    ]);
    expect(d.chosen[1]!.task).toEqual({ id: 'fix', key: 'task:fix', path: '/t/fix.md', tier: null });
    // Without a task directory the task still goes out, with no path.
    const bare = plan({
      view: idle('code'),
      inputs: ok([['code']], { task: { id: 'gh-7', lane: 'code', claim: 'github:o/r#7' } }),
    });
    expect(bare.chosen[0]!.task).toEqual({ id: 'gh-7', key: 'github:o/r#7', path: null, tier: null });
  });

  test("a verdict's task whose claim is held elsewhere is not assigned; the lane works without it", () => {
    const tasks = [task('fix'), task('next', { priority: 1 })];
    const d = plan({
      view: idle('code'),
      tasks,
      inputs: { ...ok([['code']], { task: { id: 'fix', lane: 'code', claim: 'task:fix' } }), blocked: ['task:fix'] },
    });
    expect(d.fallbacks).toEqual([
      {
        step: 'selected',
        reason: 'claim_blocked: task:fix is held elsewhere; the lane takes its next task or lane-level work',
      },
    ]);
    expect(d.chosen).toEqual([
      expect.objectContaining({ laneId: 'code', task: expect.objectContaining({ id: 'next' }) }),
    ]);
    expect(JSON.stringify(d.chosen)).not.toContain('task:fix');
  });

  test('a verdict that broke the contract falls back to the built-in order, with the reason', () => {
    const learning = graded({ a: 0.2, b: 0.9 });
    const d = plan({
      view,
      width: 2,
      seed: 9,
      learning,
      inputs: { external: { ok: false, reason: 'stdout is not JSON' } },
    });
    expect(d.source).toBe('builtin');
    expect(d.fallbacks).toEqual([{ step: 'builtin', reason: 'selector.contract_violation: stdout is not JSON' }]);
    const builtin = plan({ view, width: 2, seed: 9, learning });
    expect(d.chosen).toEqual(builtin.chosen);
    expect(d.ranked).toEqual(builtin.ranked);
  });

  test('a lane named twice in the allowlist is still dispatched once', () => {
    const d = plan({
      view,
      width: 2,
      settings: planSettings({ allowlist: ['d', 'd', 'b'] }),
      inputs: ok([['e', 'top']]),
    });
    expect(slotIds(d)).toEqual(['d', 'b']);
  });

  test('when no lane the payload named can run, the allowlist lanes are used', () => {
    const d = plan({
      view,
      width: 3,
      settings: planSettings({ allowlist: ['e', 'd', 'b'] }),
      inputs: ok([
        ['e', 'top'],
        ['nope', 'next'],
      ]),
    });
    expect(d.source).toBe('external');
    expect(lanesOf(d)).toEqual(['d', 'b']);
    expect(d.fallbacks.map((f) => f.step)).toEqual(['top', 'next', 'allowlist']);
    expect(d.fallbacks.at(-1)!.reason).toBe(
      'no lane the selector named can run now (4 available); selector.allowlist stands in: d, b',
    );
    expect(d.skipped).toEqual(
      expect.arrayContaining([
        { laneId: 'a', reason: 'not named by the external selector' },
        { laneId: 'c', reason: 'not named by the external selector' },
      ]),
    );
    // No allowlist lane can run either: nothing is chosen, and the record says so.
    const none = plan({ view, width: 3, settings: planSettings({ allowlist: ['e'] }), inputs: ok([['e', 'top']]) });
    expect(none.chosen).toEqual([]);
    expect(none.fallbacks.at(-1)).toEqual({
      step: 'allowlist',
      reason: 'no lane the selector named can run now, and no selector.allowlist lane can either',
    });
    expect(
      none.skipped
        .filter((s) => s.reason === 'not named by the external selector')
        .map((s) => s.laneId)
        .sort(),
    ).toEqual(['a', 'b', 'c', 'd']);
  });

  test('fill: builtin gives the width the external order leaves to the other lanes in the built-in order, each slot a fill fallback', () => {
    const learning = graded({ a: 0.9, b: 0.1, c: 0.5, d: 0.7 });
    const settings = planSettings({ fill: 'builtin' });
    const d = plan({ view, width: 3, learning, settings, inputs: ok([['c', 'top']]) });
    const builtin = plan({ view, width: 4, learning });
    const rest = lanesOf(builtin).filter((l) => l !== 'c');
    expect(d.source).toBe('external');
    expect(slotIds(d)).toEqual(['c', ...rest.slice(0, 2)]);
    expect(lanesOf(d)).toEqual(['c', ...rest]);
    expect(d.fallbacks).toEqual(
      rest.slice(0, 2).map((l) => ({
        step: 'fill',
        reason: `${l}: next in the built-in ranking; the selector's lanes took 1 of 3 slots (selector.fill: builtin)`,
      })),
    );
    expect(d.skipped).toContainEqual({ laneId: rest[2], reason: 'width reached' });
    expect(d.skipped.some((s) => s.reason === 'not named by the external selector')).toBe(false);
    // fill: none keeps to the selector's lanes.
    const none = plan({
      view,
      width: 3,
      learning,
      settings: planSettings({ fill: 'none' }),
      inputs: ok([['c', 'top']]),
    });
    expect(slotIds(none)).toEqual(['c']);
    expect(none.fallbacks).toEqual([]);
  });

  test("the selector's lanes take all their slots before a fill lane gets one; a fill lane must score above 0", () => {
    const view2 = [slot('c'), slot('c.2'), ...idle('a', 'b')];
    const settings = planSettings({ fill: 'builtin', signalWeight: 5 });
    // b's signal pulls its score below 0: the built-in order would not take it, nor does fill.
    const d = plan({ view: view2, width: 4, settings, inputs: { ...ok([['c']]), signals: { values: { b: -1 } } } });
    expect(slotIds(d)).toEqual(['c', 'c.2', 'a']);
    expect(d.fallbacks.map((f) => f.reason)).toEqual([
      "a: next in the built-in ranking; the selector's lanes took 2 of 4 slots (selector.fill: builtin)",
    ]);
    expect(d.skipped).toContainEqual({ laneId: 'b', reason: expect.stringMatching(/^score -[\d.]+ ≤ 0/) });
    // A named lane is taken whatever its score: the selector chose it.
    const named = plan({ view: view2, width: 4, settings, inputs: { ...ok([['b']]), signals: { values: { b: -1 } } } });
    expect(slotIds(named)[0]).toBe('b');
  });

  test('when no lane the payload named can run, fill: builtin fills the width from the built-in order', () => {
    const d = plan({
      view,
      width: 2,
      seed: 4,
      settings: planSettings({ fill: 'builtin' }),
      inputs: ok([['e', 'top']]),
    });
    const builtin = plan({ view, width: 2, seed: 4 });
    expect(slotIds(d)).toEqual(slotIds(builtin));
    expect(d.fallbacks.map((f) => f.step)).toEqual(['top', 'external', 'fill', 'fill']);
    expect(d.fallbacks[1]!.reason).toBe('no lane the selector named can run now, and selector.allowlist is empty');
  });

  test('the allowlist standing in for a payload is a recorded fallback, with the lanes it put in', () => {
    const why = 'the payload named no configured lane (named: ghost); selector.allowlist stands in';
    const verdict = {
      ...ok([]),
      external: {
        ok: true as const,
        order: [
          { lane: 'd', step: 'allowlist', reason: why },
          { lane: 'e', step: 'allowlist', reason: why },
        ],
        task: null,
        ignored: [{ value: 'ghost', step: 'selected', reason: 'selected.category "ghost" is not a configured lane' }],
      },
    };
    const d = plan({ view, width: 1, inputs: verdict });
    expect(slotIds(d)).toEqual(['d']);
    expect(d.fallbacks).toEqual([
      { step: 'selected', reason: 'selected.category "ghost" is not a configured lane' },
      { step: 'allowlist', reason: `${why}: d, e` },
      { step: 'allowlist', reason: `${why}: e cannot run now; next step` },
    ]);
  });

  test('entries of the payload that named no configured lane are recorded as fallbacks', () => {
    const d = plan({
      view,
      width: 1,
      inputs: ok([['a']], { ignored: [{ value: 'ghost', step: 'lanes[0]', reason: 'unknown lane "ghost"' }] }),
    });
    expect(d.fallbacks).toEqual([{ step: 'lanes[0]', reason: 'unknown lane "ghost"' }]);
    expect(slotIds(d)).toEqual(['a']);
  });
});

describe('pivotTarget', () => {
  const spare = { a: [{ id: 'a2', key: 'task:a2', path: null, tier: 2 as const }], b: [] };
  test('a first task denial tries the next task of the same slot', () => {
    const view = idle('a', 'b');
    expect(pivotTarget(view, ['a', 'b'], [], { lane: 'a', laneId: 'a', taskDenied: true, denials: 1 }, spare)).toEqual({
      laneId: 'a',
      lane: 'a',
      task: spare.a[0],
      reason: 'task claim denied: next task of the lane',
    });
  });

  test('a second denial, or a lane without a next task, moves on to the next lane of the order', () => {
    const view = idle('a', 'b', 'c');
    expect(
      pivotTarget(view, ['a', 'b', 'c'], ['a'], { lane: 'a', laneId: 'a', taskDenied: true, denials: 2 }, spare),
    ).toMatchObject({ lane: 'b', task: null, reason: 'second task denial in the lane: next lane' });
    expect(
      pivotTarget(view, ['a', 'c', 'b'], [], { lane: 'b', laneId: 'b', taskDenied: true, denials: 1 }, spare),
    ).toMatchObject({ lane: 'a', task: spare.a[0] });
  });

  test('busy, disabled and run-alone lanes are passed over; nothing moves while a run-alone lane runs', () => {
    const view = [
      slot('a'),
      slot('b', 'claiming'),
      slot('c', 'idle', { enabled: false }),
      slot('d', 'idle', { parallel: false }),
      slot('e'),
    ];
    expect(
      pivotTarget(view, ['b', 'c', 'd', 'e'], ['a'], { lane: 'a', laneId: 'a', taskDenied: false, denials: 1 }, {}),
    ).toEqual({ laneId: 'e', lane: 'e', task: null, reason: 'lane slot denied: next lane' });
    const alone = [slot('a'), slot('x', 'running', { parallel: false }), slot('e')];
    expect(pivotTarget(alone, ['e'], ['a'], { lane: 'a', laneId: 'a', taskDenied: false, denials: 1 }, {})).toBeNull();
    expect(
      pivotTarget(idle('a'), ['a'], ['a'], { lane: 'a', laneId: 'a', taskDenied: false, denials: 1 }, {}),
    ).toBeNull();
  });
});

describe('no-op backoff', () => {
  test('a lane with 3, 6 or 10 noops in a row sits out about half, three quarters or 87.5% of its ticks, with the reason', () => {
    const view = idle('a', 'b');
    const skippedShare = (n: number) => {
      let skipped = 0;
      for (let seed = 0; seed < 2000; seed++) {
        const d = plan({ view, width: 2, seed, fairness: { deficits: {}, history: [], noops: { a: n } } });
        const s = d.skipped.find((x) => x.laneId === 'a');
        if (s) {
          skipped++;
          expect(s.reason).toBe(
            `noop backoff: ${n} noop sessions in a row, ${n >= 10 ? 87.5 : n >= 6 ? 75 : 50}% of its ticks skipped`,
          );
          expect(d.ranked.map((r) => r.lane)).toEqual(['b']);
        }
      }
      return skipped / 2000;
    };
    expect(skippedShare(2)).toBe(0);
    expect(skippedShare(3)).toBeCloseTo(0.5, 1);
    expect(skippedShare(6)).toBeCloseTo(0.75, 1);
    expect(skippedShare(10)).toBeCloseTo(0.875, 1);
  });
});
