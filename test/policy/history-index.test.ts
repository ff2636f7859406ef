// The indexes that keep the selector's start history and graded list cheap must give exactly what
// the plain filter-and-count gives, whatever the order of times, however often an old list is
// extended again (replay from a checkpoint, a test reusing a state), and at the size caps.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { appendMark, windowCounts, type SessionMark } from '../../src/policy/history-index.js';
import { applyGrade, gradeLearned, GRADED_MEMORY, type Posteriors } from '../../src/policy/graded.js';
import { emptyLearning } from '../../src/policy/learning.js';
import type { List } from '../../src/policy/trail.js';

const plainAppend = (h: readonly SessionMark[], mark: SessionMark, cutoff: number, max: number) =>
  [...h.filter((m) => m.at >= cutoff), mark].slice(-max);

function plainCounts(h: readonly SessionMark[], cutoff: number) {
  const counts: Record<string, number> = {};
  let total = 0;
  for (const m of h) {
    if (m.at < cutoff) continue;
    total++;
    counts[m.lane] = (counts[m.lane] ?? 0) + 1;
  }
  const last = h.at(-1)?.lane;
  let streak = 0;
  for (let i = h.length - 1; i >= 0 && h[i]!.lane === last; i--) streak++;
  return { counts, total, last, streak };
}

const nonZero = (m: Map<string, number>) => Object.fromEntries([...m].filter(([, n]) => n !== 0));

// A step: start `lane` at a time `dt` after the last (negative: the clock stepped back), keep
// `window` ms, and extend either the newest history or an older one (`back` histories ago).
const step = fc.record({
  lane: fc.constantFrom('a', 'b', 'c'),
  dt: fc.integer({ min: -3, max: 10 }),
  window: fc.integer({ min: 1, max: 40 }),
  back: fc.nat({ max: 3 }),
  probe: fc.integer({ min: -5, max: 50 }),
});

describe('the start history index', () => {
  test('extends and counts exactly like the plain filter, in and out of time order, from old histories too', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), fc.integer({ min: 2, max: 12 }), (steps, max) => {
        const plain: SessionMark[][] = [[]];
        const indexed: List<SessionMark>[] = [[]];
        let now = 0;
        for (const s of steps) {
          now += s.dt;
          const k = Math.max(0, plain.length - 1 - s.back);
          const mark = { lane: s.lane, at: now };
          plain.push(plainAppend(plain[k]!, mark, now - s.window, max));
          indexed.push(appendMark(indexed[k]!, mark, now - s.window, max));
          expect([...indexed.at(-1)!]).toEqual(plain.at(-1));
          // Ask a history for its counts (the newest, and the one extended) at a later tick.
          for (const j of [plain.length - 1, k]) {
            const got = windowCounts(indexed[j]!, now + s.probe - s.window);
            const want = plainCounts(plain[j]!, now + s.probe - s.window);
            expect({ ...got, counts: nonZero(got.counts) }).toEqual(want);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('the graded list index', () => {
  const fresh = (): Posteriors => ({ learning: emptyLearning(), arms: emptyLearning(), graded: [] });

  test('a grade is learned once, a late grade replaces it, and the list holds the last GRADED_MEMORY sessions', () => {
    let p = fresh();
    for (let i = 0; i < GRADED_MEMORY + 5; i++)
      p = applyGrade(p, { session: `s${i}`, lane: 'code', arm: null, grade: 0.5 });
    expect(p.graded).toHaveLength(GRADED_MEMORY);
    expect(gradeLearned(p.graded, 's4')).toBeUndefined(); // dropped off the front
    expect(gradeLearned(p.graded, 's5')).toBe(0.5);
    expect(applyGrade(p, { session: 's5', lane: 'code', arm: null, grade: 0.9 })).toBe(p); // seen: ignored
    const regraded = applyGrade(p, { session: 's5', lane: 'code', arm: null, grade: 0.9, regrade: true });
    expect(gradeLearned(regraded.graded, 's5')).toBe(0.9);
    expect(gradeLearned(p.graded, 's5')).toBe(0.5); // the older list still says what it held
  });

  test('an older list extended again still answers from its own entries', () => {
    const base = applyGrade(fresh(), { session: 'a', lane: 'code', arm: null, grade: 0.2 });
    const one = applyGrade(base, { session: 'b', lane: 'code', arm: null, grade: 0.3 });
    const other = applyGrade(base, { session: 'c', lane: 'code', arm: null, grade: 0.4 });
    expect(gradeLearned(one.graded, 'c')).toBeUndefined();
    expect(gradeLearned(other.graded, 'b')).toBeUndefined();
    expect(gradeLearned(other.graded, 'c')).toBe(0.4);
    expect(gradeLearned(base.graded, 'b')).toBeUndefined();
  });

  test('a restored list that names a session twice answers with its first entry', () => {
    const graded: [string, number][] = [
      ['x', 0.1],
      ['x', 0.7],
    ];
    expect(gradeLearned(graded, 'x')).toBe(0.1);
  });
});
