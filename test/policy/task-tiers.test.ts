import { describe, expect, test } from 'vitest';
import type { Task } from '../../src/policy/task.js';
import { laneWork, supply, taskKey } from '../../src/policy/task-tiers.js';

const task = (id: string, over: Partial<Task> = {}): Task => ({
  id,
  lane: 'code',
  state: 'ready',
  priority: 2,
  waitingFor: null,
  path: `/tasks/${id}.md`,
  title: null,
  ...over,
});
const none = new Set<string>();
const ids = (w: ReturnType<typeof laneWork>) => w.candidates.map((c) => `${c.tier}:${c.task.id}`);

describe('task tiers', () => {
  test('active tasks come before ready ones, whatever their priority', () => {
    const w = laneWork(
      [task('r-urgent', { priority: 4 }), task('a-low', { state: 'active', priority: 1 })],
      'code',
      none,
    );
    expect(ids(w)).toEqual(['1:a-low', '2:r-urgent']);
    expect(w.tier).toBe(1);
  });

  test('within a tier: priority high to low, then id', () => {
    const w = laneWork(
      [
        task('b', { priority: 2 }),
        task('c', { priority: 3 }),
        task('a', { priority: 2 }),
        task('z', { priority: -1 }),
        task('d', { priority: 10 }),
      ],
      'code',
      none,
    );
    expect(ids(w)).toEqual(['2:d', '2:c', '2:a', '2:b', '2:z']);
    expect(w.tier).toBe(2);
  });

  test('waiting_for, backlog, waiting and done are never candidates, nor tasks of other lanes', () => {
    const w = laneWork(
      [
        task('w1', { state: 'active', waitingFor: 'review' }),
        task('w2', { waitingFor: 'Erik' }),
        task('b', { state: 'backlog' }),
        task('w', { state: 'waiting' }),
        task('d', { state: 'done' }),
        task('other', { lane: 'triage' }),
      ],
      'code',
      none,
    );
    expect(w).toEqual({ candidates: [], blocked: [], tier: 3 });
  });

  test('a claim-blocked task is left out with its reason; the lane tier follows what is left', () => {
    const held = new Set([taskKey('a1')]);
    const w = laneWork([task('a1', { state: 'active' }), task('r1'), task('r2', { priority: 3 })], 'code', held);
    expect(ids(w)).toEqual(['2:r2', '2:r1']);
    expect(w.blocked).toEqual([{ task: expect.objectContaining({ id: 'a1' }), reason: 'claim_blocked' }]);
    expect(w.tier).toBe(2);
  });

  test('all blocked: tier 3 with the blocked tasks listed in pick order', () => {
    const held = new Set(['task:x', 'task:y', 'lane:code']);
    const w = laneWork([task('x'), task('y', { state: 'active' })], 'code', held);
    expect(w.candidates).toEqual([]);
    expect(w.blocked.map((b) => b.task.id)).toEqual(['y', 'x']);
    expect(w.tier).toBe(3);
  });

  test('a lane without tasks offers lane-level work (tier 3)', () => {
    expect(laneWork([], 'content', none)).toEqual({ candidates: [], blocked: [], tier: 3 });
  });

  test('deterministic: the order of the input does not matter', () => {
    const tasks = [
      task('m', { state: 'active' }),
      task('k', { priority: 3 }),
      task('j', { priority: 3 }),
      task('a'),
      task('n', { state: 'active', priority: 4 }),
    ];
    const expected = laneWork(tasks, 'code', none);
    expect(ids(expected)).toEqual(['1:n', '1:m', '2:j', '2:k', '2:a']);
    for (let i = 0; i < 5; i++) {
      const shuffled = [...tasks.slice(i), ...tasks.slice(0, i)].reverse();
      expect(laneWork(shuffled, 'code', none)).toEqual(expected);
    }
  });

  test('taskKey', () => {
    expect(taskKey('fix-login')).toBe('task:fix-login');
  });
});

describe('supply', () => {
  test('counts per configured lane; waiting_for counts as waiting; done and unknown lanes are not counted', () => {
    const s = supply(
      [
        task('a', { state: 'active' }),
        task('r1'),
        task('r2'),
        task('r3', { waitingFor: 'ci' }),
        task('w', { state: 'waiting' }),
        task('b', { state: 'backlog' }),
        task('d', { state: 'done' }),
        task('t', { lane: 'triage' }),
        task('gone', { lane: 'removed' }),
      ],
      ['code', 'triage', 'content'],
    );
    expect(s).toEqual({
      code: { active: 1, ready: 2, waiting: 2, backlog: 1 },
      triage: { active: 0, ready: 1, waiting: 0, backlog: 0 },
      content: { active: 0, ready: 0, waiting: 0, backlog: 0 },
    });
  });
});
