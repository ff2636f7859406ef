import { describe, expect, test } from 'vitest';
import {
  draw,
  drawScale,
  emptyLearning,
  learn,
  learnInPlace,
  summary,
  type Learning,
} from '../../src/policy/learning.js';
import {
  DEFAULT_DETECTOR,
  DEFAULT_FORGETTING,
  NO_FORGETTING,
  weight,
  type Forgetting,
} from '../../src/policy/posterior.js';
import { rngFromSeed } from '../../src/policy/prng.js';

/** Grades for `key`, alternating around `mean` by ±`half` (so the lane has a known spread). */
const grades = (key: string, n: number, mean: number, half = 0.1): [string, number][] =>
  Array.from({ length: n }, (_, i) => [key, i % 2 ? mean - half : mean + half]);
const feed = (l: Learning, gs: [string, number][]) => gs.reduce((acc, [k, g]) => learn(acc, k, g), l);
const only = (over: Partial<Forgetting>): Forgetting => ({ ...NO_FORGETTING, ...over });

describe('learning state', () => {
  test('learn is pure and learnInPlace gives the same state, detector included', () => {
    const seq: [string, number][] = [
      ...grades('a', 60, 0.7),
      ...grades('b', 200, 0.5),
      ...grades('a', 10, 0.2),
      ['c', 0.9],
    ];
    const before = emptyLearning();
    const snapshot = JSON.stringify(before);
    const pure = feed(before, seq);
    expect(JSON.stringify(before)).toBe(snapshot);
    const inPlace = emptyLearning();
    for (const [k, g] of seq) learnInPlace(inPlace, k, g);
    expect(inPlace).toEqual(pure);
    expect(pure.clock).toBe(seq.length);
  });

  test('the same state and seed give the same draw, also after a JSON round trip (it is journaled)', () => {
    const l = feed(emptyLearning(), [...grades('a', 30, 0.6), ...grades('b', 200, 0.5)]);
    const copy = JSON.parse(JSON.stringify(l)) as Learning;
    for (const key of ['a', 'b', 'never']) {
      expect(draw(l, key, rngFromSeed(42))).toBe(draw(l, key, rngFromSeed(42)));
      expect(draw(copy, key, rngFromSeed(42))).toBe(draw(l, key, rngFromSeed(42)));
    }
    expect(draw(l, 'a', rngFromSeed(42))).not.toBe(draw(l, 'a', rngFromSeed(43)));
  });

  test('memory per lane stays bounded: 11 counts, a clock mark and two detector statistics', () => {
    const l = emptyLearning();
    for (let i = 0; i < 20_000; i++) learnInPlace(l, `l${i % 3}`, ((i * 7919) % 101) / 100);
    for (const b of Object.values(l.beliefs)) {
      expect(Object.keys(b).sort()).toEqual(['down', 'posterior', 'since', 'up']);
      expect(b.posterior.model === 'npts' && b.posterior.counts.length).toBe(11);
    }
  });

  describe('constant forgetting (both kinds stay configurable)', () => {
    test('per-pull discount: the evidence of a lane that keeps being chosen fades', () => {
      const gs = grades('a', 200, 0.6);
      expect(summary(feed(emptyLearning('npts', only({ pullDecay: 0.9 })), gs), 'a').weight).toBeCloseTo(10, 3);
      expect(summary(feed(emptyLearning('npts', NO_FORGETTING), gs), 'a').weight).toBeCloseTo(200, 6);
    });

    test('all-lanes discount: a lane left alone loosens as other lanes are graded, applied lazily', () => {
      const l = feed(emptyLearning('npts', only({ idleDecay: 0.99 })), [
        ...grades('a', 10, 0.3),
        ...grades('b', 100, 0.6),
      ]);
      // 'a' owes 0.99 per update since its last grade (10 of its own grades decayed while they came in).
      const own = Array.from({ length: 10 }, (_, i) => 0.99 ** i).reduce((x, y) => x + y, 0);
      expect(summary(l, 'a').weight).toBeCloseTo(own * 0.99 ** 100, 9);
      expect(summary(l, 'a').mean).toBeGreaterThan(
        summary(feed(emptyLearning('npts', NO_FORGETTING), [...grades('a', 10, 0.3), ...grades('b', 100, 0.6)]), 'a')
          .mean,
      );
    });
  });

  describe('default forgetting: stale lanes are tried again, a change detector cuts evidence', () => {
    const f = DEFAULT_FORGETTING;
    const staleAfter = f.staleAfter!;

    test('a lane left alone is drawn loosened after staleAfter sessions elsewhere; a grade that agrees keeps all its evidence', () => {
      let l = feed(emptyLearning(), grades('bad', 40, 0.3, 0.15));
      l = feed(l, grades('good', staleAfter / 2, 0.7));
      expect(drawScale(l, 'bad')).toBeGreaterThan(0.99);
      l = feed(l, grades('good', staleAfter, 0.7));
      expect(drawScale(l, 'bad')).toBeLessThan(0.1);
      const wins = (x: Learning) => {
        const rng = rngFromSeed(5);
        let n = 0;
        for (let i = 0; i < 400; i++) if (draw(x, 'bad', rng) > draw(x, 'good', rng)) n++;
        return n / 400;
      };
      expect(wins(l)).toBeGreaterThan(0.2);
      // Without staleness the same lane is practically never tried.
      expect(wins({ ...l, forgetting: { ...f, staleAfter: null } })).toBeLessThan(0.01);
      const retried = learn(l, 'bad', 0.3);
      expect(drawScale(retried, 'bad')).toBe(1);
      expect(summary(retried, 'bad').weight).toBeCloseTo(41, 9);
    });

    test('a neglected lane that got better is relearned after two good grades (one alone makes it suspect)', () => {
      const setup = (forgetting: Forgetting) =>
        feed(emptyLearning('npts', forgetting), [...grades('n', 50, 0.3, 0.15), ...grades('x', staleAfter + 20, 0.7)]);
      const l = setup(f);
      const once = learn(l, 'n', 0.75);
      expect(once.beliefs.n!.up).toBeGreaterThan(DEFAULT_DETECTOR.suspectAt);
      expect(summary(once, 'n').weight).toBeCloseTo(51, 9);
      expect(drawScale(once, 'n')).toBeCloseTo(DEFAULT_DETECTOR.keep / 51, 9);
      const twice = learn(once, 'n', 0.75);
      expect(summary(twice, 'n').weight).toBeCloseTo(DEFAULT_DETECTOR.keep + 1, 9);
      expect(summary(twice, 'n').mean).toBeGreaterThan(0.6);
      // Not stale (no staleness), the same two grades are not enough: the lane keeps its old belief.
      const fresh = learn(learn(setup({ ...f, staleAfter: null }), 'n', 0.75), 'n', 0.75);
      expect(summary(fresh, 'n').weight).toBeCloseTo(52, 9);
      expect(summary(fresh, 'n').mean).toBeLessThan(0.35);
    });

    test('a favourite that got worse is seen to be worse within a few grades; without the detector it is not', () => {
      const seq: [string, number][] = [...grades('fav', 300, 0.8), ...grades('fav', 6, 0.3, 0.05)];
      const on = feed(emptyLearning('npts', f), seq);
      const off = feed(emptyLearning('npts', { ...f, detector: null }), seq);
      expect(summary(on, 'fav').mean).toBeLessThan(0.5);
      expect(summary(on, 'fav').weight).toBeLessThan(10);
      expect(summary(off, 'fav').mean).toBeGreaterThan(0.75);
    });

    test('states written before staleness and the detector existed replay as before (both absent = off)', () => {
      const old = { model: 'npts', forgetting: { pullDecay: 1, idleDecay: 1 }, clock: 0, beliefs: {} } as Learning;
      const seq: [string, number][] = [
        ...grades('fav', 300, 0.8),
        ...grades('fav', 6, 0.3, 0.05),
        ...grades('b', 400, 0.5),
      ];
      const a = feed(old, seq);
      const b = feed(emptyLearning('npts', NO_FORGETTING), seq);
      expect(summary(a, 'fav')).toEqual(summary(b, 'fav'));
      expect(draw(a, 'fav', rngFromSeed(1))).toBe(draw(b, 'fav', rngFromSeed(1)));
      expect(weight(a.beliefs.fav!.posterior)).toBeCloseTo(306, 9);
    });
  });
});
