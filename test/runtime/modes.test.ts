// The run's modes (src/runtime/modes/): which ticks each asks for, how wide an operator's tick may
// be, and when each ends the run, told events the way the host loop tells them.
import { describe, expect, test } from 'vitest';
import pino from 'pino';
import { NEVER } from 'rxjs';
import { parseConfigText } from '../../src/config/load.js';
import type { BusEvent, StampedEvent, TickEvent } from '../../src/machines/events.js';
import type { Intent } from '../../src/machines/intents.js';
import type { LaneStatus } from '../../src/machines/types.js';
import { LiveConfig, type RunMode } from '../../src/runtime/live-config.js';
import { modeFor } from '../../src/runtime/modes/index.js';
import type { Timer } from '../../src/runtime/modes/mode.js';

const CONFIG = `
lanes: [{ name: code }, { name: docs }]
backends: [{ name: b, command: ["true"], models: [{ name: m }] }]
width: 2
`;

function drive(mode: RunMode, sessions = 2) {
  const live = new LiveConfig(parseConfigText(CONFIG, 'lk.yaml', { env: {}, stateDir: '/srv/lk' }), mode);
  const drains: string[] = [];
  const pushed: BusEvent[] = [];
  let ticksStopped = 0;
  const strategy = modeFor(mode, sessions, {
    live,
    log: pino({ level: 'silent' }),
    push: (e) => pushed.push(e),
    drain: (reason) => drains.push(reason),
    stopTicks: () => ticksStopped++,
    draining: () => drains.length > 0,
  });
  const timerCalls: boolean[] = [];
  const timer: Timer = (tickOnStart) => {
    timerCalls.push(tickOnStart);
    return NEVER;
  };
  const scheduled: (number | null)[] = [];
  const ticks: TickEvent[] = [];
  const subscription = strategy.ticks(timer, (at) => scheduled.push(at)).subscribe((t) => ticks.push(t));
  let seq = 0;
  const tell = (event: BusEvent, intents: Intent[], lanes: LaneStatus[], becameIdle = false) =>
    strategy.observe({ ...event, seq: ++seq, now: seq } as StampedEvent, intents, lanes, becameIdle);
  return { strategy, drains, pushed, ticks, timerCalls, scheduled, tell, stopped: () => ticksStopped, subscription };
}

/** A lane slot in a state, as the host loop hands lanes to the mode (only the fields modes read). */
const lane = (name: string, state: LaneStatus['state']) =>
  ({ laneId: name, lane: name, slot: 1, state, path: state, context: {} }) as unknown as LaneStatus;
const start = (lane: string, sessionId: string) =>
  ({ type: 'startSession', laneId: lane, lane, sessionId, arm: 'b:m' }) as unknown as Intent;
const exited = (lane: string, sessionId: string, started?: false): BusEvent => ({
  type: 'SESSION_EXITED',
  laneId: lane,
  sessionId,
  exitCode: started === false ? null : 0,
  signal: null,
  outcome: started === false ? 'failed' : 'productive',
  durationMs: 1,
  reason: started === false ? 'command not found: agent' : null,
  ...(started === false ? { started } : {}),
});
const graded = (lane: string, sessionId: string): BusEvent => ({
  type: 'SESSION_GRADED',
  laneId: lane,
  sessionId,
  grade: 0.8,
  source: 'session',
  dimensions: null,
});

describe('the service', () => {
  test('ticks on the timer, which may tick at its start; it never ends the run itself', () => {
    const m = drive('service');
    expect(m.timerCalls).toEqual([true]);
    m.tell({ type: 'TICK', reason: 'timer' }, [], [lane('code', 'idle')]);
    expect(m.drains).toEqual([]);
    expect(m.strategy.tickRoom([lane('code', 'idle')])).toBeUndefined();
  });
});

describe('--once', () => {
  test('one manual tick, no timer, and no next tick for status to show', () => {
    const m = drive('once');
    expect(m.ticks).toEqual([{ type: 'TICK', reason: 'manual' }]);
    expect(m.timerCalls).toEqual([]);
    expect(m.scheduled).toEqual([null]);
  });

  test('drains once nothing the tick began is still going, not before', () => {
    const m = drive('once');
    m.tell({ type: 'TICK', reason: 'manual' }, [], [lane('code', 'claiming'), lane('docs', 'idle')]);
    m.tell(
      { type: 'SESSION_STARTED', laneId: 'code', sessionId: 's1', pid: 1, arm: 'b:m' },
      [],
      [lane('code', 'running')],
    );
    expect(m.drains).toEqual([]);
    m.tell(exited('code', 's1'), [], [lane('code', 'running')]);
    expect(m.drains).toEqual([]);
    m.tell(graded('code', 's1'), [], [lane('code', 'cooldown'), lane('docs', 'idle')]);
    expect(m.drains).toEqual(['--once: the tick is done']);
    expect(m.strategy.firstTick()).toMatchObject({ started: 1, unstarted: [] });
  });

  test('an agent that could not start is told in the first tick, for the exit code', () => {
    const m = drive('once');
    m.tell({ type: 'TICK', reason: 'manual' }, [], [lane('code', 'claiming')]);
    m.tell(exited('code', 's1', false), [], [lane('code', 'idle')]);
    expect(m.strategy.firstTick()).toEqual({
      started: 0,
      unstarted: [{ sessionId: 's1', lane: 'code', reason: 'command not found: agent' }],
      noArm: 0,
      reason: null,
    });
    expect(m.drains).toEqual(['--once: the tick is done']);
  });
});

describe('--operator', () => {
  test('decides at once, then asks for the next decision as soon as a session is graded and a lane is free', () => {
    const m = drive('operator', 3);
    expect(m.ticks).toEqual([{ type: 'TICK', reason: 'operator' }]);
    // The timer stays as a safety net, without a tick at its start.
    expect(m.timerCalls).toEqual([false]);
    m.tell(
      { type: 'TICK', reason: 'operator' },
      [start('code', 's1')],
      [lane('code', 'running'), lane('docs', 'idle')],
    );
    m.tell(
      { type: 'SESSION_STARTED', laneId: 'code', sessionId: 's1', pid: 1, arm: 'b:m' },
      [],
      [lane('code', 'running'), lane('docs', 'idle')],
    );
    expect(m.ticks).toHaveLength(1);
    m.tell(graded('code', 's1'), [], [lane('code', 'cooldown'), lane('docs', 'idle')]);
    expect(m.ticks).toEqual([
      { type: 'TICK', reason: 'operator' },
      { type: 'TICK', reason: 'operator' },
    ]);
    // One decision at a time: until that tick is taken, no other is asked for.
    m.tell(graded('docs', 's0'), [], [lane('code', 'cooldown'), lane('docs', 'idle')]);
    expect(m.ticks).toHaveLength(2);
  });

  test('a tick may start only the sessions still to begin, less those being claimed', () => {
    const m = drive('operator', 3);
    m.tell(
      { type: 'TICK', reason: 'operator' },
      [start('code', 's1')],
      [lane('code', 'running'), lane('docs', 'idle')],
    );
    expect(m.strategy.tickRoom([lane('code', 'running'), lane('docs', 'claiming')])).toBe(1);
  });

  test('once its sessions have begun: no more ticks, a DRAIN journaled, and the run ends when they have', () => {
    const m = drive('operator', 2);
    m.tell(
      { type: 'TICK', reason: 'operator' },
      [start('code', 's1'), start('docs', 's2')],
      [lane('code', 'running'), lane('docs', 'running')],
    );
    expect(m.stopped()).toBe(1);
    expect(m.pushed).toEqual([{ type: 'DRAIN', reason: '--operator: 2 sessions begun' }]);
    expect(m.strategy.stopping).toBe(true);
    expect(m.drains).toEqual([]);
    m.tell(graded('code', 's1'), [], [lane('code', 'cooldown'), lane('docs', 'running')]);
    expect(m.drains).toEqual([]);
    m.tell(graded('docs', 's2'), [], [lane('code', 'cooldown'), lane('docs', 'cooldown')]);
    expect(m.drains).toEqual(['--operator: 2 sessions done']);
  });

  test('a first tick that could start nothing ends the run instead of waiting', () => {
    const m = drive('operator', 2);
    m.tell({ type: 'TICK', reason: 'operator' }, [], [lane('code', 'cooldown'), lane('docs', 'cooldown')]);
    expect(m.drains).toEqual(['--operator: no session could start']);
    expect(m.strategy.stopping).toBe(true);
  });
});
