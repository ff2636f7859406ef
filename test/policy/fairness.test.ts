import { DAY, fairnessSettings as settings } from '../helpers/settings.js';
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import {
  DEFICIT_CAP,
  HISTORY_MAX,
  emptyFairness,
  fairnessComponents,
  noteStart,
  type Fairness,
  type FairnessSettings,
} from '../../src/policy/fairness.js';
import { emptyLearning, learn, type Learning } from '../../src/policy/learning.js';
import { planTick, type LaneView, type PlanSettings } from '../../src/policy/plan-tick.js';
import { DEFAULT_GATE } from '../../src/policy/resource-gate.js';

const planSettings = (fairness: FairnessSettings): PlanSettings => ({
  fairness,
  signalWeight: 0.1,
  gate: DEFAULT_GATE,
  allowlist: [],
});
const idle = (lane: string): LaneView => ({ laneId: lane, lane, state: 'idle', enabled: true, parallel: true });
/** A fairness state whose history is the given lanes, one start per millisecond from `from`. */
const history = (lanes: string[], from = 0): Fairness => ({
  deficits: {},
  history: lanes.map((lane, i) => ({ lane, at: from + i })),
});

describe('target-share deficit (noteStart)', () => {
  const s = settings({ targets: { a: 0.3, b: 0.5 } });
  const enabled = ['a', 'b', 'c'];

  test('every start adds each target lane its share; the lane that started loses one', () => {
    const f1 = noteStart(emptyFairness(), 'c', 1, s, enabled);
    expect(f1.deficits).toEqual({ a: 0.3, b: 0.5 });
    const f2 = noteStart(f1, 'c', 2, s, enabled);
    const f3 = noteStart(f2, 'c', 3, s, enabled);
    expect(f3.deficits).toEqual({ a: 0.9, b: 1.5 }); // no 0.8999999999
    const f4 = noteStart(f3, 'b', 4, s, enabled);
    expect(f4.deficits).toEqual({ a: 1.2, b: 1 });
    const f5 = noteStart(f4, 'a', 5, s, enabled);
    expect(f5.deficits).toEqual({ a: 0.5, b: 1.5 });
  });

  test('a lane without a target share has no deficit at all', () => {
    let f = emptyFairness();
    for (let i = 0; i < 5; i++) f = noteStart(f, 'c', i, s, enabled);
    expect(Object.keys(f.deficits).sort()).toEqual(['a', 'b']);
  });

  test('the deficit never goes below zero', () => {
    const f1 = noteStart(emptyFairness(), 'a', 1, s, enabled);
    expect(f1.deficits.a).toBe(0); // 0 + 0.3 − 1, clamped
    const f2 = noteStart({ deficits: { a: 0.4, b: 0 }, history: [] }, 'a', 2, s, enabled);
    expect(f2.deficits.a).toBe(0); // 0.4 + 0.3 − 1 = −0.3, clamped
    expect(noteStart({ deficits: { a: 0.8, b: 0 }, history: [] }, 'a', 2, s, enabled).deficits.a).toBe(0.1);
  });

  test(`the deficit never goes above DEFICIT_CAP (${DEFICIT_CAP})`, () => {
    let f = emptyFairness();
    for (let i = 0; i < 40; i++) f = noteStart(f, 'c', i, s, enabled);
    expect(f.deficits).toEqual({ a: DEFICIT_CAP, b: DEFICIT_CAP });
    // From the cap, the lane's own start takes one away from the cap, not from the uncapped sum.
    expect(noteStart(f, 'a', 41, s, enabled).deficits.a).toBe(4.3);
  });

  test('a lane that is not enabled does not build up a deficit', () => {
    const f = noteStart({ deficits: { a: 1 }, history: [] }, 'c', 1, s, ['b', 'c']);
    expect(f.deficits).toEqual({ a: 1, b: 0.5 });
  });

  test('property: deficits stay within [0, DEFICIT_CAP] and the input is never changed', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 60 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (starts, share) => {
          const st = settings({ targets: { a: share } });
          let f = emptyFairness();
          for (const [i, lane] of starts.entries()) {
            const before = JSON.stringify(f);
            const next = noteStart(f, lane, i, st, enabled);
            expect(JSON.stringify(f)).toBe(before);
            expect(next.deficits.a).toBeGreaterThanOrEqual(0);
            expect(next.deficits.a).toBeLessThanOrEqual(DEFICIT_CAP);
            f = next;
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('target-share deficit in the planner', () => {
  test('a lane more than one session below its target share gets shareWeight × the excess in its score', () => {
    const view = ['a', 'b'].map(idle);
    const fairness: Fairness = { deficits: { a: 1.6 }, history: [] };
    const plan = (shareWeight: number) =>
      planTick({
        view,
        width: 2,
        seed: 11,
        now: 0,
        learning: emptyLearning(),
        fairness,
        settings: planSettings(settings({ targets: { a: 0.3 }, shareWeight })),
        tasks: null,
        inputs: {},
      });
    const d = plan(2);
    const a = d.ranked.find((r) => r.lane === 'a')!;
    const b = d.ranked.find((r) => r.lane === 'b')!;
    expect(a.components.deficit).toBe(1.2);
    expect(a.score).toBeCloseTo(a.components.sample + 1.2, 6);
    expect(b.components.deficit).toBe(0);
    expect(b.score).toBeCloseTo(b.components.sample, 6);
    expect(d.ranked[0]!.lane).toBe('a');
    // The same draw, without a deficit: the component is gone.
    const none = planTick({
      view,
      width: 2,
      seed: 11,
      now: 0,
      learning: emptyLearning(),
      fairness: emptyFairness(),
      settings: planSettings(settings({ targets: { a: 0.3 } })),
      tasks: null,
      inputs: {},
    });
    expect(none.ranked.find((r) => r.lane === 'a')!.components).toMatchObject({
      deficit: 0,
      sample: a.components.sample,
    });
  });

  /** planTick + noteStart, width 1, five lanes with the same learned grades; the share of starts of lane a. */
  function simulate(targets: Record<string, number>, ticks = 600): number {
    const lanes = ['a', 'b', 'c', 'd', 'e'];
    let learning: Learning = emptyLearning();
    for (let i = 0; i < 10; i++) for (const l of lanes) learning = learn(learning, l, 0.5);
    const st = settings({ targets });
    let fairness = emptyFairness();
    let a = 0;
    for (let t = 0; t < ticks; t++) {
      const d = planTick({
        view: lanes.map(idle),
        width: 1,
        seed: 1000 + t * 7919,
        now: t,
        learning,
        fairness,
        settings: planSettings(st),
        tasks: null,
        inputs: {},
      });
      expect(d.chosen).toHaveLength(1);
      const lane = d.chosen[0]!.lane;
      if (lane === 'a') a++;
      fairness = noteStart(fairness, lane, t, st, lanes);
    }
    return a / ticks;
  }

  test('without a target share, one lane of five gets about a fifth of the starts', () => {
    const share = simulate({});
    expect(share).toBeGreaterThan(0.13);
    expect(share).toBeLessThan(0.27);
  });

  test('a lane with target share 0.3 gets about its share of the starts, not far more', () => {
    const share = simulate({ a: 0.3 }, 2000);
    expect(share).toBeGreaterThan(0.27);
    expect(share).toBeLessThan(0.4);
  });

  test('one session of deficit is slack: no bonus until the lane is more than a session behind', () => {
    const c = (d: number) =>
      fairnessComponents(
        { deficits: { a: d }, history: [] },
        ['a'],
        0,
        settings({ targets: { a: 0.3 }, shareWeight: 1 }),
      ).a!.deficit;
    expect([c(0.3), c(1), c(1.5)]).toEqual([0, 0, 0.5]);
  });
});

describe('plateau: monotony', () => {
  const s = settings();
  test('a lane with the last 3 sessions in a row gets −penalty; 2 in a row gets nothing', () => {
    const three = fairnessComponents(history(['b', 'a', 'a', 'a']), ['a', 'b'], 10, s);
    expect(three.a).toMatchObject({ monotony: -0.1, streak: 3 });
    expect(three.b).toMatchObject({ monotony: 0, streak: 0 });
    const two = fairnessComponents(history(['a', 'b', 'a', 'a']), ['a', 'b'], 10, s);
    expect(two.a).toMatchObject({ monotony: 0, streak: 2 });
    const five = fairnessComponents(history(['a', 'a', 'a', 'a', 'a']), ['a'], 10, s);
    expect(five.a).toMatchObject({ monotony: -0.1, streak: 5 });
  });

  test('the streak is broken by any other lane, and the penalty follows the settings', () => {
    const f = history(['a', 'a', 'a', 'b']);
    expect(fairnessComponents(f, ['a', 'b'], 10, s).a!.monotony).toBe(0);
    const f2 = history(['a', 'a']);
    expect(fairnessComponents(f2, ['a'], 10, settings({ monotonyStreak: 2, monotonyPenalty: 0.25 })).a!.monotony).toBe(
      -0.25,
    );
  });

  test('the monotony penalty enters the planner score', () => {
    const fairness = history(['b', 'a', 'a', 'a']);
    const d = planTick({
      view: ['a', 'b'].map(idle),
      width: 2,
      seed: 3,
      now: 10,
      learning: emptyLearning(),
      fairness,
      settings: planSettings(settings()),
      tasks: null,
      inputs: {},
    });
    const a = d.ranked.find((r) => r.lane === 'a')!;
    expect(a.components.monotony).toBe(-0.1);
    expect(a.score).toBeCloseTo(a.components.sample - 0.1, 6);
  });
});

describe('plateau: neglect', () => {
  const s = settings();
  test('a lane under 5% of the window gets the bonus once the window holds neglectMinSessions sessions', () => {
    const nineteen = history(Array.from({ length: 19 }, (_, i) => (i % 2 ? 'a' : 'b')));
    expect(fairnessComponents(nineteen, ['a', 'b', 'c'], 100, s).c!.neglect).toBe(0);
    const twenty = history(Array.from({ length: 20 }, (_, i) => (i % 2 ? 'a' : 'b')));
    const c = fairnessComponents(twenty, ['a', 'b', 'c'], 100, s);
    expect(c.c).toMatchObject({ neglect: 0.1, share: 0 });
    expect(c.a).toMatchObject({ neglect: 0, share: 0.5 });
  });

  test('exactly 5% of the window is not neglected; just under is', () => {
    const one = history([...Array.from({ length: 19 }, () => 'a'), 'c']); // c: 1 of 20 = 5%
    expect(fairnessComponents(one, ['c'], 100, s).c).toMatchObject({ share: 0.05, neglect: 0 });
    const oneOf21 = history([...Array.from({ length: 20 }, () => 'a'), 'c']); // 1 of 21 < 5%
    expect(fairnessComponents(oneOf21, ['c'], 100, s).c!.neglect).toBe(0.1);
  });

  test('only sessions inside the window count for neglect', () => {
    // 20 old starts, a week and more ago, and 5 recent ones: the window holds too few.
    const f: Fairness = {
      deficits: {},
      history: [
        ...history(Array.from({ length: 20 }, () => 'a')).history,
        ...history(['a', 'a', 'b', 'b', 'a'], 8 * DAY).history,
      ],
    };
    expect(fairnessComponents(f, ['c'], 8 * DAY + 10, s).c!.neglect).toBe(0);
    // With a window that reaches back to the old starts, the same history calls c neglected.
    expect(fairnessComponents(f, ['c'], 8 * DAY + 10, settings({ neglectWindowMs: 9 * DAY })).c!.neglect).toBe(0.1);
  });
});

describe('plateau: flags', () => {
  test('the rules that fire are flagged even when their nudges are 0 (the defaults)', () => {
    const quiet = settings({ monotonyPenalty: 0, neglectBonus: 0 });
    const f = history([...Array.from({ length: 17 }, (_, i) => (i % 2 ? 'b' : 'c')), 'a', 'a', 'a']);
    const c = fairnessComponents(f, ['a', 'b', 'c', 'd'], 100, quiet);
    expect(c.a!.plateau).toEqual(['monotony']);
    expect(c.d!.plateau).toEqual(['neglected']);
    expect(c.b!.plateau).toEqual([]);
    for (const lane of ['a', 'd']) expect(c[lane]!.monotony + c[lane]!.neglect).toBe(0);
    // In the planner: flagged, with the streak and the window share, and the score is the draw alone.
    const d = planTick({
      view: ['a', 'd'].map(idle),
      width: 2,
      seed: 2,
      now: 100,
      learning: emptyLearning(),
      fairness: f,
      settings: planSettings(quiet),
      tasks: null,
      inputs: {},
    });
    const a = d.ranked.find((r) => r.lane === 'a')!;
    expect(a.components).toMatchObject({ plateau: ['monotony'], streak: 3, windowShare: 0.15 });
    expect(a.score).toBeCloseTo(a.components.sample, 6);
    const dl = d.ranked.find((r) => r.lane === 'd')!;
    expect(dl.components).toMatchObject({ plateau: ['neglected'], streak: 0, windowShare: 0 });
    expect(dl.score).toBeCloseTo(dl.components.sample, 6);
  });
});

describe('history', () => {
  test('starts older than the window are dropped when a start is noted', () => {
    const s = settings({ neglectWindowMs: 1000 });
    let f = emptyFairness();
    f = noteStart(f, 'a', 0, s, ['a']);
    f = noteStart(f, 'b', 500, s, ['a']);
    f = noteStart(f, 'c', 1000, s, ['a']);
    expect([...f.history].map((m) => m.lane)).toEqual(['a', 'b', 'c']); // exactly the window's length: kept
    f = noteStart(f, 'd', 1001, s, ['a']);
    expect([...f.history]).toEqual([
      { lane: 'b', at: 500 },
      { lane: 'c', at: 1000 },
      { lane: 'd', at: 1001 },
    ]);
  });

  test(`the history is bounded at HISTORY_MAX (${HISTORY_MAX}) starts, the newest kept`, () => {
    const full = history(
      Array.from({ length: HISTORY_MAX }, (_, i) => `l${i}`),
      1,
    );
    const f = noteStart(full, 'new', HISTORY_MAX + 1, settings(), []);
    expect(f.history).toHaveLength(HISTORY_MAX);
    expect(f.history.at(0)).toEqual({ lane: 'l1', at: 2 });
    expect(f.history.at(-1)).toEqual({ lane: 'new', at: HISTORY_MAX + 1 });
    expect(full.history).toHaveLength(HISTORY_MAX); // the input is not changed
  });
});
