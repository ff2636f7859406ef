// Lane concurrency, end to end: a lane with 2 slots runs 2 sessions side by side and never 3;
// a lane with 1 never overlaps; the lock telemetry agrees.
import { expect, test } from 'vitest';
import { fixtureAgent, writeConfig } from '../helpers/config.js';
import { cli } from '../helpers/tmp.js';

/** The most sessions of one lane that were running at the same moment. */
function maxOverlap(spans: { start: number; end: number }[]): number {
  const points = spans.flatMap((s) => [
    { t: s.start, d: 1 },
    { t: s.end, d: -1 },
  ]);
  // An end and a start at the same millisecond do not overlap.
  points.sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let max = 0;
  for (const p of points) max = Math.max(max, (now += p.d));
  return max;
}

test('a lane with concurrency 2 reaches 2 sessions at once and never more', async () => {
  const { file, state } = writeConfig({
    width: 4,
    schedule: { interval: '1s' },
    lanes: [
      { name: 'code', concurrency: 2, cooldown: '1s' },
      { name: 'docs', cooldown: '1s' },
    ],
    backends: [fixtureAgent('ok.mjs', { env: { AGENT_SLEEP_MS: '1500' } })],
  });
  expect((await cli(['run', '--config', file, '--state', state, '--for', '6s'])).code).toBe(0);
  const st = JSON.parse((await cli(['status', '--json', '--state', state])).stdout) as {
    sessions: { lane: string; started_at: string; ended_at: string }[];
  };
  const spans = (lane: string) =>
    st.sessions
      .filter((s) => s.lane === lane)
      .map((s) => ({ start: Date.parse(s.started_at), end: Date.parse(s.ended_at) }));
  expect(spans('code').length).toBeGreaterThanOrEqual(4);
  expect(maxOverlap(spans('code'))).toBe(2);
  expect(maxOverlap(spans('docs'))).toBe(1);
  const stats = JSON.parse((await cli(['stats', '--json', '--state', state])).stdout) as {
    same_lock_violations: number;
    peak_concurrency: number;
    total_acquisitions: number;
  };
  expect(stats.same_lock_violations).toBe(0);
  expect(stats.peak_concurrency).toBe(3);
  expect(stats.total_acquisitions).toBe(st.sessions.length);
});
