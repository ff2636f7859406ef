// Contract cases for the record ports: sessions, lane states, decisions, late grades, runtime
// info, and what the selector learned (including two clients saving at once).
import { expect, test } from 'vitest';
import type { SelectorMemory } from '../../../src/ports/store.js';
import { emptyFairness } from '../../../src/policy/fairness.js';
import { emptyLearning } from '../../../src/policy/learning.js';
import type { Backend } from './backends.js';

const session = (id: string, started_at: number, more: { task?: string | null } = {}) => ({
  id,
  lane: 'code',
  lane_id: 'code',
  arm: 'claude-code:opus',
  dispatch: 'tick',
  parent: null,
  started_at,
  log_path: `/logs/${id}.log`,
  ...more,
});

/** A selector memory whose lanes and fairness say which save it came from. */
function memory(tag: string, lanes: string[], clock: number): SelectorMemory {
  const learning = emptyLearning('beta');
  learning.clock = clock;
  for (const l of lanes)
    learning.beliefs[l] = { posterior: { model: 'beta', alpha: 1 + clock, beta: 2 }, since: clock };
  const fairness = emptyFairness();
  fairness.deficits[tag] = clock / 10;
  return { learning, fairness, arms: { ...emptyLearning('beta'), clock }, graded: [[`${tag}-1`, 0.5]] };
}

export function recordCases(b: Backend): void {
  test('a session row is written at start and completed at exit and grade', async () => {
    const { store: s } = await b.fresh();
    await s.sessions.insert(session('code-1', 5_000));
    expect(await s.sessions.get('code-1')).toMatchObject({
      id: 'code-1',
      pid: null,
      ended_at: null,
      task: null,
      dimensions: null,
      grade: null,
    });
    await s.sessions.update('code-1', { pid: 4242, ended_at: 9_000, exit_code: 0, outcome: 'productive' });
    await s.sessions.update('code-1', {
      grade: 0.8125,
      grade_source: 'session',
      dimensions: { quality: 0.9, scope: 0.75 },
    });
    await s.sessions.update('code-1', {});
    expect(await s.sessions.get('code-1')).toMatchObject({
      pid: 4242,
      started_at: 5_000,
      ended_at: 9_000,
      exit_code: 0,
      outcome: 'productive',
      grade: 0.8125,
      grade_source: 'session',
      dimensions: { quality: 0.9, scope: 0.75 },
    });
    expect(await s.sessions.get('nope')).toBeNull();
  });

  test('sessions list newest first, from a time, up to a limit; open ones oldest first', async () => {
    const { store: s } = await b.fresh();
    await s.sessions.insert(session('a', 1_000));
    await s.sessions.insert(session('b', 3_000, { task: 'fix-login' }));
    await s.sessions.insert(session('c', 2_000));
    await s.sessions.insert(session('d', 3_000));
    await s.sessions.update('c', { ended_at: 2_500 });
    expect((await s.sessions.list()).map((r) => r.id)).toEqual(['d', 'b', 'c', 'a']);
    expect((await s.sessions.list({ since: 2_000 })).map((r) => r.id)).toEqual(['d', 'b', 'c']);
    expect((await s.sessions.list({ limit: 2 })).map((r) => r.id)).toEqual(['d', 'b']);
    expect((await s.sessions.list({ limit: 2 }))[1]!.task).toBe('fix-login');
    expect((await s.sessions.open()).map((r) => r.id)).toEqual(['a', 'b', 'd']);
  });

  test('lane states: one row per lane slot, replaced on each write, forgotten when no longer configured', async () => {
    const { store: s } = await b.fresh();
    await s.lanes.set({ lane_id: 'code#1', lane: 'code', slot: 1, state: 'idle', since: 1, session: null });
    await s.lanes.set({
      lane_id: 'code',
      lane: 'code',
      slot: 0,
      state: 'running',
      since: 2,
      session: 'code-7',
      target_share: 0.5,
    });
    await s.lanes.set({ lane_id: 'Triage', lane: 'Triage', slot: 0, state: 'idle', since: 3, session: null });
    await s.lanes.set({
      lane_id: 'code#1',
      lane: 'code',
      slot: 1,
      state: 'cooldown',
      since: 4,
      session: null,
      deadline: 7204,
    });
    // Byte order, as SQLite sorts: upper case first.
    expect((await s.lanes.list()).map(({ host: _host, ...row }) => row)).toEqual([
      {
        lane_id: 'Triage',
        lane: 'Triage',
        slot: 0,
        state: 'idle',
        since: 3,
        session: null,
        target_share: null,
        deadline: null,
      },
      {
        lane_id: 'code',
        lane: 'code',
        slot: 0,
        state: 'running',
        since: 2,
        session: 'code-7',
        target_share: 0.5,
        deadline: null,
      },
      {
        lane_id: 'code#1',
        lane: 'code',
        slot: 1,
        state: 'cooldown',
        since: 4,
        session: null,
        target_share: null,
        deadline: 7204,
      },
    ]);
    await s.lanes.retain(['code', 'content']);
    expect((await s.lanes.list()).map((l) => l.lane_id)).toEqual(['code']);
    await s.lanes.retain([]);
    expect(await s.lanes.list()).toEqual([]);
  });

  test('decisions: newest first, by seq then in the order recorded; a time filter and a limit', async () => {
    const { store: s } = await b.fresh();
    await s.decisions.record({ seq: 1, at: 100, kind: 'tick', chosen: ['code'], detail: { why: 'first' } });
    await s.decisions.record({ seq: 2, at: 200, kind: 'tick', chosen: [], detail: { why: 'second' } });
    await s.decisions.record({
      seq: 2,
      at: 200,
      kind: 'pivot',
      chosen: ['triage'],
      detail: { why: 'third', n: [1, 2] },
    });
    expect(await s.decisions.list()).toEqual([
      { seq: 2, at: 200, kind: 'pivot', chosen: ['triage'], detail: { why: 'third', n: [1, 2] } },
      { seq: 2, at: 200, kind: 'tick', chosen: [], detail: { why: 'second' } },
      { seq: 1, at: 100, kind: 'tick', chosen: ['code'], detail: { why: 'first' } },
    ]);
    expect((await s.decisions.list({ limit: 1 })).map((d) => d.kind)).toEqual(['pivot']);
    expect(await s.decisions.list({ since: 150, limit: -1 })).toHaveLength(2);
  });

  test('late grades wait until applied, oldest first', async () => {
    const { store: s } = await b.fresh();
    expect(await s.lateGrades.pending()).toEqual([]);
    // Grades of sessions this store ran (on a shared store: this host's sessions).
    for (const id of ['code-1', 'code-2'])
      await s.sessions.insert({
        id,
        lane: 'code',
        lane_id: 'code',
        arm: 'x:y',
        dispatch: 'tick',
        parent: null,
        started_at: 1,
        log_path: null,
      });
    await s.lateGrades.add({ session: 'code-1', grade: 0.25, dimensions: null, at: 10 });
    await s.lateGrades.add({ session: 'code-2', grade: 1, dimensions: { tests: 1 }, at: 20 });
    const pending = await s.lateGrades.pending();
    expect(pending).toEqual([
      { id: expect.any(Number), session: 'code-1', grade: 0.25, dimensions: null, at: 10 },
      { id: expect.any(Number), session: 'code-2', grade: 1, dimensions: { tests: 1 }, at: 20 },
    ]);
    await s.lateGrades.applied(pending[0]!.id);
    expect((await s.lateGrades.pending()).map((g) => g.session)).toEqual(['code-2']);
  });

  test('runtime info: set, replaced, removed with null', async () => {
    const { store: s } = await b.fresh();
    expect(await s.runtimeInfo.get('next_tick')).toBeNull();
    await s.runtimeInfo.set('next_tick', '1700000000000');
    await s.runtimeInfo.set('enabled_lanes', '["code","triage"]');
    await s.runtimeInfo.set('next_tick', '1700000001000');
    expect(await s.runtimeInfo.get('next_tick')).toBe('1700000001000');
    expect(await s.runtimeInfo.get('enabled_lanes')).toBe('["code","triage"]');
    await s.runtimeInfo.set('next_tick', null);
    expect(await s.runtimeInfo.get('next_tick')).toBeNull();
  });

  test('learning: nothing until saved; a save comes back whole; lanes a later save leaves out are kept', async () => {
    const { store: s } = await b.fresh();
    expect(await s.learning.load()).toBeNull();
    const first = memory('first', ['code', 'triage'], 3);
    await s.learning.save(first, 1_000);
    expect(await s.learning.load()).toEqual(first);
    const second = memory('second', ['code'], 7);
    await s.learning.save(second, 2_000);
    const loaded = await s.learning.load();
    expect(loaded?.learning.clock).toBe(7);
    expect(loaded?.fairness).toEqual(second.fairness);
    expect(loaded?.learning.beliefs).toEqual({
      code: second.learning.beliefs.code,
      triage: first.learning.beliefs.triage,
    });
  });

  test('learning: two clients saving at once lose neither save; each row is one whole save', async () => {
    const f = await b.fresh();
    const other = await f.another();
    for (let round = 1; round <= 10; round++) {
      const a = memory(`a${round}`, ['shared', `only-a-${round}`], round * 2);
      const c = memory(`c${round}`, ['shared', `only-c-${round}`], round * 2 + 1);
      await Promise.all([f.store.learning.save(a, round), other.learning.save(c, round)]);
      const loaded = (await f.store.learning.load())!;
      // Both saves' own lanes are there; the shared rows all come from the same save.
      expect(loaded.learning.beliefs[`only-a-${round}`]).toEqual(a.learning.beliefs[`only-a-${round}`]);
      expect(loaded.learning.beliefs[`only-c-${round}`]).toEqual(c.learning.beliefs[`only-c-${round}`]);
      const winner = loaded.learning.clock === a.learning.clock ? a : c;
      expect([a.learning.clock, c.learning.clock]).toContain(loaded.learning.clock);
      expect(loaded.fairness).toEqual(winner.fairness);
      expect(loaded.arms).toEqual(winner.arms);
      expect(loaded.graded).toEqual(winner.graded);
      expect(loaded.learning.beliefs.shared).toEqual(winner.learning.beliefs.shared);
    }
  });
}
