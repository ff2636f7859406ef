// `backends[].rest_after_failure`: how long a failed session blocks a backend that has no quota
// report. Parsed from configuration (30m by default, 0s turns it off, at most the rule's 6 h
// lookback), applied per backend by the availability rules and the runtime's arm health, and named
// in the log line of a failed quota probe.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import type { ResolvedConfig } from '../../src/config/types.js';
import { ConfigError } from '../../src/errors.js';
import type { StampedEvent } from '../../src/machines/events.js';
import type { StartSessionIntent } from '../../src/machines/intents.js';
import { armBlocks } from '../../src/policy/availability.js';
import { ArmHealth } from '../../src/runtime/arm-health.js';
import { logEvent } from '../../src/format/event-log.js';

const MIN = 60_000;
const NOW = Date.UTC(2026, 7, 8, 12, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

/** Two backends without a quota probe: `slow` with the given rest (absent: the default), `fast` with 0s. */
function config(rest?: string): ResolvedConfig {
  return parseConfigText(
    `
lanes:
  - name: code
backends:
  - name: slow
    command: [agent]
    models: [{ name: m }]${rest === undefined ? '' : `\n    rest_after_failure: ${rest}`}
  - name: fast
    command: [agent]
    rest_after_failure: 0s
    models: [{ name: m }]
`,
    'lanekeeper.yaml',
    { env: { HOME: '/home/u' } },
  );
}

function problems(rest: string): string[] {
  try {
    config(rest);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  throw new Error('expected the configuration to be rejected');
}

/** Arm health after one failed session on each backend, ended at `at`. */
function healthAfterFailures(c: ResolvedConfig, at: number): ArmHealth {
  const health = new ArmHealth(c.arms, c.stateDir);
  c.arms.forEach((arm, i) => {
    const sessionId = `code-${i + 1}`;
    health.observe(
      { type: 'SESSION_STARTED', laneId: 'code', sessionId, pid: 100 + i, arm: arm.id, seq: 2 * i + 1, now: at - MIN },
      [{ type: 'startSession', laneId: 'code', lane: 'code', sessionId, arm: arm.id } as StartSessionIntent],
    );
    health.observe(
      {
        type: 'SESSION_EXITED',
        laneId: 'code',
        sessionId,
        exitCode: 1,
        signal: null,
        outcome: 'failed',
        durationMs: MIN,
        reason: null,
        seq: 2 * i + 2,
        now: at,
      },
      [],
    );
  });
  return health;
}

describe('rest_after_failure', () => {
  test('configuration: 30m by default, per backend, 0s allowed, at most 6h, a bad value named', () => {
    expect(config().arms.map((a) => [a.id, a.restAfterFailureMs])).toEqual([
      ['slow:m', 30 * MIN],
      ['fast:m', 0],
    ]);
    expect(config('45m').arms[0]!.restAfterFailureMs).toBe(45 * MIN);
    expect(config('6h').arms[0]!.restAfterFailureMs).toBe(360 * MIN);
    expect(problems('7h')).toEqual(['line 8: backends[0].rest_after_failure: expected at most 6h, got "7h"']);
    expect(problems('a while')).toEqual([
      'line 8: backends[0].rest_after_failure: expected a duration like "180s", got "a while"',
    ]);
  });

  test('availability: a backend rests for its own time after a failed session; 0 never blocks', () => {
    const arms = [
      { id: 'slow:m', backend: 'slow' },
      { id: 'fast:m', backend: 'fast' },
      { id: 'plain:m', backend: 'plain' },
    ];
    const failed = [{ at: NOW - 40 * MIN, outcome: 'failed' }];
    const r = armBlocks(
      arms,
      {
        backends: {
          slow: { report: null, sessions: failed, restAfterFailureMs: 45 * MIN },
          fast: { report: null, sessions: failed, restAfterFailureMs: 0 },
          plain: { report: null, sessions: failed },
        },
        starts: {},
      },
      NOW,
    );
    // The default (30 min) has run out for `plain`; `slow` rests 5 more minutes; `fast` never rested.
    expect(r.eligible).toEqual(['fast:m', 'plain:m']);
    expect(r.blocked).toEqual({
      'slow:m': `no quota report; last session failed at ${iso(NOW - 40 * MIN)}, blocked until ${iso(NOW + 5 * MIN)}`,
    });
    expect(r.until).toBe(NOW + 5 * MIN);
  });

  test('the runtime: after one failed session each, the configured rest blocks one backend and not the other', () => {
    const c = config('10m');
    const health = healthAfterFailures(c, NOW);
    expect(health.verdict(NOW + 9 * MIN).blocked).toEqual({
      'slow:m': `no quota report; last session failed at ${iso(NOW)}, blocked until ${iso(NOW + 10 * MIN)}`,
    });
    expect(health.verdict(NOW + 10 * MIN).blocked).toEqual({});
    // The default rest, 30 minutes.
    expect(Object.keys(healthAfterFailures(config(), NOW).verdict(NOW + 29 * MIN).blocked)).toEqual(['slow:m']);
  });

  test('the log line of a failed quota probe names the configured rest', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push((JSON.parse(chunk.toString()) as { msg: string }).msg);
        done();
      },
    });
    const log = pino({ level: 'info' }, sink);
    const probeFailed = (backend: string): StampedEvent => ({
      type: 'QUOTA_OBSERVED',
      backend,
      report: null,
      reason: 'quota probe failed: exit 1',
      seq: 1,
      now: NOW,
    });
    const arms = config('45m').arms;
    logEvent(log, probeFailed('slow'), arms);
    logEvent(log, probeFailed('fast'), arms);
    logEvent(log, probeFailed('unknown'));
    expect(lines).toEqual([
      'slow: quota probe failed: exit 1; without a report, a failed session blocks it for 45m',
      'fast: quota probe failed: exit 1; without a report, a failed session does not block it (rest_after_failure: 0s)',
      'unknown: quota probe failed: exit 1; without a report, a failed session blocks it for 30m',
    ]);
  });
});
