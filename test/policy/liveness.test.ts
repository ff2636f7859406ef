// Liveness rules with an explicit `now`: when a fleet is flagged as stalled, when it is not, and
// what the reasons say.
import { describe, expect, test } from 'vitest';
import { liveness, type LivenessInput, type LivenessSession } from '../../src/policy/liveness.js';
import type { Outcome } from '../../src/policy/outcome.js';

const MIN = 60_000;
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const ago = (minutes: number) => NOW - minutes * MIN;

/** A session that started `start` minutes ago and ended `end` minutes ago (null: still running). */
const session = (
  start: number,
  end: number | null,
  outcome: Outcome | null = end === null ? null : 'productive',
): LivenessSession => ({
  started_at: ago(start),
  ended_at: end === null ? null : ago(end),
  outcome,
});

const input = (over: Partial<LivenessInput> = {}): LivenessInput => ({
  now: NOW,
  enabledLanes: ['code', 'docs'],
  run: { startedAt: ago(600), mode: 'service' },
  stoppedAt: null,
  sessions: [],
  ...over,
});

describe('no session started in 90 minutes', () => {
  test('a service run whose last session started 2h 10m ago is stalled, and says since when and which lanes', () => {
    const l = liveness(input({ sessions: [session(130, 125)] }));
    expect(l.stalled).toBe(true);
    expect(l.reasons).toEqual(['no session started in 2h 10m (enabled lanes: code, docs)']);
    expect(l.lastStart).toBe(ago(130));
    expect(l.lastOk).toBe(ago(125));
  });

  test('a session started 89 minutes ago keeps it live; 90 minutes is the line', () => {
    expect(liveness(input({ sessions: [session(89, 80)] })).stalled).toBe(false);
    expect(liveness(input({ sessions: [session(90, 80)] })).stalled).toBe(true);
  });

  test('a freshly started run is not stalled, however old the last session is', () => {
    const l = liveness(input({ run: { startedAt: ago(5), mode: 'service' }, sessions: [session(3000, 2990)] }));
    expect(l).toEqual({ stalled: false, reasons: [], lastStart: ago(3000), lastOk: ago(2990) });
  });

  test('a run that has started nothing in 95 minutes since it started is stalled', () => {
    const l = liveness(input({ run: { startedAt: ago(95), mode: 'service' } }));
    expect(l.reasons).toEqual(['no session started in 1h 35m (enabled lanes: code, docs)']);
    expect(l.lastStart).toBeNull();
    expect(l.lastOk).toBeNull();
  });

  test('a --once run (a timer) does not reset the clock: the last session decides', () => {
    const l = liveness(
      input({ run: { startedAt: ago(2), mode: 'once' }, stoppedAt: ago(1), sessions: [session(200, 190)] }),
    );
    expect(l.reasons).toEqual(['no session started in 3h 20m (enabled lanes: code, docs)']);
  });

  test('an --operator run counts from its start like the service', () => {
    expect(
      liveness(input({ run: { startedAt: ago(10), mode: 'operator' }, sessions: [session(200, 190)] })).stalled,
    ).toBe(false);
  });

  test('a runtime that died under a running session (rows say running) is still flagged', () => {
    expect(liveness(input({ sessions: [session(300, null)] })).reasons).toEqual([
      'no session started in 5h (enabled lanes: code, docs)',
    ]);
  });
});

describe('no non-failed session in 60 minutes', () => {
  test('sessions keep failing for over an hour: stalled, with how many failed', () => {
    const sessions = [
      session(20, 19, 'failed'),
      session(50, 40, 'timeout'),
      session(80, 79, 'failed'),
      session(100, 85, 'productive'),
    ];
    const l = liveness(input({ sessions }));
    expect(l.stalled).toBe(true);
    expect(l.reasons).toEqual(['no non-failed session in 1h 25m (3 sessions since failed or timed out)']);
    expect(l.lastOk).toBe(ago(85));
    expect(l.lastStart).toBe(ago(20));
  });

  test('a noop, a refusal or an unknown outcome is not a failure', () => {
    for (const outcome of ['noop', 'refused', 'unknown'] as const) {
      const l = liveness(input({ sessions: [session(20, 19, 'failed'), session(100, 70, outcome)] }));
      expect(l.reasons, outcome).toEqual(['no non-failed session in 1h 10m (1 session since failed or timed out)']);
    }
    expect(liveness(input({ sessions: [session(20, 19, 'failed'), session(40, 30, 'noop')] })).stalled).toBe(false);
  });

  test('a session running now has no verdict yet: not stalled', () => {
    expect(liveness(input({ sessions: [session(10, null), session(80, 79, 'failed')] })).stalled).toBe(false);
  });

  test('quiet, not failing: no sessions at all in the hour is the other rule (at 90 minutes)', () => {
    expect(liveness(input({ sessions: [session(70, 65, 'productive')] })).stalled).toBe(false);
  });

  test('measured from the run start when the run is younger than the last success', () => {
    const l = liveness(
      input({ run: { startedAt: ago(30), mode: 'service' }, sessions: [session(25, 24, 'failed'), session(300, 290)] }),
    );
    expect(l.stalled).toBe(false);
  });

  test('timer runs that have only ever failed: measured from the first failure', () => {
    const sessions = [session(10, 9, 'failed'), session(75, 74, 'failed')];
    const l = liveness(input({ run: { startedAt: ago(1), mode: 'once' }, stoppedAt: ago(0), sessions }));
    expect(l.reasons).toEqual(['no non-failed session in 1h 15m (2 sessions since failed or timed out)']);
    expect(l.lastOk).toBeNull();
  });

  test('both rules can fire at once', () => {
    const l = liveness(input({ sessions: [session(120, 110, 'failed'), session(300, 290)] }));
    expect(l.reasons).toEqual([
      'no session started in 2h (enabled lanes: code, docs)',
      'no non-failed session in 4h 50m (1 session since failed or timed out)',
    ]);
  });
});

describe('when a stall means nothing', () => {
  test('no enabled lanes: never stalled', () => {
    expect(liveness(input({ enabledLanes: [], sessions: [session(900, 890, 'failed')] })).stalled).toBe(false);
  });

  test('lanekeeper stopped more than 90 minutes ago: not running, not stalled', () => {
    const l = liveness(input({ stoppedAt: ago(91), sessions: [session(900, 890, 'failed')] }));
    expect(l).toEqual({ stalled: false, reasons: [], lastStart: ago(900), lastOk: null });
  });

  test('lanekeeper stopped a few minutes ago after a long quiet spell: still flagged', () => {
    expect(liveness(input({ stoppedAt: ago(5), sessions: [session(900, 890)] })).stalled).toBe(true);
  });

  test('nothing to measure from (no run recorded, no session): not stalled', () => {
    expect(liveness(input({ run: null })).stalled).toBe(false);
  });
});
