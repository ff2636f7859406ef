import { describe, expect, test } from 'vitest';
import {
  armBlocks,
  crashLoop,
  DEFAULT_AVAILABILITY,
  isFresh,
  noProbeBlock,
  quotaVerdict,
  retryAt,
  type QuotaReport,
  type QuotaWindow,
  type StartAttempt,
} from '../../src/policy/availability.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = Date.UTC(2026, 7, 8, 12, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();
const report = (windows: QuotaWindow[], available = true): QuotaReport => ({ available, windows });
const w = (name: string, utilization: number, resetsAt: number | null = NOW + HOUR): QuotaWindow => ({
  name,
  utilization,
  resetsAt,
});

describe('quotaVerdict', () => {
  test('thresholds are ≥: 0.9 is exhausted, 0.7 shortens, just below each does not', () => {
    expect(quotaVerdict(report([w('5h', 0.9)]), NOW)).toEqual({
      eligible: false,
      until: NOW + HOUR,
      shorten: false,
      reason: `quota exhausted: window "5h" at 90% until ${iso(NOW + HOUR)}`,
    });
    expect(quotaVerdict(report([w('5h', 0.8999)]), NOW)).toEqual({
      eligible: true,
      until: null,
      shorten: true,
      reason: 'quota low: window "5h" at 89.99% (≥ 70%): shorter session timeout',
    });
    expect(quotaVerdict(report([w('5h', 0.7)]), NOW)).toMatchObject({ eligible: true, shorten: true });
    expect(quotaVerdict(report([w('5h', 0.6999)]), NOW)).toEqual({
      eligible: true,
      until: null,
      shorten: false,
      reason: 'quota ok (highest: window "5h" at 69.99%)',
    });
  });

  test('the issue example: window "5h" at 93% until its reset', () => {
    const v = quotaVerdict(report([w('weekly', 0.5, NOW + 48 * HOUR), w('5h', 0.93, NOW + 2 * HOUR)]), NOW);
    expect(v).toEqual({
      eligible: false,
      until: NOW + 2 * HOUR,
      shorten: false,
      reason: `quota exhausted: window "5h" at 93% until ${iso(NOW + 2 * HOUR)}`,
    });
  });

  test('a window whose reset is at or before now no longer counts; a future or unknown one does', () => {
    expect(quotaVerdict(report([w('5h', 0.95, NOW)]), NOW)).toEqual({
      eligible: true,
      until: null,
      shorten: false,
      reason: 'quota ok',
    });
    expect(quotaVerdict(report([w('5h', 0.95, NOW - 1)]), NOW)).toMatchObject({ eligible: true, shorten: false });
    expect(quotaVerdict(report([w('5h', 0.8, NOW - 1)]), NOW)).toMatchObject({ eligible: true, shorten: false });
    expect(quotaVerdict(report([w('5h', 0.95, NOW + 1)]), NOW)).toMatchObject({ eligible: false, until: NOW + 1 });
    expect(quotaVerdict(report([w('5h', 0.95, null)]), NOW)).toEqual({
      eligible: false,
      until: null,
      shorten: false,
      reason: 'quota exhausted: window "5h" at 95% (reset time unknown)',
    });
  });

  test('several exhausted windows: blocked until the latest reset, unknown if any reset is', () => {
    const a = w('5h', 0.92, NOW + HOUR);
    const b = w('weekly', 1, NOW + 72 * HOUR);
    expect(quotaVerdict(report([a, b]), NOW)).toMatchObject({ eligible: false, until: NOW + 72 * HOUR });
    expect(quotaVerdict(report([a, b]), NOW).reason).toBe(
      `quota exhausted: window "5h" at 92% until ${iso(NOW + HOUR)}; window "weekly" at 100% until ${iso(NOW + 72 * HOUR)}`,
    );
    expect(quotaVerdict(report([a, w('weekly', 1, null)]), NOW).until).toBeNull();
  });

  test('available: false — until the earliest future reset, or unknown', () => {
    const v = quotaVerdict(
      report([w('5h', 0.3, NOW + 3 * HOUR), w('weekly', 0.5, NOW + 2 * HOUR), w('old', 0.1, NOW - HOUR)], false),
      NOW,
    );
    expect(v).toEqual({
      eligible: false,
      until: NOW + 2 * HOUR,
      shorten: false,
      reason: `quota exhausted: probe reports unavailable; retry at the next reset, ${iso(NOW + 2 * HOUR)}`,
    });
    expect(quotaVerdict(report([], false), NOW)).toEqual({
      eligible: false,
      until: null,
      shorten: false,
      reason: 'quota exhausted: probe reports unavailable (reset time unknown)',
    });
    expect(quotaVerdict(report([w('5h', 0.3, null)], false), NOW).until).toBeNull();
  });

  test('available: false with an exhausted window: that window sets until', () => {
    const v = quotaVerdict(report([w('weekly', 0.2, NOW + HOUR), w('5h', 0.95, NOW + 4 * HOUR)], false), NOW);
    expect(v).toEqual({
      eligible: false,
      until: NOW + 4 * HOUR,
      shorten: false,
      reason: `quota exhausted: probe reports unavailable; window "5h" at 95% until ${iso(NOW + 4 * HOUR)}`,
    });
  });

  test('no report is eligible (the no-probe rule applies instead); thresholds are configurable', () => {
    expect(quotaVerdict(null, NOW)).toEqual({ eligible: true, until: null, shorten: false, reason: 'no quota report' });
    expect(quotaVerdict(report([w('5h', 0.85)]), NOW, { exhaustedAt: 0.8, shortenAt: 0.5 })).toMatchObject({
      eligible: false,
    });
    expect(quotaVerdict(report([w('5h', 0.55)]), NOW, { exhaustedAt: 0.8, shortenAt: 0.5 }).reason).toBe(
      'quota low: window "5h" at 55% (≥ 50%): shorter session timeout',
    );
  });
});

describe('isFresh', () => {
  test('fresh while younger than the ttl (10 min by default); a future observation is stale', () => {
    expect(isFresh(NOW, NOW)).toBe(true);
    expect(isFresh(NOW - 10 * MIN + 1, NOW)).toBe(true);
    expect(isFresh(NOW - 10 * MIN, NOW)).toBe(false);
    expect(isFresh(NOW - 5 * MIN, NOW, 5 * MIN)).toBe(false);
    expect(isFresh(NOW + 1, NOW)).toBe(false);
  });
});

describe('noProbeBlock', () => {
  test('a failed last session blocks for 30 min after it: blocked before, free at the boundary', () => {
    const s = [{ at: NOW - 29 * MIN, outcome: 'failed' }];
    expect(noProbeBlock(s, NOW)).toEqual({
      blocked: true,
      until: NOW + MIN,
      reason: `no quota report; last session failed at ${iso(NOW - 29 * MIN)}, blocked until ${iso(NOW + MIN)}`,
    });
    expect(noProbeBlock([{ at: NOW - 30 * MIN, outcome: 'failed' }], NOW)).toMatchObject({
      blocked: false,
      until: null,
    });
    expect(noProbeBlock([{ at: NOW - 30 * MIN + 1, outcome: 'failed' }], NOW)).toMatchObject({
      blocked: true,
      until: NOW + 1,
    });
  });

  test('the latest session decides, in any order; a later non-failure clears it', () => {
    expect(
      noProbeBlock(
        [
          { at: NOW - 5 * MIN, outcome: 'productive' },
          { at: NOW - 10 * MIN, outcome: 'failed' },
        ],
        NOW,
      ),
    ).toMatchObject({ blocked: false });
    expect(
      noProbeBlock(
        [
          { at: NOW - 5 * MIN, outcome: 'failed' },
          { at: NOW - 10 * MIN, outcome: 'productive' },
        ],
        NOW,
      ),
    ).toMatchObject({ blocked: true, until: NOW + 25 * MIN });
    expect(noProbeBlock([{ at: NOW - 5 * MIN, outcome: 'timeout' }], NOW)).toMatchObject({ blocked: false });
    expect(noProbeBlock([], NOW)).toEqual({ blocked: false, until: null, reason: 'no sessions on record' });
  });

  test('the 6 h lookback caps a longer block; failed outcomes are configurable', () => {
    const s = [{ at: NOW - 6 * HOUR + 1, outcome: 'failed' }];
    expect(noProbeBlock(s, NOW, { blockMs: 8 * HOUR })).toMatchObject({ blocked: true, until: NOW + 1 });
    expect(noProbeBlock([{ at: NOW - 6 * HOUR, outcome: 'failed' }], NOW, { blockMs: 8 * HOUR })).toMatchObject({
      blocked: false,
    });
    expect(
      noProbeBlock([{ at: NOW - MIN, outcome: 'timeout' }], NOW, { failedOutcomes: ['failed', 'timeout'] }),
    ).toMatchObject({ blocked: true });
  });
});

describe('crashLoop', () => {
  const fail = (at: number): StartAttempt => ({ at, failedToStart: true });
  const ok = (at: number): StartAttempt => ({ at, failedToStart: false });

  test('3 consecutive failed starts: blocked until the third + 60 min; 2 are not enough', () => {
    const third = NOW - 10 * MIN;
    expect(crashLoop([fail(NOW - 30 * MIN), fail(NOW - 20 * MIN), fail(third)], NOW)).toEqual({
      blocked: true,
      until: third + HOUR,
      reason: `crash loop: 3 failed starts in a row, cooling down until ${iso(third + HOUR)}`,
    });
    expect(crashLoop([fail(NOW - 20 * MIN), fail(NOW - 10 * MIN)], NOW)).toEqual({
      blocked: false,
      until: null,
      reason: '2 failed starts in a row (cooldown at 3)',
    });
    expect(crashLoop([], NOW)).toMatchObject({ blocked: false });
  });

  test('a successful start resets the count', () => {
    expect(crashLoop([fail(1), fail(2), ok(3), fail(4), fail(5)], NOW)).toMatchObject({ blocked: false });
    expect(crashLoop([fail(NOW - 3), fail(NOW - 2), fail(NOW - 1), ok(NOW)], NOW)).toMatchObject({ blocked: false });
  });

  test('the cooldown ends exactly at third + 60 min; a failed retry after it starts another', () => {
    const starts = [fail(NOW - HOUR - 2 * MIN), fail(NOW - HOUR - MIN), fail(NOW - HOUR)];
    expect(crashLoop(starts, NOW - 1)).toMatchObject({ blocked: true, until: NOW });
    expect(crashLoop(starts, NOW)).toMatchObject({ blocked: false, until: null });
    expect(crashLoop([...starts, fail(NOW + MIN)], NOW + MIN)).toMatchObject({
      blocked: true,
      until: NOW + MIN + HOUR,
    });
  });

  test('configurable count and cooldown', () => {
    expect(crashLoop([fail(NOW)], NOW, { failures: 1, cooldownMs: MIN })).toMatchObject({
      blocked: true,
      until: NOW + MIN,
    });
  });
});

describe('armBlocks', () => {
  const arms = [
    { id: 'claude-code:opus', backend: 'claude-code' },
    { id: 'claude-code:sonnet', backend: 'claude-code' },
    { id: 'codex:gpt-5', backend: 'codex' },
    { id: 'gptme:glm-5', backend: 'gptme' },
    { id: 'local:llama', backend: 'local' },
  ];

  test('combines quota, no-probe and crash-loop blocks; shortened arms; the earliest until', () => {
    const r = armBlocks(
      arms,
      {
        backends: {
          'claude-code': {
            report: report([w('5h', 0.75, NOW + HOUR)]),
            sessions: [{ at: NOW - MIN, outcome: 'failed' }],
          },
          codex: { report: report([w('weekly', 0.95, NOW + 3 * HOUR)]), sessions: [] },
          gptme: { report: null, sessions: [{ at: NOW - 10 * MIN, outcome: 'failed' }] },
        },
        starts: {
          'claude-code:opus': [
            { at: NOW - 3 * MIN, failedToStart: true },
            { at: NOW - 2 * MIN, failedToStart: true },
            { at: NOW - MIN, failedToStart: true },
          ],
        },
      },
      NOW,
    );
    expect(r.eligible).toEqual(['claude-code:sonnet', 'local:llama']);
    expect(r.shortened).toEqual(['claude-code:sonnet']);
    expect(r.blocked).toEqual({
      'claude-code:opus': `crash loop: 3 failed starts in a row, cooling down until ${iso(NOW + 59 * MIN)}`,
      'codex:gpt-5': `quota exhausted: window "weekly" at 95% until ${iso(NOW + 3 * HOUR)}`,
      'gptme:glm-5': `no quota report; last session failed at ${iso(NOW - 10 * MIN)}, blocked until ${iso(NOW + 20 * MIN)}`,
    });
    expect(r.blockedUntil).toEqual({
      'claude-code:opus': NOW + 59 * MIN,
      'codex:gpt-5': NOW + 3 * HOUR,
      'gptme:glm-5': NOW + 20 * MIN,
    });
    expect(r.until).toBe(NOW + 20 * MIN);
    expect(r.quota).toEqual({
      'claude-code:sonnet': 'quota low: window "5h" at 75% (≥ 70%): shorter session timeout',
      'local:llama': 'no quota report',
    });
  });

  test('an arm under two blocks is free when both end; unknown ends stay out of the lane deadline', () => {
    const r = armBlocks(
      arms.slice(2, 4),
      {
        backends: {
          codex: { report: report([w('5h', 0.99, NOW + 2 * HOUR)]), sessions: [] },
          gptme: { report: report([], false), sessions: [] },
        },
        starts: { 'codex:gpt-5': [1, 2, 3].map((i) => ({ at: NOW - i * MIN, failedToStart: true })) },
      },
      NOW,
      DEFAULT_AVAILABILITY,
    );
    expect(r.eligible).toEqual([]);
    expect(r.blocked['codex:gpt-5']).toMatch(/^quota exhausted: .*; crash loop: 3 failed starts/);
    expect(r.blockedUntil).toEqual({ 'codex:gpt-5': NOW + 2 * HOUR, 'gptme:glm-5': null });
    expect(r.until).toBe(NOW + 2 * HOUR);
    expect(
      armBlocks(arms.slice(3, 4), { backends: { gptme: { report: report([], false), sessions: [] } }, starts: {} }, NOW)
        .until,
    ).toBeNull();
  });

  test('a backend with a report ignores the no-probe rule; an unknown backend is eligible', () => {
    const r = armBlocks(
      arms.slice(0, 1),
      {
        backends: { 'claude-code': { report: report([w('5h', 0.1)]), sessions: [{ at: NOW, outcome: 'failed' }] } },
        starts: {},
      },
      NOW,
    );
    expect(r.eligible).toEqual(['claude-code:opus']);
    expect(armBlocks(arms.slice(4), { backends: {}, starts: {} }, NOW).eligible).toEqual(['local:llama']);
  });
});

describe('retryAt', () => {
  test('after 10 min, or sooner when a block ends sooner', () => {
    expect(retryAt(null, NOW)).toBe(NOW + 10 * MIN);
    expect(retryAt(NOW + 3 * MIN, NOW)).toBe(NOW + 3 * MIN);
    expect(retryAt(NOW + HOUR, NOW)).toBe(NOW + 10 * MIN);
    expect(retryAt(NOW, NOW)).toBe(NOW + 10 * MIN);
  });
});
