import { laneConfig as lane } from '../helpers/settings.js';
import { describe, expect, test } from 'vitest';
import type { LaneConfig } from '../../src/config/types.js';
import type { StampedEvent } from '../../src/machines/events.js';
import type {
  Intent,
  RecordDecisionIntent,
  RequestClaimIntent,
  SaveLearningIntent,
} from '../../src/machines/intents.js';
import type { SelectionSettings } from '../../src/machines/selector.js';
import type { Fairness } from '../../src/policy/fairness.js';
import type { Learning } from '../../src/policy/learning.js';
import type { Task } from '../../src/policy/task.js';
import { FleetHost } from '../../src/streams/fleet-host.js';
import { defaultSelection } from '../../src/runtime/selection.js';
import type { Unstamped } from './harness.js';

const task = (id: string, over: Partial<Task> = {}): Task => ({
  id,
  lane: 'a',
  state: 'ready',
  priority: 2,
  waitingFor: null,
  path: `/tasks/${id}.md`,
  title: null,
  ...over,
});

function fleet(lanes: LaneConfig[], width: number, selection?: SelectionSettings) {
  const host = new FleetHost({ width, lanes, selection: selection ?? defaultSelection(lanes) });
  let seq = 0;
  const send = (e: Unstamped<StampedEvent>) =>
    host.deliver({ ...e, seq: ++seq, now: e.now ?? 1000 + seq } as StampedEvent);
  const states = () => Object.fromEntries(host.lanes().map((l) => [l.laneId, l.state]));
  return { host, send, states, seq: () => seq };
}

type TickDecision = Extract<RecordDecisionIntent, { kind: 'tick' }>;
type PivotDecision = Extract<RecordDecisionIntent, { kind: 'pivot' }>;
const decisionOf = (intents: Intent[]) =>
  intents.find((i) => i.type === 'recordDecision' && i.kind === 'tick') as TickDecision | undefined;
const pivotOf = (intents: Intent[]) =>
  intents.find((i) => i.type === 'recordDecision' && i.kind === 'pivot') as PivotDecision | undefined;
const claimsOf = (intents: Intent[]) => intents.filter((i): i is RequestClaimIntent => i.type === 'requestClaim');
const savesOf = (intents: Intent[]) => intents.filter((i): i is SaveLearningIntent => i.type === 'saveLearning');
const ids = (d: { chosen: { laneId: string }[] }) => d.chosen.map((c) => c.laneId);

type Fleet = ReturnType<typeof fleet>;
const grant = (f: Fleet, c: RequestClaimIntent, token = 1) =>
  f.send({
    type: 'CLAIM_GRANTED',
    laneId: c.laneId,
    sessionId: c.sessionId,
    key: c.key,
    slot: 1,
    token,
    expiresAt: 0,
    seed: 17,
  });
const deny = (f: Fleet, c: RequestClaimIntent) =>
  f.send({
    type: 'CLAIM_DENIED',
    laneId: c.laneId,
    sessionId: c.sessionId,
    key: c.key,
    holder: 'someone-else',
    expiresAt: null,
    reason: 'held',
  });

/** Runs the session a granted lane-slot claim starts, to its grade; returns the grade's intents. */
function runSession(f: Fleet, c: RequestClaimIntent, grade: number | null, token = 1): Intent[] {
  const started = grant(f, c, token);
  expect(started).toContainEqual(
    expect.objectContaining({ type: 'startSession', laneId: c.laneId, sessionId: c.sessionId }),
  );
  f.send({ type: 'SESSION_STARTED', laneId: c.laneId, sessionId: c.sessionId, pid: 4242, arm: 'sim:a' });
  f.send({
    type: 'SESSION_EXITED',
    laneId: c.laneId,
    sessionId: c.sessionId,
    exitCode: 0,
    signal: null,
    outcome: 'productive',
    durationMs: 5,
    reason: null,
  });
  return f.send({
    type: 'SESSION_GRADED',
    laneId: c.laneId,
    sessionId: c.sessionId,
    grade,
    source: grade === null ? 'none' : 'session',
    dimensions: null,
  });
}
const gradeAgain = (f: Fleet, c: RequestClaimIntent, grade: number) =>
  f.send({
    type: 'SESSION_GRADED',
    laneId: c.laneId,
    sessionId: c.sessionId,
    grade,
    source: 'session',
    dimensions: null,
  });

describe('learning through the machines', () => {
  test("a grade of a lane's session updates that lane's belief, once", () => {
    const f = fleet([lane('a'), lane('b')], 1);
    const tick = f.send({ type: 'TICK', reason: 'start', seed: 3 });
    const [claim] = claimsOf(tick);
    const graded = runSession(f, claim!, 0.8);
    // The intent names the cause; the shell reads the learning itself from the actor.
    expect(savesOf(graded).filter((s) => s.cause === 'grade')).toEqual([
      { type: 'saveLearning', cause: 'grade', lane: claim!.lane },
    ]);
    const { learning } = f.host.selectorMemory();
    expect(learning.clock).toBe(1);
    expect(Object.keys(learning.beliefs)).toEqual([claim!.lane]);
    const belief = learning.beliefs[claim!.lane]!;
    expect(belief.since).toBe(1);
    expect(belief.posterior.model).toBe('npts');
    if (belief.posterior.model === 'npts') {
      expect(belief.posterior.counts.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 9); // weight 1
      expect(belief.posterior.counts[8]).toBeCloseTo(1, 9); // the grade 0.8, on its grid point
    }
    // The same grade again for the same session is not learned a second time.
    expect(savesOf(gradeAgain(f, claim!, 0.8))).toEqual([]);
    expect(savesOf(gradeAgain(f, claim!, 0.1))).toEqual([]);
    expect(f.host.selectorMemory().learning).toEqual(learning);
  });

  test('the arm that ran is credited, in its lane and globally; a censored grade teaches nothing', () => {
    const f = fleet([lane('a', { arms: ['sim:a', 'sim:b'], chainLimit: 0 })], 1);
    const [claim] = claimsOf(f.send({ type: 'TICK', reason: 'start', seed: 1 }));
    const started = grant(f, claim!, 1).find((i) => i.type === 'startSession') as { arm: string };
    f.send({
      type: 'SESSION_EXITED',
      laneId: 'a',
      sessionId: claim!.sessionId,
      exitCode: 0,
      signal: null,
      outcome: 'productive',
      durationMs: 5,
      reason: null,
    });
    f.send({
      type: 'SESSION_GRADED',
      laneId: 'a',
      sessionId: claim!.sessionId,
      grade: 0.8,
      source: 'session',
      dimensions: null,
      arm: started.arm,
    });
    const { arms, learning } = f.host.selectorMemory();
    expect(Object.keys(arms.beliefs).sort()).toEqual([`*|${started.arm}`, `a|${started.arm}`]);
    expect(learning.clock).toBe(1);

    // The next session's agent could not start: its default grade is kept off both posteriors.
    f.send({ type: 'WAKE', now: 10_000_000 });
    const [next] = claimsOf(f.send({ type: 'TICK', reason: 'timer', seed: 2, now: 10_000_001 }));
    grant(f, next!, 2);
    f.send({
      type: 'SESSION_EXITED',
      laneId: 'a',
      sessionId: next!.sessionId,
      exitCode: null,
      signal: null,
      outcome: 'failed',
      durationMs: 0,
      reason: 'command not found: x',
    });
    f.send({
      type: 'SESSION_GRADED',
      laneId: 'a',
      sessionId: next!.sessionId,
      grade: 0.05,
      source: 'default',
      dimensions: null,
      arm: 'sim:b',
      censored: 'the agent did not start',
    });
    expect(f.host.selectorMemory()).toMatchObject({ arms, learning });
  });

  test('noop sessions in a row are counted per lane for the backoff; a productive one resets the count', () => {
    const f = fleet([lane('a')], 1);
    const exit = (outcome: 'noop' | 'productive' | 'failed') =>
      f.send({
        type: 'SESSION_EXITED',
        laneId: 'a',
        sessionId: `a-${outcome}`,
        exitCode: 0,
        signal: null,
        outcome,
        durationMs: 1,
        reason: null,
      });
    const noops = () => f.host.selectorMemory().fairness.noops?.a;
    exit('noop');
    exit('noop');
    exit('failed');
    exit('noop');
    expect(noops()).toBe(3);
    exit('productive');
    expect(noops()).toBe(0);
  });

  test('a null grade is not learned', () => {
    const f = fleet([lane('a')], 1);
    const [claim] = claimsOf(f.send({ type: 'TICK', reason: 'start', seed: 1 }));
    const out = runSession(f, claim!, null);
    expect(savesOf(out)).toEqual([]);
    expect(f.states()).toEqual({ a: 'cooldown' });
  });

  test('a grade for a lane id that is not configured is not learned', () => {
    const f = fleet([lane('a')], 1);
    expect(
      savesOf(
        f.send({
          type: 'SESSION_GRADED',
          laneId: 'ghost',
          sessionId: 'ghost-1',
          grade: 1,
          source: 'session',
          dimensions: null,
        }),
      ),
    ).toEqual([]);
  });

  test('two slots of one lane share one belief, keyed by the lane name', () => {
    const f = fleet([lane('code', { concurrency: 2 })], 2);
    const claims = claimsOf(f.send({ type: 'TICK', reason: 'start', seed: 1 }));
    expect(claims.map((c) => c.laneId).sort()).toEqual(['code', 'code.2']);
    runSession(f, claims[0]!, 0.5, 1);
    const first = f.host.selectorMemory().learning;
    runSession(f, claims[1]!, 0.5, 2);
    const second = f.host.selectorMemory().learning;
    expect(Object.keys(first.beliefs)).toEqual(['code']);
    expect(Object.keys(second.beliefs)).toEqual(['code']);
    expect(second.clock).toBe(2);
    const w = second.beliefs.code!.posterior;
    // Two grades in one belief: 1 (faded by the pull and idle decays) + 1.
    expect(w.model === 'npts' && w.counts.reduce((x, y) => x + y, 0)).toBeGreaterThan(1.9);
  });

  test('a lane graded high many times is chosen far more often than one graded low', () => {
    // Learn: both lanes run side by side (width 2), "good" is graded 0.9, "bad" 0.1, 15 times each.
    const lanes = [lane('good', { cooldownMs: 0, chainLimit: 0 }), lane('bad', { cooldownMs: 0, chainLimit: 0 })];
    const f = fleet(lanes, 2);
    let learned: { learning: Learning; fairness: Fairness } | null = null;
    for (let round = 0; round < 15; round++) {
      const claims = claimsOf(f.send({ type: 'TICK', reason: 'timer', seed: round }));
      expect(claims.map((c) => c.lane).sort()).toEqual(['bad', 'good']);
      for (const c of claims) runSession(f, c, c.lane === 'good' ? 0.9 : 0.1);
      learned = f.host.selectorMemory();
    }
    expect(learned!.learning.clock).toBe(30);

    // Decide: 50 seeds, width 1, each in a fresh fleet that restores what was learned.
    const pick = (restore: boolean, seed: number) => {
      const g = fleet(lanes, 1);
      if (restore) g.send({ type: 'SELECTOR_RESTORED', learning: learned!.learning, fairness: learned!.fairness });
      return ids(decisionOf(g.send({ type: 'TICK', reason: 'timer', seed }))!)[0];
    };
    const count = (restore: boolean) => {
      const n = { good: 0, bad: 0 };
      for (let seed = 1; seed <= 50; seed++) n[pick(restore, seed) as 'good' | 'bad']++;
      return n;
    };
    const after = count(true);
    expect(after.good).toBeGreaterThanOrEqual(45);
    expect(after.bad).toBeLessThanOrEqual(5);
    // Nothing learned: a coin toss.
    const before = count(false);
    expect(before.good).toBeGreaterThan(10);
    expect(before.bad).toBeGreaterThan(10);
  });
});

describe('pivot after a denial', () => {
  const withTasks = (lanes: LaneConfig[], width: number) => {
    const f = fleet(lanes, width, { ...defaultSelection(lanes), tasks: true });
    return f;
  };

  test('a denied task tries the next task of the lane, then a second denial moves to the next lane', () => {
    const f = withTasks([lane('a'), lane('b')], 1);
    f.send({
      type: 'TASKS_CHANGED',
      tasks: [task('a1', { priority: 3 }), task('a2', { priority: 2 }), task('a3', { priority: 1 })],
      problems: [],
    });
    const tick = f.send({ type: 'TICK', reason: 'start', seed: 4 });
    const tickSeq = f.seq();
    const d = decisionOf(tick)!;
    expect(d.chosen).toEqual([
      expect.objectContaining({ laneId: 'a', task: expect.objectContaining({ id: 'a1', key: 'task:a1' }) }),
    ]);
    expect(d.ranked.map((r) => r.lane)).toEqual(['a', 'b']);

    // The lane slot first, then the task.
    const [slotClaim] = claimsOf(tick);
    expect(slotClaim).toMatchObject({ laneId: 'a', key: 'lane:a' });
    const [taskClaim] = claimsOf(grant(f, slotClaim!));
    expect(taskClaim).toMatchObject({ laneId: 'a', key: 'task:a1', sessionId: slotClaim!.sessionId, slots: 1 });
    expect(f.host.lanes()[0]!.path).toBe('claiming.task');

    // Task denied: the same lane again, with its next task.
    const denied1 = deny(f, taskClaim!);
    expect(denied1).toContainEqual({
      type: 'releaseClaim',
      laneId: 'a',
      sessionId: slotClaim!.sessionId,
      key: 'lane:a',
      token: 1,
    });
    expect(pivotOf(denied1)).toMatchObject({
      kind: 'pivot',
      tickSeq,
      denied: { laneId: 'a', key: 'task:a1' },
      chosen: [{ laneId: 'a', lane: 'a', task: expect.objectContaining({ id: 'a2', key: 'task:a2' }) }],
      reason: 'task claim denied: next task of the lane',
    });
    const [slotClaim2] = claimsOf(denied1);
    expect(slotClaim2).toMatchObject({ laneId: 'a', key: 'lane:a' });
    expect(slotClaim2!.sessionId).not.toBe(slotClaim!.sessionId);
    const [taskClaim2] = claimsOf(grant(f, slotClaim2!, 2));
    expect(taskClaim2).toMatchObject({ key: 'task:a2' });

    // Second task denial in the lane within the tick: the next lane.
    const denied2 = deny(f, taskClaim2!);
    expect(pivotOf(denied2)).toMatchObject({
      tickSeq,
      denied: { laneId: 'a', key: 'task:a2' },
      chosen: [{ laneId: 'b', lane: 'b', task: null }],
      reason: 'second task denial in the lane: next lane',
    });
    expect(claimsOf(denied2)).toEqual([expect.objectContaining({ laneId: 'b', key: 'lane:b' })]);
    expect(f.states()).toEqual({ a: 'idle', b: 'claiming' });
  });

  test('a denied lane slot moves on to the next lane at once, with that lane’s task', () => {
    const f = withTasks([lane('a'), lane('b'), lane('c')], 1);
    f.send({
      type: 'TASKS_CHANGED',
      tasks: [task('a1', { priority: 4 }), task('a2', { priority: 4 }), task('b1', { lane: 'b', priority: 1 })],
      problems: [],
    });
    const tick = f.send({ type: 'TICK', reason: 'start', seed: 8 });
    expect(decisionOf(tick)!.ranked.map((r) => r.lane)).toEqual(['a', 'b', 'c']);
    const [slotClaim] = claimsOf(tick);
    const out = deny(f, slotClaim!);
    expect(pivotOf(out)).toMatchObject({
      denied: { laneId: 'a', key: 'lane:a' },
      chosen: [{ laneId: 'b', lane: 'b', task: expect.objectContaining({ id: 'b1', key: 'task:b1' }) }],
      reason: 'lane slot denied: next lane',
    });
    const [next] = claimsOf(out);
    expect(next).toMatchObject({ laneId: 'b', key: 'lane:b' });
    // And b goes on to claim its task.
    expect(claimsOf(grant(f, next!))).toEqual([expect.objectContaining({ laneId: 'b', key: 'task:b1' })]);
  });

  test('when no lane of the tick is left, the pivot says so and dispatches nothing', () => {
    const f = withTasks([lane('a')], 1);
    const [c] = claimsOf(f.send({ type: 'TICK', reason: 'start', seed: 1 }));
    const out = deny(f, c!);
    expect(pivotOf(out)).toMatchObject({ chosen: [], reason: 'no idle lane left in this tick' });
    expect(claimsOf(out)).toEqual([]);
  });

  test('a denial belonging to an older tick is not pivoted, and the decision says why', () => {
    const f = fleet(
      ['a', 'b', 'c'].map((n) => lane(n)),
      1,
    );
    const tick1 = f.send({ type: 'TICK', reason: 'start', seed: 2 });
    const [old] = claimsOf(tick1);
    const tick2 = f.send({ type: 'TICK', reason: 'timer', seed: 3 });
    const [current] = claimsOf(tick2);
    expect(current!.laneId).not.toBe(old!.laneId);

    const late = deny(f, old!);
    expect(late).toContainEqual(expect.objectContaining({ type: 'laneNote', laneId: old!.laneId, note: 'denied' }));
    expect(pivotOf(late)).toMatchObject({
      chosen: [],
      reason: 'tick 1 is over (tick 2 is current): the slot waits for the next tick',
    });
    expect(claimsOf(late)).toEqual([]);
    expect(f.states()[old!.laneId]).toBe('idle');

    // A denial of the current tick still pivots, to the lane that tick left over.
    const third = ['a', 'b', 'c'].find((l) => l !== old!.laneId && l !== current!.laneId)!;
    const now = deny(f, current!);
    expect(pivotOf(now)).toMatchObject({ chosen: [{ laneId: third }], reason: 'lane slot denied: next lane' });
  });
});

describe('determinism through the host', () => {
  test('the same events and seeds give the same intents; other seeds give other orders', () => {
    const run = (seed: number) => {
      const f = fleet(
        ['a', 'b', 'c', 'd', 'e'].map((n) => lane(n)),
        2,
      );
      return f.send({ type: 'TICK', reason: 'start', seed });
    };
    expect(run(1234)).toEqual(run(1234));
    const orders = new Set(
      [1, 2, 3, 4, 5, 6].map((s) =>
        decisionOf(run(s))!
          .ranked.map((r) => r.lane)
          .join(),
      ),
    );
    expect(orders.size).toBeGreaterThanOrEqual(3);
  });
});
