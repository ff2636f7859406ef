// `lanekeeper run --metrics-port`: the built CLI runs real fake agents while this test scrapes
// http://127.0.0.1:PORT/metrics over HTTP, as Prometheus would, and parses what it gets.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, test } from 'vitest';
import { openSqliteStore } from '../../src/adapters/store/sqlite/index.js';
import { histogramOf, parseMetrics, series, valueOf, type PromMetrics } from '../helpers/prometheus.js';
import { fixtureAgent, writeConfig } from '../helpers/config.js';
import { CLI, cli } from '../helpers/tmp.js';

/** Lanes a and b run the ok agent (graded 0.9); lane c is held by another host, so ticks skip it. */
function setup() {
  return writeConfig({
    width: 3,
    lanes: [
      { name: 'a', cooldown: '1h' },
      { name: 'b', cooldown: '1h' },
      { name: 'c', cooldown: '1h' },
    ],
    backends: [fixtureAgent('ok.mjs', { env: { AGENT_GRADE: '0.9', AGENT_SLEEP_MS: '200' } })],
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('run --metrics-port', () => {
  test('sessions, grades, claims, ticks and lane states can be scraped while it runs; the port closes with it', async () => {
    const { file, state } = setup();
    await openSqliteStore(state).close();
    expect((await cli(['claim', 'lane:c', '--holder', 'another-host', '--state', state])).code).toBe(0);
    const child = spawn(process.execPath, [CLI, 'run', '--config', file, '--state', state, '--metrics-port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      // The log names the address actually bound.
      const deadline = Date.now() + 30_000;
      let url: string | undefined;
      while (!(url = /metrics: (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(stdout)?.[1])) {
        if (Date.now() > deadline) throw new Error(`no metrics URL logged:\n${stdout}\n${stderr}`);
        await sleep(50);
      }
      // Scrape until both sessions have ended and been graded (their lanes then cool down for an hour).
      let m: PromMetrics;
      for (;;) {
        const res = await fetch(url);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
        m = await parseMetrics(await res.text());
        const graded = histogramOf(m, 'lanekeeper_session_grade', { lane: 'a', source: 'session' })?.count ?? 0;
        const gradedB = histogramOf(m, 'lanekeeper_session_grade', { lane: 'b', source: 'session' })?.count ?? 0;
        if (graded + gradedB === 2) break;
        if (Date.now() > deadline) throw new Error(`sessions were not graded:\n${stdout}\n${stderr}`);
        await sleep(100);
      }

      for (const lane of ['a', 'b']) {
        expect(series(m, 'lanekeeper_sessions_total', { lane })).toEqual([
          { labels: { lane, arm: 'fixture:ok', outcome: expect.any(String) }, value: 1 },
        ]);
        expect(histogramOf(m, 'lanekeeper_session_grade', { lane, source: 'session' })).toMatchObject({
          count: 1,
          sum: 0.9,
          buckets: { '0.8': 0, '0.9': 1, '+Inf': 1 },
        });
        expect(valueOf(m, 'lanekeeper_claims_granted_total', { lane, kind: 'lane' })).toBe(1);
        expect(valueOf(m, 'lanekeeper_tick_lanes_chosen_total', { lane })).toBe(1);
        expect(valueOf(m, 'lanekeeper_sessions_running', { lane })).toBe(0);
        expect(valueOf(m, 'lanekeeper_lane_state', { lane, lane_id: lane, state: 'cooldown' })).toBe(1);
      }
      expect(valueOf(m, 'lanekeeper_ticks_total', { source: 'builtin' })).toBe(1);
      expect(valueOf(m, 'lanekeeper_tick_lanes_skipped_total', { lane: 'c', reason: 'claim_blocked' })).toBe(1);
      expect(series(m, 'lanekeeper_sessions_total', { lane: 'c' })).toEqual([]);
      expect(valueOf(m, 'lanekeeper_lane_state', { lane: 'c', lane_id: 'c', state: 'idle' })).toBe(1);
      expect(valueOf(m, 'lanekeeper_journal_events')).toBeGreaterThanOrEqual(8);
      expect(valueOf(m, 'lanekeeper_database_bytes')).toBeGreaterThan(0);
      expect(valueOf(m, 'process_resident_memory_bytes')).toBeGreaterThan(0);
      expect((await fetch(url.replace('/metrics', '/'))).status).toBe(404);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await expect(fetch(url)).rejects.toThrow();
      // The labels say what the store recorded.
      const st = JSON.parse((await cli(['status', '--json', '--state', state])).stdout) as {
        sessions: { lane: string; arm: string; outcome: string }[];
      };
      expect(
        st.sessions
          .map((s) => ({ lane: s.lane, arm: s.arm, outcome: s.outcome }))
          .sort((x, y) => x.lane.localeCompare(y.lane)),
      ).toEqual(
        series(m, 'lanekeeper_sessions_total')
          .map((s) => s.labels)
          .sort((x, y) => x.lane!.localeCompare(y.lane!)),
      );
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('a port in use is one clear usage error, before any session starts', async () => {
    const { file, state } = setup();
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const run = await cli(['run', '--config', file, '--state', state, '--metrics-port', String(port)]);
      expect([run.code, run.stderr.trim()]).toEqual([
        2,
        `lanekeeper: --metrics-port: cannot serve metrics on 127.0.0.1:${port}: the port is already in use`,
      ]);
    } finally {
      busy.close();
    }
    const st = JSON.parse((await cli(['status', '--json', '--state', state])).stdout) as { sessions: unknown[] };
    expect(st.sessions).toEqual([]);
  });

  test('a bad port, or --metrics-host alone: exit 2 with the reason', async () => {
    const { file, state } = setup();
    const bad = await cli(['run', '--config', file, '--state', state, '--metrics-port', '70000']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--metrics-port.*expected a port from 0 to 65535 \(0 picks a free one\), got "70000"/);
    const alone = await cli(['run', '--config', file, '--state', state, '--metrics-host', '0.0.0.0']);
    expect([alone.code, alone.stderr.trim()]).toEqual([2, 'lanekeeper: --metrics-host goes with --metrics-port']);
  });
});
