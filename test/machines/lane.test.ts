import { getAdjacencyMap, getShortestPaths } from 'xstate/graph';
import { describe, expect, test } from 'vitest';
import { laneMachine, waitsForDeadline, type LaneEvent } from '../../src/machines/lane.js';
import { laneInput, recordingLane, startLane } from './harness.js';

describe('lane machine', () => {
  test('a full cycle: dispatch, claim, run, grade, cooldown, respawn once, then idle', () => {
    const l = startLane();
    l.send({ type: 'DISPATCH', dispatch: 'tick', tickSeq: 1 });
    expect(l.value()).toEqual({ claiming: 'slot' });
    const first = l.ctx().sessionId!;
    expect(first).toBe('code-1');
    expect(l.take()).toEqual([
      { type: 'requestClaim', laneId: 'code', lane: 'code', sessionId: 'code-1', key: 'lane:code', slots: 1 },
    ]);

    l.grant(7, 123);
    expect(l.value()).toEqual({ running: 'session' });
    // The arm choice is noted (with its draw and what was left out), then the session starts.
    const [note, start] = l.take();
    expect(note).toMatchObject({
      type: 'laneNote',
      note: 'arm',
      detail: { sessionId: first, source: 'global', excluded: {} },
    });
    expect(start).toMatchObject({
      type: 'startSession',
      sessionId: first,
      dispatch: 'tick',
      parent: null,
      chain: 0,
      claim: { key: 'lane:code', token: 7 },
    });
    expect(['sim:a', 'sim:b']).toContain((start as { arm: string }).arm);

    l.exit();
    expect(l.value()).toEqual({ running: 'grading' });
    expect(l.take()).toEqual([{ type: 'releaseClaim', laneId: 'code', sessionId: first, key: 'lane:code', token: 7 }]);

    l.grade(0.9);
    expect(l.value()).toBe('cooldown');
    const until = l.ctx().deadline!;
    expect(until).toBe(l.clock() + 1000);

    l.send({ type: 'WAKE', now: until - 1 });
    expect(l.value()).toBe('cooldown');
    l.take();
    l.send({ type: 'WAKE', now: until });
    // respawn is passed through at once: the lane is claiming for the follow-up session
    expect(l.value()).toEqual({ claiming: 'slot' });
    expect(l.ctx()).toMatchObject({ dispatch: 'respawn', parent: first, chain: 1 });
    const second = l.ctx().sessionId!;
    expect(second).not.toBe(first);
    expect(l.take().map((i) => i.type)).toEqual(['laneNote', 'requestClaim']);

    l.grant(8, 5);
    l.exit();
    l.grade(0.95);
    l.send({ type: 'WAKE', now: l.ctx().deadline! });
    // The chain guard: one respawn per chain, then back to normal cadence.
    expect(l.value()).toBe('idle');
  });

  test('a grade under the threshold returns the lane to idle after the cooldown', () => {
    const l = startLane();
    l.send({ type: 'DISPATCH', dispatch: 'tick', tickSeq: 1 });
    l.grant();
    l.exit('noop');
    l.grade(0.64);
    l.send({ type: 'TICK', reason: 'timer', now: l.ctx().deadline! });
    expect(l.value()).toBe('idle');
  });

  test('an ungraded session never respawns', () => {
    const l = startLane({ cooldownMs: 0 });
    l.send({ type: 'DISPATCH', dispatch: 'tick', tickSeq: 1 });
    l.grant();
    l.exit('unknown');
    l.grade(null);
    expect(l.value()).toBe('idle');
  });

  test('a zero cooldown respawns on the grade itself, with no wake-up needed', () => {
    const l = startLane({ cooldownMs: 0 });
    l.send({ type: 'DISPATCH', dispatch: 'tick', tickSeq: 1 });
    const id = l.ctx().sessionId!;
    l.grant();
    l.exit();
    l.grade(0.8);
    expect(l.value()).toEqual({ claiming: 'slot' });
    expect(l.ctx()).toMatchObject({ dispatch: 'respawn', parent: id, chain: 1 });
  });

  test('a denied lane slot returns the lane to idle and tells the parent', () => {
    const l = startLane();
    l.send({ type: 'DISPATCH', dispatch: 'tick', tickSeq: 1 });
    l.take();
    l.send({
      type: 'CLAIM_DENIED',
      laneId: 'code',
      sessionId: l.ctx().sessionId!,
      key: 'lane:code',
      holder: 'other',
      expiresAt: 5,
      reason: 'lane:code held by other',
    });
    expect(l.value()).toBe('idle');
    expect(l.take().map((i) => i.type)).toEqual(['laneNote', 'tellParentDenied']);
  });

  test('a task-backed session claims the lane slot, then task:<id>, and runs with the task', () => {
    const l = startLane();
    const task = { id: 'fix-login', key: 'task:fix-login', path: '/tasks/fix-login.md', tier: 2 as const };
    l.send({ type: 'DISPATCH', dispatch: 'tick', tickSeq: 1, task });
    const id = l.ctx().sessionId!;
    expect(l.take()).toEqual([
      { type: 'requestClaim', laneId: 'code', lane: 'code', sessionId: id, key: 'lane:code', slots: 1 },
    ]);
    l.grant(3, 1);
    expect(l.value()).toEqual({ claiming: 'task' });
    expect(l.take()).toEqual([
      expect.objectContaining({ note: 'arm' }),
      { type: 'requestClaim', laneId: 'code', lane: 'code', sessionId: id, key: 'task:fix-login', slots: 1 },
    ]);
    l.send({
      type: 'CLAIM_GRANTED',
      laneId: 'code',
      sessionId: id,
      key: 'task:fix-login',
      slot: 0,
      token: 4,
      expiresAt: 0,
      seed: 1,
    });
    expect(l.value()).toEqual({ running: 'session' });
    expect(l.take()).toEqual([
      expect.objectContaining({ type: 'startSession', sessionId: id, task, claim: { key: 'lane:code', token: 3 } }),
    ]);
    // Losing the task claim stops the session, like losing the slot.
    l.send({ type: 'CLAIM_LOST', laneId: 'code', sessionId: id, key: 'task:fix-login', reason: 'expired' });
    expect(l.take()).toEqual([
      { type: 'stopSession', laneId: 'code', sessionId: id, reason: 'task claim lost: expired' },
    ]);
  });

  test('a denied task claim gives the lane slot back and tells the parent which key was denied', () => {
    const l = startLane();
    l.send({ type: 'DISPATCH', dispatch: 'tick', tickSeq: 1, task: { id: 't', key: 'task:t', path: null, tier: 1 } });
    const id = l.ctx().sessionId!;
    l.grant(8, 1);
    l.take();
    l.send({
      type: 'CLAIM_DENIED',
      laneId: 'code',
      sessionId: id,
      key: 'task:t',
      holder: 'other',
      expiresAt: 5,
      reason: 'task:t held by other',
    });
    expect(l.value()).toBe('idle');
    expect(l.take()).toEqual([
      { type: 'releaseClaim', laneId: 'code', sessionId: id, key: 'lane:code', token: 8 },
      expect.objectContaining({ type: 'laneNote', note: 'denied' }),
      { type: 'tellParentDenied' },
    ]);
  });

  test('losing its lane slot stops the session; losing an agent claim does not', () => {
    const l = startLane();
    l.send({ type: 'DISPATCH', dispatch: 'tick', tickSeq: 1 });
    const id = l.ctx().sessionId!;
    l.grant(5, 1);
    l.take();
    l.send({ type: 'CLAIM_LOST', laneId: 'code', sessionId: id, key: 'task:x', reason: 'expired' });
    expect(l.take()).toEqual([]);
    l.send({
      type: 'CLAIM_LOST',
      laneId: 'code',
      sessionId: id,
      key: 'lane:code',
      reason: 'lane:code expired before it was renewed',
    });
    expect(l.take()).toEqual([
      {
        type: 'stopSession',
        laneId: 'code',
        sessionId: id,
        reason: 'lane slot lost: lane:code expired before it was renewed',
      },
    ]);
    // It still waits for the exit, which the stop brings.
    expect(l.value()).toEqual({ running: 'session' });
  });

  test('events of another session are ignored', () => {
    const l = startLane();
    l.send({ type: 'DISPATCH', dispatch: 'tick', tickSeq: 1 });
    l.send({
      type: 'CLAIM_GRANTED',
      laneId: 'code',
      sessionId: 'code-999',
      key: 'lane:code',
      slot: 0,
      token: 1,
      expiresAt: 0,
      seed: 1,
    });
    expect(l.value()).toEqual({ claiming: 'slot' });
    l.send({
      type: 'CLAIM_DENIED',
      laneId: 'code',
      sessionId: 'code-999',
      key: 'lane:code',
      holder: 'x',
      expiresAt: 0,
      reason: 'x',
    });
    expect(l.value()).toEqual({ claiming: 'slot' });
  });

  test('eligibility comes before the draw: an out-of-tier or blocked arm is never chosen, and with none left the lane waits', () => {
    for (let seed = 0; seed < 60; seed++) {
      const arms = ['a:cheap', 'b:mid', 'c:top'];
      const armInfo = arms.map((id, i) => ({
        id,
        backend: id.split(':')[0]!,
        model: id.split(':')[1]!,
        tier: i + 1,
        cost: 0,
      }));
      const l = startLane({ arms, armInfo, bounds: { maxTier: 2 } });
      l.send({ type: 'DISPATCH', dispatch: 'tick', tickSeq: 1 });
      l.take();
      l.send({
        type: 'CLAIM_GRANTED',
        laneId: 'code',
        sessionId: l.ctx().sessionId!,
        key: 'lane:code',
        slot: 0,
        token: 1,
        expiresAt: 0,
        seed,
        blockedArms: { a: 'quota window "5h" at 95%' },
      });
      expect(l.ctx().arm).toBe('b:mid');
    }
    const none = startLane({ arms: ['a:x'] });
    none.send({ type: 'DISPATCH', dispatch: 'tick', tickSeq: 1 });
    none.take();
    none.send({
      type: 'CLAIM_GRANTED',
      laneId: 'code',
      sessionId: none.ctx().sessionId!,
      key: 'lane:code',
      slot: 0,
      token: 1,
      expiresAt: 0,
      seed: 1,
      blockedArms: { 'a:x': '3 failed starts in a row' },
    });
    expect(none.value()).toBe('waiting');
    expect(none.take().find((i) => i.type === 'laneNote')).toMatchObject({
      note: 'no_arm',
      detail: { excluded: { 'a:x': 'arm blocked: 3 failed starts in a row' } },
    });
  });

  test('a lane with no eligible arm gives its slot back and waits before it may run again', () => {
    const l = startLane({ arms: [] });
    l.send({ type: 'DISPATCH', dispatch: 'tick', tickSeq: 1 });
    const id = l.ctx().sessionId!;
    l.take();
    l.grant(3, 1);
    expect(l.value()).toBe('waiting');
    expect(l.take()).toEqual([
      { type: 'releaseClaim', laneId: 'code', sessionId: id, key: 'lane:code', token: 3 },
      { type: 'laneNote', laneId: 'code', note: 'no_arm', detail: { until: l.ctx().deadline, excluded: {} } },
    ]);
    l.send({ type: 'WAKE', now: l.ctx().deadline! - 1 });
    expect(l.value()).toBe('waiting');
    l.send({ type: 'WAKE', now: l.ctx().deadline! });
    expect(l.value()).toBe('idle');
  });

  test('while draining: no dispatch, a late grant is given back, a good grade waits in cooldown for the next start', () => {
    const l = startLane();
    l.send({ type: 'DISPATCH', dispatch: 'tick', tickSeq: 1 });
    const id = l.ctx().sessionId!;
    l.send({ type: 'DRAIN', reason: 'test' });
    l.take();
    l.grant(4, 1);
    expect(l.value()).toBe('idle');
    expect(l.take()[0]).toEqual({ type: 'releaseClaim', laneId: 'code', sessionId: id, key: 'lane:code', token: 4 });
    l.send({ type: 'DISPATCH', dispatch: 'tick', tickSeq: 2 });
    expect(l.value()).toBe('idle');

    const r = startLane({ cooldownMs: 0 });
    r.send({ type: 'DISPATCH', dispatch: 'tick', tickSeq: 1 });
    r.grant();
    r.send({ type: 'DRAIN', reason: 'test' });
    expect(r.value()).toEqual({ running: 'session' });
    r.exit();
    r.grade(0.99);
    // The cooldown is over, but a drain ends nothing: the lane keeps its respawn for the next start.
    expect(r.value()).toBe('cooldown');
    r.send({ type: 'WAKE', now: r.clock() + 5000 });
    expect(r.value()).toBe('cooldown');
    const parent = r.ctx().sessionId;
    r.send({ type: 'RUNTIME_RECOVERED', after: 9, machines: 'x', mode: 'service', stop: 'drain' });
    expect(r.value()).toEqual({ claiming: 'slot' });
    expect(r.ctx()).toMatchObject({ dispatch: 'respawn', parent, chain: 1 });
  });

  test('the arm is drawn from the seed: the same seed gives the same arm', () => {
    const arms = Array.from({ length: 8 }, (_, i) => `sim:m${i}`);
    const armFor = (seed: number) => {
      const l = startLane({ arms });
      l.send({ type: 'DISPATCH', dispatch: 'tick', tickSeq: 1 });
      l.send({
        type: 'CLAIM_GRANTED',
        laneId: 'code',
        sessionId: l.ctx().sessionId!,
        key: 'lane:code',
        slot: 0,
        token: 1,
        expiresAt: 0,
        seed,
      });
      return l.ctx().arm;
    };
    expect(armFor(42)).toBe(armFor(42));
    expect(new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(armFor)).size).toBeGreaterThan(1);
  });

  test('every state and transition is reachable with explicit events (xstate/graph)', () => {
    // Events offered in each state, built from its context so guards can pass or fail. Time and
    // seq are fixed per event kind so the state space stays finite.
    const events = (snap: {
      context: ReturnType<typeof laneInput> & { sessionId: string | null; deadline: number | null };
    }): LaneEvent[] => {
      const id = snap.context.sessionId ?? 'none';
      const at = snap.context.deadline ?? 0;
      const base = { laneId: 'code', sessionId: id };
      return [
        { type: 'DISPATCH', dispatch: 'tick', tickSeq: 1, seq: 1, now: 10 },
        {
          type: 'DISPATCH',
          dispatch: 'tick',
          tickSeq: 1,
          seq: 1,
          now: 10,
          task: { id: 't1', key: 'task:t1', path: null, tier: 2 },
        },
        { type: 'CLAIM_GRANTED', ...base, key: 'lane:code', slot: 0, token: 1, expiresAt: 0, seq: 2, now: 20, seed: 9 },
        { type: 'CLAIM_GRANTED', ...base, key: 'task:t1', slot: 0, token: 2, expiresAt: 0, seq: 2, now: 20, seed: 9 },
        { type: 'CLAIM_DENIED', ...base, key: 'lane:code', holder: 'h', expiresAt: 0, reason: 'held', seq: 3, now: 30 },
        { type: 'CLAIM_DENIED', ...base, key: 'task:t1', holder: 'h', expiresAt: 0, reason: 'held', seq: 3, now: 30 },
        {
          type: 'SESSION_EXITED',
          ...base,
          exitCode: 0,
          signal: null,
          outcome: 'productive',
          durationMs: 1,
          reason: null,
          seq: 4,
          now: 40,
        },
        {
          type: 'DISPATCH',
          dispatch: 'respawn',
          tickSeq: null,
          seq: 9,
          now: at,
          task: { id: 't1', key: 'task:t1', path: null, tier: 2 },
          why: 'continues task t1',
        },
        { type: 'SESSION_GRADED', ...base, grade: 0.9, source: 'session', dimensions: null, seq: 5, now: 50 },
        { type: 'SESSION_GRADED', ...base, grade: 0.1, source: 'session', dimensions: null, seq: 6, now: 60 },
        { type: 'WAKE', seq: 7, now: at },
        { type: 'TICK', reason: 'timer', seq: 8, now: at },
      ] as LaneEvent[];
    };
    const { machine } = recordingLane();
    const edges = new Set<string>();
    const states = new Set<string>();
    for (const arms of [['sim:a'], []]) {
      const options = {
        input: laneInput({ arms, chainLimit: 1 }),
        events: events as never,
        serializeState: (s: { value: unknown; context: { chain: number; grade: number | null; task: unknown } }) =>
          JSON.stringify([
            s.value,
            s.context.chain,
            s.context.grade !== null && s.context.grade > 0.5,
            s.context.task !== null,
          ]),
      };
      // Every reachable state has a shortest path from the start…
      for (const p of getShortestPaths(machine, options as never)) {
        states.add(JSON.stringify(p.state.value));
        if ((p.state.context as { dispatch: string }).dispatch === 'respawn') states.add('"respawn"');
      }
      // …and every transition out of every reachable state is listed in the adjacency map.
      type Node = {
        state: { value: unknown };
        transitions: Record<string, { event: { type: string }; state: { value: unknown } }>;
      };
      for (const node of Object.values(getAdjacencyMap(machine, options as never)) as Node[]) {
        for (const t of Object.values(node.transitions)) {
          const from = JSON.stringify(node.state.value);
          const to = JSON.stringify(t.state.value);
          if (from !== to) edges.add(`${from} -${t.event.type}-> ${to}`);
        }
      }
    }
    expect([...states].sort()).toEqual(
      [
        '{"claiming":"slot"}',
        '{"claiming":"task"}',
        '"cooldown"',
        '"idle"',
        '"respawn"',
        '{"respawn":"task"}',
        '"waiting"',
        '{"running":"grading"}',
        '{"running":"session"}',
      ].sort(),
    );
    for (const edge of [
      '"idle" -DISPATCH-> {"claiming":"slot"}',
      '{"claiming":"slot"} -CLAIM_GRANTED-> {"running":"session"}',
      '{"claiming":"slot"} -CLAIM_GRANTED-> {"claiming":"task"}',
      '{"claiming":"task"} -CLAIM_GRANTED-> {"running":"session"}',
      '{"claiming":"slot"} -CLAIM_DENIED-> "idle"',
      '{"claiming":"task"} -CLAIM_DENIED-> "idle"',
      '{"claiming":"slot"} -CLAIM_GRANTED-> "waiting"',
      '{"running":"session"} -SESSION_EXITED-> {"running":"grading"}',
      '{"running":"grading"} -SESSION_GRADED-> "cooldown"',
      '"cooldown" -WAKE-> {"claiming":"slot"}', // via respawn.lane
      '"cooldown" -WAKE-> {"respawn":"task"}',
      '{"respawn":"task"} -DISPATCH-> {"claiming":"slot"}',
      '"cooldown" -WAKE-> "idle"',
      '"cooldown" -TICK-> "idle"',
      '"waiting" -WAKE-> "idle"',
    ]) {
      expect(edges, edge).toContain(edge);
    }
  });
});

describe('which lanes the fleet sends TICK, WAKE and SESSION_STARTED to', () => {
  // The fleet sends those events only to lanes that wait for a deadline (waitsForDeadline): in any
  // other state a lane has no transition on them, and only a guarded eventless transition (checked
  // after every event, against its `now`) could make one of them move a lane. A state given such a
  // transition must be one the fleet keeps sending them to.
  test('every state with a guarded eventless transition is one waitsForDeadline names', () => {
    type Node = { key: string; always?: { guard?: unknown }[]; states: Record<string, Node> };
    const guarded: string[] = [];
    const visit = (node: Node, top: string) => {
      if ((node.always ?? []).some((t) => t.guard)) guarded.push(top);
      for (const child of Object.values(node.states)) visit(child, top);
    };
    for (const [top, node] of Object.entries(laneMachine.states as unknown as Record<string, Node>)) visit(node, top);
    expect([...new Set(guarded)].sort()).toEqual(['cooldown', 'waiting']);
    for (const top of guarded) expect(waitsForDeadline(top)).toBe(true);
    expect(['idle', 'claiming', 'running', 'respawn'].map(waitsForDeadline)).toEqual([false, false, false, false]);
    // Nor does any state take these events itself.
    const handles = (node: Node & { on?: Record<string, unknown> }): string[] => [
      ...Object.keys(node.on ?? {}),
      ...Object.values(node.states).flatMap((c) => handles(c as Node & { on?: Record<string, unknown> })),
    ];
    const taken = handles(laneMachine.root as unknown as Node & { on?: Record<string, unknown> });
    expect(taken).toEqual(expect.arrayContaining(['DISPATCH', 'CLAIM_GRANTED', 'SESSION_EXITED', 'SESSION_GRADED']));
    for (const type of ['TICK', 'WAKE', 'SESSION_STARTED']) expect(taken).not.toContain(type);
  });
});
