// The posterior bars of the local view: the selector's own mean and evidence, with a band that
// narrows as evidence grows, for lanes and for each lane's arms.
import { expect, test } from 'vitest';
import { posteriorSd, posteriorView } from '../../../src/adapters/view/posteriors.js';
import { emptyLearning, learn, summary, type Learning } from '../../../src/policy/learning.js';
import { NO_FORGETTING } from '../../../src/policy/posterior.js';

const graded = (l: Learning, key: string, grades: number[]) => grades.reduce((acc, g) => learn(acc, key, g), l);

test('each lane and arm gets the mean and evidence the selector uses, inside a band that narrows with evidence', () => {
  let lanes = graded(emptyLearning('npts', NO_FORGETTING), 'code', [0.8, 0.7, 0.9, 0.8]);
  lanes = graded(lanes, 'docs', [0.8, 0.7, 0.9, 0.8, 0.8, 0.7, 0.9, 0.8, 0.8, 0.7, 0.9, 0.8]);
  const arms = graded(graded(emptyLearning('npts', NO_FORGETTING), 'code|sim:a', [0.8]), '*|sim:a', [0.8]);
  const view = posteriorView({ learning: lanes, fairness: { deficits: {}, history: [] }, arms })!;

  expect(view).toMatchObject({ model: 'npts', clock: 16 });
  expect(view.lanes.map((b) => b.lane)).toEqual(['code', 'docs']);
  for (const b of view.lanes) {
    const s = summary(lanes, b.lane);
    expect(b.mean).toBeCloseTo(s.mean, 4);
    expect(b.evidence).toBeCloseTo(s.weight, 4);
    expect(b.low).toBeLessThan(b.mean);
    expect(b.high).toBeGreaterThan(b.mean);
  }
  const [code, docs] = view.lanes;
  // Pinned, not only compared with summary() (which the view is built from): NPTS's mean of
  // 0.8, 0.7, 0.9, 0.8 and its optimistic pseudo-observation at 1 is (3.2 + 1) / 5.
  expect([code!.mean, code!.evidence]).toEqual([expect.closeTo(0.84, 4), expect.closeTo(4, 4)]);
  expect([docs!.mean, docs!.evidence]).toEqual([expect.closeTo(0.8154, 4), expect.closeTo(12, 4)]);
  // The same grades three times over: a narrower band.
  expect(docs!.high - docs!.low).toBeLessThan(code!.high - code!.low);
  expect(view.arms.map((a) => [a.lane, a.arm])).toEqual([
    ['*', 'sim:a'],
    ['code', 'sim:a'],
  ]);
});

test('the spread is the posterior’s: Beta(2, 2) has sd √(4/80)', () => {
  expect(posteriorSd({ model: 'beta', alpha: 2, beta: 2 })).toBeCloseTo(Math.sqrt(4 / 80), 10);
  // NPTS with no evidence is its optimistic pseudo-observation alone: a point at 1.
  expect(posteriorSd({ model: 'npts', counts: Array.from({ length: 11 }, () => 0) })).toBe(0);
});

test('nothing learned yet: no bars', () => {
  expect(posteriorView(null)).toBeNull();
});
