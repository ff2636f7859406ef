// What a task-backed respawn works on: its parent's task while that is not done, else the lane's
// next task as a tick would pick it, else lane-level work.
import { describe, expect, test } from 'vitest';
import { respawnTask } from '../../src/policy/respawn-task.js';
import type { Task } from '../../src/policy/task.js';

const task = (id: string, over: Partial<Task> = {}): Task => ({
  id,
  lane: 'code',
  state: 'ready',
  priority: 2,
  waitingFor: null,
  path: `/t/${id}.md`,
  title: null,
  ...over,
});
const slot = (id: string, path: string | null = `/t/${id}.md`) => ({ id, key: `task:${id}`, path, tier: 2 as const });

describe('respawnTask', () => {
  test('an open task whose claim went back is continued', () => {
    expect(respawnTask([task('a'), task('b')], 'code', slot('a'), true, new Set())).toEqual({
      task: slot('a'),
      why: 'continues task a',
    });
  });

  test('a completed claim, a done file or a removed file: the next task, active before ready, skipping busy ones', () => {
    const tasks = [task('a'), task('b'), task('c', { state: 'active' }), task('d', { state: 'active' })];
    expect(respawnTask(tasks, 'code', slot('a'), false, new Set(['task:c']))).toMatchObject({
      task: { id: 'd' },
      why: expect.stringMatching(/^task a is done \(its claim was not given back.*\): next task d$/),
    });
    expect(respawnTask([task('a', { state: 'done' }), task('b')], 'code', slot('a'), true, new Set())).toMatchObject({
      task: { id: 'b' },
      why: 'task a is done (its file says done): next task b',
    });
    expect(respawnTask([task('b')], 'code', slot('a'), true, new Set())).toMatchObject({
      task: { id: 'b' },
      why: 'task a is done (its file is gone): next task b',
    });
    expect(respawnTask([task('a', { waitingFor: 'review' })], 'code', slot('a'), true, new Set())).toMatchObject({
      task: null,
      why: expect.stringContaining('waits for review'),
    });
  });

  test('no other task of the lane: lane-level work; a task an external selector named is judged by its claim', () => {
    expect(respawnTask([task('a'), task('x', { lane: 'docs' })], 'code', slot('a'), false, new Set())).toMatchObject({
      task: null,
      why: expect.stringContaining('no other task ready: lane-level work'),
    });
    expect(respawnTask([task('b')], 'code', slot('gh-12', null), true, new Set())).toEqual({
      task: slot('gh-12', null),
      why: 'continues task gh-12',
    });
    expect(respawnTask(null, 'code', slot('gh-12', null), false, new Set())).toMatchObject({ task: null });
  });
});
