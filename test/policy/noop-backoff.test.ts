import { describe, expect, test } from 'vitest';
import { noopSkipRate, noteOutcome, skipDispatch } from '../../src/policy/noop-backoff.js';
import { OUTCOMES } from '../../src/policy/outcome.js';
import { deriveSeed, rngFromSeed } from '../../src/policy/prng.js';

describe('noop backoff', () => {
  test('skip rates by consecutive noops: 3 → 50%, 6 → 75%, 10 → 87.5%', () => {
    const rates = [0, 1, 2, 3, 4, 5, 6, 9, 10, 11, 1000].map((n) => [n, noopSkipRate(n)]);
    expect(Object.fromEntries(rates)).toEqual({
      0: 0,
      1: 0,
      2: 0,
      3: 0.5,
      4: 0.5,
      5: 0.5,
      6: 0.75,
      9: 0.75,
      10: 0.875,
      11: 0.875,
      1000: 0.875,
    });
  });

  test('noop counts up, productive resets, other outcomes leave the count alone', () => {
    expect(noteOutcome(0, 'noop')).toBe(1);
    expect(noteOutcome(9, 'noop')).toBe(10);
    expect(noteOutcome(12, 'productive')).toBe(0);
    for (const o of OUTCOMES.filter((x) => x !== 'noop' && x !== 'productive')) expect(noteOutcome(7, o)).toBe(7);
    // A streak interrupted by a failure keeps going; a productive session ends it.
    const seq = ['noop', 'noop', 'failed', 'noop', 'timeout', 'refused', 'unknown'] as const;
    const count = seq.reduce((c, o) => noteOutcome(c, o), 0);
    expect(count).toBe(3);
    expect(noopSkipRate(count)).toBe(0.5);
    expect(noopSkipRate(noteOutcome(count, 'productive'))).toBe(0);
  });

  test('over 10,000 seeded ticks the skip frequency is within ±2% of the rate', () => {
    for (const [count, rate] of [
      [0, 0],
      [3, 0.5],
      [6, 0.75],
      [10, 0.875],
    ] as const) {
      for (const lane of ['alpha', 'beta']) {
        let skipped = 0;
        for (let tick = 0; tick < 10_000; tick++) {
          const d = skipDispatch(count, tick * 2654435761, lane);
          expect(d.rate).toBe(rate);
          if (d.skip) skipped++;
        }
        expect(Math.abs(skipped / 10_000 - rate)).toBeLessThanOrEqual(0.02);
      }
    }
  });

  test('deterministic: the same count, seed and lane give the same decision; lanes draw apart', () => {
    for (let seed = 0; seed < 200; seed++) {
      const d = skipDispatch(4, seed, 'alpha');
      expect(skipDispatch(4, seed, 'alpha')).toEqual(d);
      expect(d.draw).toBe(rngFromSeed(deriveSeed(seed, 'noop:alpha'))());
      expect(d.skip).toBe(d.draw < 0.5);
      // The draw does not depend on the count, so raising the rate only adds skips.
      expect(skipDispatch(10, seed, 'alpha').draw).toBe(d.draw);
      if (d.skip) expect(skipDispatch(10, seed, 'alpha').skip).toBe(true);
    }
    const differs = Array.from(
      { length: 50 },
      (_, s) => skipDispatch(3, s, 'alpha').draw !== skipDispatch(3, s, 'beta').draw,
    );
    expect(differs.every(Boolean)).toBe(true);
    expect(skipDispatch(2, 1, 'alpha').skip).toBe(false);
  });
});
