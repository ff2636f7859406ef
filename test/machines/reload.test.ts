// The fleet across a reload (CONFIG_RELOADED) and a crash (RUNTIME_RECOVERED): a running session
// is never disturbed, a removed lane starts nothing more, a new lane is dispatched, and a lane
// that was claiming when the runtime died asks for its claim again.
import { describe, expect, test } from 'vitest';
import type { LaneConfig } from '../../src/config/types.js';
import type { StampedEvent } from '../../src/machines/events.js';
import type { FleetInput } from '../../src/machines/fleet.js';
import type { Intent, RecordDecisionIntent } from '../../src/machines/intents.js';
import { FleetHost } from '../../src/streams/fleet-host.js';
import { defaultSelection } from '../../src/runtime/selection.js';
import { laneConfig as lane } from '../helpers/settings.js';
import type { Unstamped } from './harness.js';

function spec(lanes: LaneConfig[], width: number): FleetInput {
  return { width, lanes, selection: defaultSelection(lanes) };
}

function fleet(lanes: LaneConfig[], width: number) {
  const host = new FleetHost(spec(lanes, width));
  let seq = 0;
  let now = 1000;
  const send = (e: Unstamped<StampedEvent>) =>
    host.step({ ...e, seq: ++seq, now: (now = e.now ?? now + 1) } as StampedEvent).intents;
  const states = () => Object.fromEntries(host.lanes().map((l) => [l.laneId, l.path]));
  const session = (laneId: string) => host.lanes().find((l) => l.laneId === laneId)!.context.sessionId!;
  /** Grant the slot of every lane that asked in `intents`. */
  const grantAll = (intents: Intent[]) => {
    for (const i of intents)
      if (i.type === 'requestClaim')
        send({
          type: 'CLAIM_GRANTED',
          laneId: i.laneId,
          sessionId: i.sessionId,
          key: i.key,
          slot: 0,
          token: seq,
          expiresAt: 0,
          seed: 5,
        });
  };
  return { host, send, states, session, grantAll };
}

const chosen = (intents: Intent[]) =>
  (intents.find((i) => i.type === 'recordDecision') as Extract<RecordDecisionIntent, { kind: 'tick' }>).chosen.map(
    (c) => c.laneId,
  );

describe('CONFIG_RELOADED', () => {
  test('a removed lane keeps its running session to its end, then starts nothing and leaves the view', () => {
    const f = fleet([lane('a', { cooldownMs: 0 }), lane('b', { cooldownMs: 0 })], 2);
    f.grantAll(f.send({ type: 'TICK', reason: 'start', seed: 1 }));
    expect(f.states()).toEqual({ a: 'running.session', b: 'running.session' });
    const b = f.session('b');

    const reloaded = f.send({
      type: 'CONFIG_RELOADED',
      fleet: spec([lane('a', { cooldownMs: 0 }), lane('c')], 2),
      source: 'test',
      changes: ['lanes'],
    });
    // Nothing is stopped or started by the reload itself.
    expect(reloaded.filter((i) => i.type === 'stopSession' || i.type === 'startSession')).toEqual([]);
    expect(f.states()).toEqual({ a: 'running.session', c: 'idle', b: 'running.session' });

    // b ends well enough to respawn, but it was removed: it goes idle and out of view instead.
    f.send({
      type: 'SESSION_EXITED',
      laneId: 'b',
      sessionId: b,
      exitCode: 0,
      signal: null,
      outcome: 'productive',
      durationMs: 1,
      reason: null,
    });
    const graded = f.send({
      type: 'SESSION_GRADED',
      laneId: 'b',
      sessionId: b,
      grade: 0.9,
      source: 'session',
      dimensions: null,
    });
    expect(graded.filter((i) => i.type === 'requestClaim')).toEqual([]);
    expect(f.host.laneIds).toEqual(['a', 'c']);

    // The next tick sees the new lane, never the removed one.
    const tick = f.send({ type: 'TICK', reason: 'timer', seed: 2 });
    expect(chosen(tick)).toEqual(['c']);
  });

  test('new settings apply to what a lane starts next; more slots mean more actors', () => {
    const f = fleet([lane('a', { timeoutMs: 60_000 })], 1);
    f.send({
      type: 'CONFIG_RELOADED',
      fleet: spec([lane('a', { timeoutMs: 5000, concurrency: 2 })], 2),
      source: 'test',
      changes: ['lanes', 'width'],
    });
    expect(f.host.laneIds).toEqual(['a', 'a.2']);
    const tick = f.send({ type: 'TICK', reason: 'timer', seed: 3 });
    expect(chosen(tick).sort()).toEqual(['a', 'a.2']);
    const claims = tick.filter((i) => i.type === 'requestClaim');
    expect(claims.map((c) => (c as { slots: number }).slots)).toEqual([2, 2]);
    f.grantAll(tick);
    const started = f.host.lanes().map((l) => l.context.timeoutMs);
    expect(started).toEqual([5000, 5000]);
  });

  test('a lane removed and configured again comes back as it was', () => {
    const f = fleet([lane('a'), lane('b')], 2);
    f.send({ type: 'CONFIG_RELOADED', fleet: spec([lane('a')], 2), source: 'test', changes: ['lanes'] });
    expect(f.host.laneIds).toEqual(['a']);
    f.send({ type: 'CONFIG_RELOADED', fleet: spec([lane('a'), lane('b')], 2), source: 'test', changes: ['lanes'] });
    expect(f.host.laneIds).toEqual(['a', 'b']);
    expect(chosen(f.send({ type: 'TICK', reason: 'timer', seed: 4 })).sort()).toEqual(['a', 'b']);
  });

  test('a checkpoint taken after a reload restores the reloaded fleet', () => {
    const f = fleet([lane('a')], 1);
    f.send({ type: 'CONFIG_RELOADED', fleet: spec([lane('a'), lane('z')], 2), source: 'test', changes: ['lanes'] });
    const restored = new FleetHost({ ...spec([lane('a')], 1), snapshot: f.host.persist() });
    expect(restored.laneIds).toEqual(['a', 'z']);
  });
});

describe('RUNTIME_RECOVERED', () => {
  test('a lane that was claiming asks again for the same claim; a running lane stays as it is', () => {
    const f = fleet([lane('a'), lane('b')], 2);
    const tick = f.send({ type: 'TICK', reason: 'start', seed: 1 });
    // a was granted before the crash; b's answer never came.
    const a = tick.find((i) => i.type === 'requestClaim' && i.laneId === 'a')!;
    f.grantAll([a]);
    const b = f.session('b');
    const restored = new FleetHost({ ...spec([lane('a'), lane('b')], 2), snapshot: f.host.persist() });
    const { intents } = restored.step({
      type: 'RUNTIME_RECOVERED',
      after: 9,
      machines: 'x',
      mode: 'service',
      seq: 10,
      now: 5000,
    } as StampedEvent);
    expect(intents).toEqual([{ type: 'requestClaim', laneId: 'b', lane: 'b', sessionId: b, key: 'lane:b', slots: 1 }]);
    expect(restored.lanes().map((l) => l.path)).toEqual(['running.session', 'claiming.slot']);
  });

  test('a drain the dead runtime began is over: the recovered fleet dispatches again', () => {
    const f = fleet([lane('a')], 1);
    f.send({ type: 'DRAIN', reason: 'SIGTERM' });
    const restored = new FleetHost({ ...spec([lane('a')], 1), snapshot: f.host.persist() });
    restored.step({
      type: 'RUNTIME_RECOVERED',
      after: 1,
      machines: 'x',
      mode: 'service',
      seq: 2,
      now: 5000,
    } as StampedEvent);
    const { intents } = restored.step({ type: 'TICK', reason: 'timer', seq: 3, now: 6000, seed: 1 } as StampedEvent);
    expect(intents.some((i) => i.type === 'requestClaim')).toBe(true);
  });
});
