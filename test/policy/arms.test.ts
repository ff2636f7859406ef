import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  armEligibility,
  chooseArm,
  eligibleArms,
  globalArmKey,
  laneArmKey,
  learnArm,
  warmStart,
  type ArmInfo,
  type TierBounds,
} from '../../src/policy/arms.js';
import { draw, emptyLearning, summary, type Learning } from '../../src/policy/learning.js';
import { gradeStats, NO_FORGETTING } from '../../src/policy/posterior.js';
import { deriveSeed, rngFromSeed } from '../../src/policy/prng.js';

const arm = (id: string, tier: number, cost: number, retired = false): ArmInfo => {
  const [backend, model] = id.split(':') as [string, string];
  return { id, backend, model, tier, cost, ...(retired ? { retired } : {}) };
};

/** `n` grades of `arm` in `lane`, alternating `mean ± half`. */
const feed = (l: Learning, lane: string, id: string, n: number, mean: number, half = 0.1): Learning => {
  let out = l;
  for (let i = 0; i < n; i++) out = learnArm(out, lane, id, i % 2 ? mean - half : mean + half);
  return out;
};

const SEEDS = Array.from({ length: 400 }, (_, i) => i * 7919 + 1);

describe('armEligibility', () => {
  test('one entry per lane arm, in the lane order, each exclusion with its reason', () => {
    const arms = [
      arm('cc:opus', 3, 10),
      arm('cc:sonnet', 2, 3),
      arm('cc:haiku', 1, 1),
      arm('gx:glm', 2, 1),
      arm('cx:old', 2, 2, true),
      arm('cx:gpt', 2, 2),
    ];
    const av = armEligibility(
      arms,
      ['cx:gpt', 'cc:haiku', 'cx:old', 'gx:glm', 'cc:opus', 'cc:sonnet', 'nope:x', 'cx:gpt'],
      { minTier: 2, maxTier: 3 },
      {
        gx: 'quota exhausted until 12:00',
        'cc:opus': 'crash-loop cooldown until 13:00',
      },
    );
    expect(av.map((a) => a.id)).toEqual(['cx:gpt', 'cc:haiku', 'cx:old', 'gx:glm', 'cc:opus', 'cc:sonnet', 'nope:x']);
    const by = Object.fromEntries(av.map((a) => [a.id, a]));
    expect(by['cx:gpt']).toEqual({ id: 'cx:gpt', eligible: true, reason: null });
    expect(by['cc:sonnet']).toEqual({ id: 'cc:sonnet', eligible: true, reason: null });
    expect(by['cc:haiku']!.reason).toMatch(/tier 1 below min_tier 2/);
    expect(by['cx:old']!.reason).toMatch(/retired/);
    expect(by['gx:glm']!.reason).toMatch(/backend gx blocked: quota exhausted until 12:00/);
    expect(by['cc:opus']!.reason).toMatch(/arm blocked: crash-loop cooldown until 13:00/);
    expect(by['nope:x']!.reason).toMatch(/not configured/);
    for (const a of av) expect(a.eligible).toBe(a.reason === null);
    expect(armEligibility(arms, ['cc:opus'], { maxTier: 2 }, {})[0]!.reason).toMatch(/tier 3 above max_tier 2/);
    expect(eligibleArms(arms, av).map((a) => a.id)).toEqual(['cx:gpt', 'cc:sonnet']);
  });

  test('property: chooseArm over the eligible arms never returns a retired, blocked or out-of-tier arm', () => {
    const backends = ['cc', 'gx', 'cx'];
    const armsArb = fc
      .uniqueArray(
        fc.record({
          backend: fc.constantFrom(...backends),
          model: fc.constantFrom('a', 'b', 'c', 'd'),
          tier: fc.integer({ min: 0, max: 4 }),
          cost: fc.integer({ min: 0, max: 5 }),
          retired: fc.boolean(),
        }),
        { selector: (a) => `${a.backend}:${a.model}`, maxLength: 10 },
      )
      .map((xs) => xs.map((x): ArmInfo => ({ id: `${x.backend}:${x.model}`, ...x })));
    fc.assert(
      fc.property(
        armsArb,
        fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
        fc.subarray([...backends, ...backends.flatMap((b) => ['a', 'b', 'c', 'd'].map((m) => `${b}:${m}`))]),
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd'), fc.double({ min: 0, max: 1, noNaN: true })), {
          maxLength: 20,
        }),
        fc.constantFrom('top-tier' as const, 'cheapest' as const, null),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        (arms, minTier, maxTier, blockedKeys, grades, prefer, seed) => {
          const bounds: TierBounds = {
            ...(minTier === undefined ? {} : { minTier }),
            ...(maxTier === undefined ? {} : { maxTier }),
          };
          const blocked = Object.fromEntries(blockedKeys.map((k) => [k, `blocked ${k}`]));
          let learning = emptyLearning();
          for (const [m, g] of grades) learning = learnArm(learning, 'lane', `cc:${m}`, g);
          const laneArms = [...arms.map((a) => a.id), 'ghost:x'];
          const av = armEligibility(arms, laneArms, bounds, blocked);
          const choice = chooseArm({ lane: 'lane', arms: eligibleArms(arms, av), learning, prefer, seed });
          const ok = (a: ArmInfo) =>
            !a.retired &&
            (minTier === undefined || a.tier >= minTier) &&
            (maxTier === undefined || a.tier <= maxTier) &&
            !(a.id in blocked) &&
            !(a.backend in blocked);
          if (!arms.some(ok)) return choice === null;
          const chosen = arms.find((a) => a.id === choice!.arm);
          expect(chosen).toBeDefined();
          expect(ok(chosen!)).toBe(true);
          for (const r of choice!.ranked) expect(ok(arms.find((a) => a.id === r.arm)!)).toBe(true);
          return true;
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('chooseArm', () => {
  const arms = [arm('cc:opus', 3, 10), arm('cc:sonnet', 2, 3), arm('gx:glm', 2, 1), arm('cc:haiku', 1, 1)];

  test('no eligible arm: null', () => {
    expect(chooseArm({ lane: 'x', arms: [], learning: emptyLearning(), prefer: null, seed: 1 })).toBeNull();
  });

  test('contextual: the lane-arm belief from 3 sessions in the lane, the global belief below', () => {
    // The arm is good in lane "a" and poor elsewhere, so its global belief differs from its lane one.
    // (No forgetting here: with the default detector, lane a's very different grades would, rightly,
    // alarm on the global belief and cut its evidence, which is not what this test is about.)
    let l = feed(emptyLearning('npts', NO_FORGETTING), 'b', 'cc:sonnet', 40, 0.2);
    l = feed(l, 'a', 'cc:sonnet', 2, 0.9);
    const only = [arms[1]!];
    const rng = (seed: number) => rngFromSeed(deriveSeed(seed, 'arm:a:cc:sonnet'));
    for (const seed of [1, 2, 3]) {
      const c = chooseArm({ lane: 'a', arms: only, learning: l, prefer: null, seed })!;
      expect(c.components.source).toBe('global');
      expect(c.components.evidence).toBeCloseTo(42, 6);
      expect(c.components.sample).toBeCloseTo(draw(l, globalArmKey('cc:sonnet'), rng(seed)), 6);
    }
    l = feed(l, 'a', 'cc:sonnet', 1, 0.9);
    expect(summary(l, laneArmKey('a', 'cc:sonnet')).weight).toBeCloseTo(3, 9);
    for (const seed of [1, 2, 3]) {
      const c = chooseArm({ lane: 'a', arms: only, learning: l, prefer: null, seed })!;
      expect(c.components.source).toBe('lane');
      expect(c.components.evidence).toBeCloseTo(3, 6);
      expect(c.components.sample).toBeCloseTo(draw(l, laneArmKey('a', 'cc:sonnet'), rng(seed)), 6);
    }
    // A lane where the arm never ran uses the global belief.
    expect(chooseArm({ lane: 'c', arms: only, learning: l, prefer: null, seed: 5 })!.components.source).toBe('global');
  });

  test('a clearly better arm is chosen far more often than a worse one', () => {
    let l = feed(emptyLearning(), 'a', 'cc:sonnet', 30, 0.8);
    l = feed(l, 'a', 'gx:glm', 30, 0.3);
    const pair = [arms[1]!, arms[2]!];
    const wins = SEEDS.filter(
      (seed) => chooseArm({ lane: 'a', arms: pair, learning: l, prefer: null, seed })!.arm === 'cc:sonnet',
    ).length;
    expect(wins / SEEDS.length).toBeGreaterThan(0.95);
    // Learned in another lane only: the global belief carries it.
    const elsewhere = SEEDS.filter(
      (seed) => chooseArm({ lane: 'z', arms: pair, learning: l, prefer: null, seed })!.arm === 'cc:sonnet',
    ).length;
    expect(elsewhere / SEEDS.length).toBeGreaterThan(0.95);
  });

  test('prefer top-tier: only the highest eligible tier competes, Thompson within it', () => {
    const pool = [...arms, arm('cx:gpt', 3, 4)];
    const seen = new Set<string>();
    for (const seed of SEEDS) {
      const c = chooseArm({ lane: 'strategic', arms: pool, learning: emptyLearning(), prefer: 'top-tier', seed })!;
      expect(['cc:opus', 'cx:gpt']).toContain(c.arm);
      expect(c.ranked.map((r) => r.arm).sort()).toEqual(['cc:opus', 'cx:gpt']);
      seen.add(c.arm);
    }
    expect(seen.size).toBe(2);
    // The top tier is the top among the eligible arms given.
    const c = chooseArm({
      lane: 'strategic',
      arms: arms.slice(1),
      learning: emptyLearning(),
      prefer: 'top-tier',
      seed: 3,
    })!;
    expect(['cc:sonnet', 'gx:glm']).toContain(c.arm);
  });

  test('prefer cheapest: only the lowest cost competes, even against a better learned arm', () => {
    const l = feed(emptyLearning(), 'triage', 'cc:opus', 30, 0.9);
    const seen = new Set<string>();
    for (const seed of SEEDS) {
      const c = chooseArm({ lane: 'triage', arms, learning: l, prefer: 'cheapest', seed })!;
      expect(['gx:glm', 'cc:haiku']).toContain(c.arm);
      seen.add(c.arm);
    }
    expect(seen.size).toBe(2);
  });

  test('same inputs and seed give the same choice (also after a JSON round trip); masking an arm leaves the others’ draws alone', () => {
    let l = feed(emptyLearning(), 'a', 'cc:sonnet', 10, 0.6);
    l = feed(l, 'a', 'gx:glm', 10, 0.6);
    const copy = JSON.parse(JSON.stringify(l)) as Learning;
    for (const seed of SEEDS.slice(0, 50)) {
      const one = chooseArm({ lane: 'a', arms, learning: l, prefer: null, seed });
      expect(chooseArm({ lane: 'a', arms, learning: l, prefer: null, seed })).toEqual(one);
      expect(chooseArm({ lane: 'a', arms: [...arms].reverse(), learning: copy, prefer: null, seed })).toEqual(one);
      const masked = chooseArm({
        lane: 'a',
        arms: arms.filter((a) => a.id !== 'cc:opus'),
        learning: l,
        prefer: null,
        seed,
      })!;
      expect(masked.ranked).toEqual(one!.ranked.filter((r) => r.arm !== 'cc:opus'));
    }
    const choices = new Set(SEEDS.map((seed) => chooseArm({ lane: 'a', arms, learning: l, prefer: null, seed })!.arm));
    expect(choices.size).toBeGreaterThan(1);
  });

  test('equal samples are broken by the seeded tiebreak, not by input order', () => {
    // Without evidence every NPTS sample is exactly 1 (only the optimistic pseudo-observation).
    const seen = new Set<string>();
    for (const seed of SEEDS.slice(0, 100)) {
      const c = chooseArm({ lane: 'a', arms, learning: emptyLearning(), prefer: null, seed })!;
      expect(c.ranked.every((r) => r.sample === 1)).toBe(true);
      for (let i = 1; i < c.ranked.length; i++)
        expect(c.ranked[i - 1]!.tiebreak).toBeGreaterThanOrEqual(c.ranked[i]!.tiebreak);
      expect(c.arm).toBe(c.ranked[0]!.arm);
      expect(
        chooseArm({ lane: 'a', arms: [...arms].reverse(), learning: emptyLearning(), prefer: null, seed })!.arm,
      ).toBe(c.arm);
      seen.add(c.arm);
    }
    expect(seen.size).toBe(arms.length);
  });
});

describe('learnArm and warmStart', () => {
  test('learnArm updates the lane-arm and the global belief, as one session on the clock', () => {
    const before = emptyLearning();
    const snapshot = JSON.stringify(before);
    const l = learnArm(before, 'a', 'cc:opus', 0.8);
    expect(JSON.stringify(before)).toBe(snapshot);
    expect(l.clock).toBe(1);
    expect(Object.keys(l.beliefs).sort()).toEqual(['*|cc:opus', 'a|cc:opus']);
    for (const key of ['a|cc:opus', '*|cc:opus']) expect(summary(l, key).weight).toBeCloseTo(1, 9);
    const l2 = learnArm(l, 'b', 'cc:opus', 0.4);
    expect(l2.clock).toBe(2);
    expect(summary(l2, '*|cc:opus').weight).toBeCloseTo(2, 9);
    expect(summary(l2, 'a|cc:opus').weight).toBeCloseTo(1, 9);
    expect(summary(l2, 'b|cc:opus').weight).toBeCloseTo(1, 9);
    expect(l2.beliefs['*|cc:opus']!.since).toBe(2);
    expect(l2.beliefs['b|cc:opus']!.since).toBe(2);
  });

  test('warmStart caps the evidence at n0 and keeps the grades’ mean, for every context', () => {
    let l = feed(emptyLearning(), 'a', 'cc:opus-4', 40, 0.7);
    l = feed(l, 'b', 'cc:opus-4', 2, 0.3);
    const w = warmStart(l, 'cc:opus-4', 'cc:opus-5');
    expect(w.clock).toBe(l.clock);
    for (const ctx of ['*', 'a', 'b']) {
      const from = w.beliefs[`${ctx}|cc:opus-4`]!;
      const to = w.beliefs[`${ctx}|cc:opus-5`]!;
      expect(from).toEqual(l.beliefs[`${ctx}|cc:opus-4`]);
      expect(summary(w, `${ctx}|cc:opus-5`).weight).toBeCloseTo(Math.min(5, summary(l, `${ctx}|cc:opus-4`).weight), 9);
      expect(gradeStats(to.posterior)!.mean).toBeCloseTo(gradeStats(from.posterior)!.mean, 9);
      expect(gradeStats(to.posterior)!.sd).toBeCloseTo(gradeStats(from.posterior)!.sd, 9);
      expect(to.since).toBe(l.clock);
    }
    expect(summary(w, 'b|cc:opus-5').weight).toBeCloseTo(2, 9);
    expect(summary(warmStart(l, 'cc:opus-4', 'cc:opus-5', 10), '*|cc:opus-5').weight).toBeCloseTo(10, 9);
    // n0 = 5 is above the 3 sessions the lane context needs, so the new arm keeps its lane context.
    expect(
      chooseArm({ lane: 'a', arms: [arm('cc:opus-5', 3, 10)], learning: w, prefer: null, seed: 1 })!.components.source,
    ).toBe('lane');
  });

  test('warmStart keeps evidence the new arm already has, and is idempotent', () => {
    let l = feed(emptyLearning(), 'a', 'cc:old', 20, 0.7);
    l = feed(l, 'a', 'cc:new', 4, 0.2);
    const w = warmStart(l, 'cc:old', 'cc:new');
    expect(w.beliefs['a|cc:new']).toEqual(l.beliefs['a|cc:new']);
    expect(w.beliefs['*|cc:new']).toEqual(l.beliefs['*|cc:new']);
    const fresh = warmStart(feed(emptyLearning(), 'a', 'cc:old', 20, 0.7), 'cc:old', 'cc:new');
    expect(warmStart(fresh, 'cc:old', 'cc:new')).toEqual(fresh);
    expect(() => warmStart(l, 'cc:old', 'cc:new', -1)).toThrow(RangeError);
  });
});
