import { describe, expect, test } from 'vitest';
import {
  DEFAULT_DETECTOR,
  decay,
  detectChange,
  emptyPosterior,
  gradeStats,
  isStale,
  loosening,
  mean,
  observe,
  sample,
  weight,
  type Change,
  type Posterior,
} from '../../src/policy/posterior.js';
import { rngFromSeed } from '../../src/policy/prng.js';
import { normal } from '../../src/policy/random.js';

const feed = (p: Posterior, grades: number[], pullDecay = 1) => grades.reduce((q, g) => observe(q, g, pullDecay), p);
const sampleMean = (p: Posterior, n = 4000, seed = 1) => {
  const rng = rngFromSeed(seed);
  let s = 0;
  for (let i = 0; i < n; i++) s += sample(p, rng);
  return s / n;
};

describe('reward model', () => {
  test('a grade is split between its two grid neighbours, keeping its mean; memory stays 11 numbers', () => {
    const p = observe(emptyPosterior('npts'), 0.73);
    expect(p.model === 'npts' && p.counts[7]).toBeCloseTo(0.7);
    expect(p.model === 'npts' && p.counts[8]).toBeCloseTo(0.3);
    const many = feed(
      emptyPosterior('npts'),
      Array.from({ length: 5000 }, (_, i) => (i % 100) / 100),
    );
    expect(many.model === 'npts' && many.counts.length).toBe(11);
    expect(weight(many)).toBeCloseTo(5000);
  });

  test('fractional Beta: α += g, β += 1 − g', () => {
    expect(feed(emptyPosterior('beta'), [0.8, 0.6])).toEqual({ model: 'beta', alpha: 2.4, beta: 1.6000000000000001 });
  });

  test('with little evidence the sample is optimistic (the pseudo-observation at 1); with much, it centres on the grades', () => {
    expect(sampleMean(emptyPosterior('npts'))).toBeGreaterThan(0.99);
    const p = feed(
      emptyPosterior('npts'),
      Array.from({ length: 400 }, (_, i) => (i % 2 ? 0.5 : 0.7)),
    );
    expect(sampleMean(p)).toBeCloseTo(0.6, 1);
    expect(mean(p)).toBeCloseTo((0.6 * 400 + 1) / 401, 5);
  });

  test('NPTS uses the spread of grades: steady grades give a narrower posterior than the Beta model', () => {
    const grades = Array.from({ length: 50 }, () => 0.6);
    const spread = (p: Posterior) => {
      const rng = rngFromSeed(3);
      const xs = Array.from({ length: 3000 }, () => sample(p, rng));
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length);
    };
    expect(spread(feed(emptyPosterior('npts'), grades))).toBeLessThan(spread(feed(emptyPosterior('beta'), grades)) / 2);
  });

  test('the same posterior and seed give the same sample', () => {
    const p = feed(emptyPosterior('npts'), [0.2, 0.9, 0.4]);
    expect(sample(p, rngFromSeed(77))).toBe(sample(p, rngFromSeed(77)));
  });

  test('per-pull forgetting: a lane that keeps being chosen and got worse is seen to be worse', () => {
    const good = feed(
      emptyPosterior('npts'),
      Array.from({ length: 300 }, () => 0.8),
      0.98,
    );
    const worse = feed(
      good,
      Array.from({ length: 100 }, () => 0.3),
      0.98,
    );
    const noForget = feed(
      feed(
        emptyPosterior('npts'),
        Array.from({ length: 300 }, () => 0.8),
      ),
      Array.from({ length: 100 }, () => 0.3),
    );
    expect(mean(worse)).toBeLessThan(0.4);
    expect(mean(noForget)).toBeGreaterThan(0.65);
  });

  test('idle forgetting: a lane left alone loosens back toward the optimistic prior', () => {
    const p = feed(
      emptyPosterior('npts'),
      Array.from({ length: 200 }, () => 0.3),
    );
    const idle = decay(p, 0.999 ** 3000);
    expect(weight(idle)).toBeLessThan(weight(p) / 10);
    expect(sampleMean(idle)).toBeGreaterThan(sampleMean(p) + 0.05);
    // Applying the decay lazily (sample's scale) is the same as applying it first.
    expect(sample(p, rngFromSeed(5), 0.5)).toBe(sample(decay(p, 0.5), rngFromSeed(5)));
  });

  test('grade statistics: mean and spread of the grades seen, without the prior; the Beta model reports the Bernoulli bound', () => {
    expect(gradeStats(emptyPosterior('npts'))).toBeNull();
    const p = feed(
      emptyPosterior('npts'),
      Array.from({ length: 100 }, (_, i) => (i % 2 ? 0.5 : 0.7)),
    );
    expect(gradeStats(p)!.mean).toBeCloseTo(0.6, 10);
    expect(gradeStats(p)!.sd).toBeCloseTo(0.1, 10);
    // A grade between grid points keeps its mean; its split adds a little spread (0.73 → 0.7 and 0.8).
    expect(gradeStats(observe(emptyPosterior('npts'), 0.73))!.mean).toBeCloseTo(0.73, 10);
    const b = gradeStats(feed(emptyPosterior('beta'), [0.8, 0.6]))!;
    expect(b.mean).toBeCloseTo(0.7, 10);
    expect(b.sd).toBeCloseTo(Math.sqrt(0.7 * 0.3), 10);
  });

  test('loosening of a lane left alone: none while fresh, one half at staleAfter, almost all soon after; off without staleAfter', () => {
    expect(loosening(0, 140)).toBe(1);
    expect(loosening(70, 140)).toBeGreaterThan(0.99);
    expect(loosening(140, 140)).toBeCloseTo(0.5, 10);
    expect(loosening(280, 140)).toBeLessThan(0.005);
    expect(loosening(10_000, null)).toBe(1);
    expect(loosening(10_000, undefined)).toBe(1);
    expect([isStale(140, 140), isStale(141, 140), isStale(10_000, null)]).toEqual([false, true, false]);
  });

  describe("change detector (two-sided CUSUM in units of the lane's grade spread)", () => {
    const d = DEFAULT_DETECTOR;
    const lane = feed(
      emptyPosterior('npts'),
      Array.from({ length: 400 }, (_, i) => (i % 2 ? 0.5 : 0.7)),
    ); // mean 0.6, spread 0.1
    const run = (grades: number[], lead = 0) => {
      let c: Change = { up: 0, down: 0 };
      for (const [i, g] of grades.entries()) {
        const r = detectChange(lane, c, g, i === 0 ? lead : 0, d);
        if (r.alarm) return { alarmAt: i, change: r.change };
        c = r.change;
      }
      return { alarmAt: null, change: c };
    };

    test("grades like the lane's own do not alarm", () => {
      const rng = rngFromSeed(9);
      const steady = Array.from({ length: 5000 }, () => Math.min(1, Math.max(0, 0.6 + 0.1 * normal(rng))));
      expect(run(steady).alarmAt).toBeNull();
    });

    test('a lane that got worse alarms within a few grades, in either direction', () => {
      expect(run([0.3, 0.3, 0.3, 0.3, 0.3]).alarmAt).toBe(3); // 2.5 a grade: over 8 at the fourth
      expect(run([0.9, 0.9, 0.9, 0.9, 0.9]).alarmAt).toBe(3);
      expect(run([0.3, 0.3, 0.3, 0.3]).change).toEqual({ up: 0, down: 0 });
    });

    test('the first grade of a stale lane starts from staleStart: two clearly better grades are enough, and one makes it suspect', () => {
      expect(run([0.82, 0.82], d.staleStart).alarmAt).toBe(1);
      expect(run([0.82, 0.82]).alarmAt).toBeNull();
      const one = run([0.82], d.staleStart);
      expect(one.alarmAt).toBeNull();
      expect(one.change.up).toBeCloseTo(d.staleStart + 2.2 - d.slack, 10);
      expect(one.change.up).toBeGreaterThan(d.suspectAt);
      expect(run([1], d.staleStart).alarmAt).toBe(0); // 4 spreads above: alone
    });

    test('it waits for minWeight of evidence, and steady lanes have a floor on their spread', () => {
      const young = feed(emptyPosterior('npts'), [0.6, 0.6, 0.6, 0.6]);
      expect(detectChange(young, { up: 7.9, down: 0 }, 1, 0, d)).toEqual({ change: { up: 0, down: 0 }, alarm: false });
      const steady = feed(
        emptyPosterior('npts'),
        Array.from({ length: 50 }, () => 0.6),
      ); // spread 0 → treated as 0.05
      expect(detectChange(steady, { up: 0, down: 0 }, 0.65, 0, d).change.up).toBeCloseTo(1 - d.slack, 10);
    });
  });
});
