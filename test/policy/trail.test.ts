// A trail must behave exactly like the plain array its producer used to copy: every trail keeps
// what it held however the trails before and after it are extended (forks included), reads and
// iterates the same, and is that array in JSON.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Trail } from '../../src/policy/trail.js';

describe('Trail', () => {
  test('each trail keeps what it held while any trail before or after it is extended, and is that array as JSON', () => {
    // A step: extend the trail made `back` steps ago, dropping `drop` of its oldest entries.
    const step = fc.record({ back: fc.nat({ max: 4 }), drop: fc.nat({ max: 5 }) });
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.array(step, { maxLength: 120 }), (start, steps) => {
        const plain: number[][] = [start];
        const trails: Trail<number>[] = [Trail.of(start)];
        steps.forEach((s, n) => {
          const k = Math.max(0, plain.length - 1 - s.back);
          plain.push([...plain[k]!.slice(Math.min(s.drop, plain[k]!.length)), n]);
          trails.push(trails[k]!.append(n, s.drop));
        });
        trails.forEach((t, i) => {
          expect(t.length).toBe(plain[i]!.length);
          expect([...t]).toEqual(plain[i]);
          expect(JSON.parse(JSON.stringify(t))).toEqual(plain[i]);
          expect(t.toJSON()).toEqual(plain[i]);
          for (const j of [0, -1, 1, -2, t.length, -t.length - 1]) expect(t.at(j)).toBe(plain[i]!.at(j));
        });
        expect(start).toEqual(plain[0]); // the array it began from is never touched
      }),
      { numRuns: 300 },
    );
  });

  test('extending the newest trail does not copy what it holds, and trimmed entries are let go', () => {
    const items = (t: Trail<number>) => (t as unknown as { items: number[] }).items;
    let t = Trail.of<number>([]);
    let copies = 0;
    for (let i = 0; i < 10_000; i++) {
      const next = t.append(i, t.length === 100 ? 1 : 0);
      if (items(next) !== items(t)) copies++;
      t = next;
    }
    expect([...t]).toEqual(Array.from({ length: 100 }, (_, i) => 9_900 + i));
    // A copy only when the trimmed entries are more than half the shared array: about one in a
    // hundred appends here, each of the 100 kept, so appending stays O(1) on average.
    expect(copies).toBeLessThanOrEqual(10_000 / 100 + 1);
    // The shared array stays within twice the trail's length (as JSON it is just the 100).
    expect(items(t).length).toBeLessThanOrEqual(200);
  });
});
