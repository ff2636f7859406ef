// What the shell tells a lane about its arms: a verdict asked again at the same moment is the same
// answer, until a fact changes (a session ended, a quota probe answered), and then it is new.
import { expect, test } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import type { StampedEvent } from '../../src/machines/events.js';
import type { StartSessionIntent } from '../../src/machines/intents.js';
import { ArmHealth } from '../../src/runtime/arm-health.js';

const config = (backend: string) =>
  parseConfigText(`lanes: [{ name: code }]\nbackends: [${backend}]\n`, 'lk.yaml', { env: {}, stateDir: '/srv/lk' });
const NOW = Date.parse('2026-12-01T12:00:00Z');

test('a failed session blocks its backend at once, even for a verdict asked at the same moment before', () => {
  const arms = config('{ name: b, command: ["true"], models: [{ name: m }], rest_after_failure: 30m }').arms;
  const health = new ArmHealth(arms, '/srv/lk');
  expect(health.verdict(NOW).blocked).toEqual({});

  const start = { type: 'startSession', laneId: 'code', sessionId: 'code-1', arm: 'b:m' } as StartSessionIntent;
  const event = (e: Record<string, unknown>, seq: number) =>
    ({ ...e, laneId: 'code', sessionId: 'code-1', seq, now: NOW }) as StampedEvent;
  health.observe(event({ type: 'CLAIM_GRANTED', key: 'lane:code', slot: 0, token: 1, expiresAt: NOW + 60_000 }, 1), [
    start,
  ]);
  health.observe(event({ type: 'SESSION_STARTED', pid: 10, arm: 'b:m' }, 2), []);
  expect(health.verdict(NOW).blocked).toEqual({});
  health.observe(
    event({ type: 'SESSION_EXITED', exitCode: 1, signal: null, outcome: 'failed', durationMs: 5, reason: null }, 3),
    [],
  );
  expect(Object.keys(health.verdict(NOW).blocked)).toEqual(['b:m']);
});

test('a quota probe that answers changes the verdict asked at the same moment', async () => {
  const probe = JSON.stringify([
    '{node}',
    '-e',
    'console.log(JSON.stringify({ available: true, windows: [{ name: "5h", utilization: 0.95, resetsAt: null }] }))',
  ]);
  const arms = config(`{ name: b, command: ["true"], models: [{ name: m }], quota: { command: ${probe} } }`).arms;
  const health = new ArmHealth(arms, '/srv/lk');
  expect(health.verdict(NOW).blocked).toEqual({});
  const seen: string[] = [];
  let warmed = 0;
  await health.refresh(
    NOW,
    (e) => seen.push(e.type),
    () => warmed++,
  );
  expect(seen).toEqual(['QUOTA_OBSERVED']);
  expect(health.verdict(NOW).blocked['b:m']).toMatch(/^quota exhausted: window "5h" at 95%/);
  // The work given for the wait ran once, while the probe did; a fresh report needs no probe and no wait.
  expect(warmed).toBe(1);
  await health.refresh(
    NOW + 1000,
    () => {},
    () => warmed++,
  );
  expect(warmed).toBe(1);
});
