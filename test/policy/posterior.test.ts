import { describe, expect, test } from 'vitest';
import { decay, emptyPosterior, mean, observe, sample, weight, type Posterior } from '../../src/policy/posterior.js';
import { rngFromSeed } from '../../src/policy/prng.js';

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
    const many = feed(emptyPosterior('npts'), Array.from({ length: 5000 }, (_, i) => (i % 100) / 100));
    expect(many.model === 'npts' && many.counts.length).toBe(11);
    expect(weight(many)).toBeCloseTo(5000);
  });

  test('fractional Beta: α += g, β += 1 − g', () => {
    expect(feed(emptyPosterior('beta'), [0.8, 0.6])).toEqual({ model: 'beta', alpha: 2.4, beta: 1.6000000000000001 });
  });

  test('with little evidence the sample is optimistic (the pseudo-observation at 1); with much, it centres on the grades', () => {
    expect(sampleMean(emptyPosterior('npts'))).toBeGreaterThan(0.99);
    const p = feed(emptyPosterior('npts'), Array.from({ length: 400 }, (_, i) => (i % 2 ? 0.5 : 0.7)));
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
    const good = feed(emptyPosterior('npts'), Array.from({ length: 300 }, () => 0.8), 0.98);
    const worse = feed(good, Array.from({ length: 100 }, () => 0.3), 0.98);
    const noForget = feed(feed(emptyPosterior('npts'), Array.from({ length: 300 }, () => 0.8)), Array.from({ length: 100 }, () => 0.3));
    expect(mean(worse)).toBeLessThan(0.4);
    expect(mean(noForget)).toBeGreaterThan(0.65);
  });

  test('idle forgetting: a lane left alone loosens back toward the optimistic prior', () => {
    const p = feed(emptyPosterior('npts'), Array.from({ length: 200 }, () => 0.3));
    const idle = decay(p, 0.999 ** 3000);
    expect(weight(idle)).toBeLessThan(weight(p) / 10);
    expect(sampleMean(idle)).toBeGreaterThan(sampleMean(p) + 0.05);
    // Applying the decay lazily (sample's scale) is the same as applying it first.
    expect(sample(p, rngFromSeed(5), 0.5)).toBe(sample(decay(p, 0.5), rngFromSeed(5)));
  });
});
