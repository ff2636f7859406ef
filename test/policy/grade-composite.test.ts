import { describe, expect, test } from 'vitest';
import { applyComposite, composite } from '../../src/policy/grade-composite.js';

describe('composite grade', () => {
  test('a weighted mean over the dimensions that have weights', () => {
    expect(composite({ quality: 0.9, tests: 0.3 }, { quality: 2, tests: 1 })).toBeCloseTo((2 * 0.9 + 0.3) / 3, 12);
    expect(composite({ quality: 0.8, tests: 0.2 }, { quality: 1, tests: 1 })).toBeCloseTo(0.5, 12);
  });

  test('dimensions without a weight, or with weight 0, do not count', () => {
    expect(composite({ quality: 0.9, style: 0.1 }, { quality: 1 })).toBeCloseTo(0.9, 12);
    expect(composite({ quality: 0.9, style: 0.1 }, { quality: 1, style: 0 })).toBeCloseTo(0.9, 12);
    // A weighted dimension the grade does not mention is not counted as 0.
    expect(composite({ quality: 0.6 }, { quality: 1, tests: 5 })).toBeCloseTo(0.6, 12);
  });

  test('null when no dimension applies', () => {
    expect(composite({}, { quality: 1 })).toBeNull();
    expect(composite({ style: 0.4 }, { quality: 1 })).toBeNull();
    expect(composite({ quality: 0.4 }, { quality: 0 })).toBeNull();
    expect(composite({ quality: 0.4 }, {})).toBeNull();
    // Inherited names are not weights.
    expect(composite({ toString: 0.4 } as Record<string, number>, {})).toBeNull();
  });

  test('stays within [0, 1] and is scale-free in the weights', () => {
    const dims = { a: 1, b: 1, c: 1 };
    expect(composite(dims, { a: 0.1, b: 0.2, c: 0.7 })).toBeLessThanOrEqual(1);
    expect(composite({ a: 0.2, b: 0.7 }, { a: 1, b: 3 })).toBeCloseTo(
      composite({ a: 0.2, b: 0.7 }, { a: 100, b: 300 })!,
      12,
    );
  });

  test('applyComposite: the composite replaces the grade only when weights and dimensions apply', () => {
    expect(applyComposite(0.5, { quality: 0.9 }, { quality: 1 })).toBeCloseTo(0.9, 12);
    expect(applyComposite(0.5, null, { quality: 1 })).toBe(0.5);
    expect(applyComposite(0.5, { quality: 0.9 }, null)).toBe(0.5);
    expect(applyComposite(0.5, { style: 0.9 }, { quality: 1 })).toBe(0.5);
  });
});
