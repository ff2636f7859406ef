import { laneConfig as lane } from '../helpers/settings.js';
import { describe, expect, test } from 'vitest';
import type { LaneConfig } from '../../src/config/types.js';
import type { StampedEvent } from '../../src/machines/events.js';
import type { RecordDecisionIntent, RequestClaimIntent } from '../../src/machines/intents.js';
import { emptyFairness } from '../../src/policy/fairness.js';
import { emptyLearning } from '../../src/policy/learning.js';
import { planTick, type Decision, type LaneView } from '../../src/policy/plan-tick.js';
import { defaultSelection } from '../../src/runtime/selection.js';
import { FleetHost } from '../../src/streams/fleet-host.js';
import type { Unstamped } from './harness.js';

function fleet(lanes: LaneConfig[], width: number) {
  const host = new FleetHost({ width, lanes, selection: defaultSelection(lanes) });
  let seq = 0;
  const send = (e: Unstamped<StampedEvent>) =>
    host.deliver({ ...e, seq: ++seq, now: e.now ?? 1000 + seq } as StampedEvent);
  const states = () => Object.fromEntries(host.lanes().map((l) => [l.laneId, l.state]));
  return { host, send, states };
}

type TickDecision = Extract<RecordDecisionIntent, { kind: 'tick' }>;
const decisionOf = (intents: { type: string }[]) => intents.find((i) => i.type === 'recordDecision') as TickDecision;
const ids = (d: { chosen: { laneId: string }[] }) => d.chosen.map((c) => c.laneId);

/** The planner alone, with the default settings and nothing learned. */
function plan(view: LaneView[], width: number, seed = 1): Decision {
  const lanes = [...new Set(view.map((v) => v.lane))].map((name) => lane(name));
  return planTick({
    view,
    width,
    seed,
    now: 0,
    learning: emptyLearning(),
    fairness: emptyFairness(),
    settings: defaultSelection(lanes).plan,
    tasks: null,
    inputs: {},
  });
}

describe('fleet and selector', () => {
  test('a tick dispatches at most `width` idle lanes and records why the others were skipped', () => {
    const f = fleet(
      ['a', 'b', 'c', 'd', 'e'].map((n) => lane(n)),
      3,
    );
    const intents = f.send({ type: 'TICK', reason: 'start', seed: 7 });
    const decision = decisionOf(intents);
    expect(decision.chosen).toHaveLength(3);
    expect(decision.skipped.filter((s) => s.reason === 'width reached')).toHaveLength(2);
    const claims = intents.filter((i) => i.type === 'requestClaim') as RequestClaimIntent[];
    expect(claims.map((c) => c.laneId).sort()).toEqual(ids(decision).sort());
    expect(Object.values(f.states()).filter((s) => s === 'claiming')).toHaveLength(3);
  });

  test('the same lane states and seed give the identical decision', () => {
    const decide = (seed: number) =>
      fleet(
        ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => lane(n)),
        2,
      ).send({ type: 'TICK', reason: 'timer', seed });
    expect(decide(99)).toEqual(decide(99));
    const chosen = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((s) => JSON.stringify(ids(decisionOf(decide(s))))));
    expect(chosen.size).toBeGreaterThan(1);
  });

  test('disabled lanes and busy lanes are never dispatched', () => {
    const f = fleet([lane('a'), lane('b', { enabled: false }), lane('c')], 3);
    f.send({ type: 'TICK', reason: 'start', seed: 1 });
    const again = f.send({ type: 'TICK', reason: 'timer', seed: 2 });
    const d = decisionOf(again);
    expect(d.chosen).toEqual([]);
    expect(d.skipped).toEqual(
      expect.arrayContaining([
        { laneId: 'b', reason: 'disabled' },
        { laneId: 'a', reason: 'claiming' },
      ]),
    );
  });

  test('a lane that runs alone is never dispatched beside others', () => {
    for (let seed = 0; seed < 40; seed++) {
      const f = fleet([lane('a'), lane('b'), lane('cleanup', { parallel: false })], 3);
      const d = decisionOf(f.send({ type: 'TICK', reason: 'start', seed }));
      if (ids(d).includes('cleanup')) expect(ids(d)).toEqual(['cleanup']);
      else expect(ids(d).sort()).toEqual(['a', 'b']);
    }
    // While another lane runs, it waits with its reason.
    const p = plan(
      [
        { laneId: 'a', lane: 'a', state: 'running', enabled: true, parallel: true },
        { laneId: 'cleanup', lane: 'cleanup', state: 'idle', enabled: true, parallel: false },
      ],
      3,
    );
    expect(p.chosen).toEqual([]);
    expect(p.skipped).toContainEqual({ laneId: 'cleanup', reason: 'runs alone; others are running' });
  });

  test('a denied slot pivots to the next-ranked idle lane of the same tick', () => {
    const f = fleet(
      ['a', 'b', 'c', 'd'].map((n) => lane(n)),
      2,
    );
    const tick = f.send({ type: 'TICK', reason: 'start', seed: 3 });
    const d = decisionOf(tick);
    const [denied] = ids(d);
    const claim = tick.find((i) => i.type === 'requestClaim' && i.laneId === denied) as RequestClaimIntent;
    const out = f.send({
      type: 'CLAIM_DENIED',
      laneId: denied!,
      sessionId: claim.sessionId,
      key: claim.key,
      holder: 'someone',
      expiresAt: 0,
      reason: 'held',
    });
    const pivot = out.find((i) => i.type === 'recordDecision') as RecordDecisionIntent;
    const expected = d.ranked.map((r) => r.lane).find((id) => !ids(d).includes(id));
    expect(pivot).toMatchObject({
      kind: 'pivot',
      chosen: [{ laneId: expected, task: null }],
      reason: 'lane slot denied: next lane',
    });
    expect(out).toContainEqual(expect.objectContaining({ type: 'requestClaim', laneId: expected }));
    expect(f.states()[denied!]).toBe('idle');
  });

  test('a lane with concurrency 2 has two slots that run at once', () => {
    const f = fleet([lane('code', { concurrency: 2 })], 3);
    const intents = f.send({ type: 'TICK', reason: 'start', seed: 1 });
    const claims = intents.filter((i) => i.type === 'requestClaim') as RequestClaimIntent[];
    expect(claims.map((c) => c.laneId).sort()).toEqual(['code', 'code.2']);
    expect(new Set(claims.map((c) => c.sessionId)).size).toBe(2);
    expect(claims.every((c) => c.key === 'lane:code' && c.slots === 2)).toBe(true);
    const starts = claims.flatMap((c, i) =>
      f.send({
        type: 'CLAIM_GRANTED',
        laneId: c.laneId,
        sessionId: c.sessionId,
        key: c.key,
        slot: i,
        token: i + 1,
        expiresAt: 0,
        seed: 1,
      }),
    );
    expect(starts.filter((i) => i.type === 'startSession')).toHaveLength(2);
    expect(f.states()).toEqual({ code: 'running', 'code.2': 'running' });
  });

  test('after DRAIN a tick dispatches nothing', () => {
    const f = fleet([lane('a'), lane('b')], 2);
    f.send({ type: 'DRAIN', reason: 'test' });
    const out = f.send({ type: 'TICK', reason: 'timer', seed: 1 });
    expect(out).toEqual([]);
    expect(Object.values(f.states())).toEqual(['idle', 'idle']);
  });

  test('the deadline the shell must wake for is the earliest cooldown end', () => {
    const f = fleet([lane('a', { cooldownMs: 5000 }), lane('b', { cooldownMs: 2000 })], 2);
    const tick = f.send({ type: 'TICK', reason: 'start', seed: 1 });
    const claims = tick.filter((i) => i.type === 'requestClaim') as RequestClaimIntent[];
    for (const c of claims) {
      f.send({
        type: 'CLAIM_GRANTED',
        laneId: c.laneId,
        sessionId: c.sessionId,
        key: c.key,
        slot: 0,
        token: 1,
        expiresAt: 0,
        seed: 1,
      });
      f.send({
        type: 'SESSION_EXITED',
        laneId: c.laneId,
        sessionId: c.sessionId,
        exitCode: 0,
        signal: null,
        outcome: 'noop',
        durationMs: 1,
        reason: null,
      });
      f.send({
        type: 'SESSION_GRADED',
        laneId: c.laneId,
        sessionId: c.sessionId,
        grade: 0.1,
        source: 'default',
        dimensions: null,
        now: 10_000,
      });
    }
    expect(f.host.nextDeadline()).toBe(12_000);
    f.send({ type: 'WAKE', now: 12_000 });
    expect(f.states()).toEqual({ a: 'cooldown', b: 'idle' });
    expect(f.host.nextDeadline()).toBe(15_000);
  });
});
