// The fleet's Prometheus metrics: a real fleet actor (FleetHost) takes events, FleetMetrics sees
// each with its intents and lanes the way the runtime shows them, and the registry's text is
// parsed by a Prometheus text parser before anything is asserted. The endpoint is served over a
// real socket on loopback.
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import {
  claimKind,
  FleetMetrics,
  LANE_STATES,
  skipKind,
  type FleetMetricsOptions,
} from '../../src/adapters/metrics/fleet-metrics.js';
import { sqliteDatabaseBytes } from '../../src/adapters/metrics/database-bytes.js';
import { MetricsServerError, startMetricsServer, type MetricsServer } from '../../src/adapters/metrics/server.js';
import type { BusEvent, StampedEvent } from '../../src/machines/events.js';
import type { RequestClaimIntent } from '../../src/machines/intents.js';
import { laneMachine } from '../../src/machines/lane.js';
import { FleetHost } from '../../src/streams/fleet-host.js';
import { defaultSelection } from '../../src/runtime/selection.js';
import { laneConfig } from '../helpers/settings.js';
import { histogramOf, parseMetrics, series, valueOf } from '../helpers/prometheus.js';
import { tmpDir } from '../helpers/tmp.js';

/** A fleet of lanes code, docs and a disabled ops, width 3, watched by FleetMetrics as run.ts does. */
function watchedFleet(opts: FleetMetricsOptions = {}) {
  const lanes = [laneConfig('code'), laneConfig('docs'), laneConfig('ops', { enabled: false })];
  const host = new FleetHost({ width: 3, lanes, selection: defaultSelection(lanes) });
  const metrics = new FleetMetrics(opts);
  let seq = 0;
  const send = (e: BusEvent & { seed?: number }) => {
    const event = { ...e, seq: ++seq, now: 1000 + seq } as StampedEvent;
    const intents = host.deliver(event);
    metrics.event(event, intents, host.lanes());
    return intents;
  };
  const claims = (intents: { type: string }[]) =>
    intents.filter((i): i is RequestClaimIntent => i.type === 'requestClaim');
  const grant = (c: RequestClaimIntent) =>
    send({
      type: 'CLAIM_GRANTED',
      laneId: c.laneId,
      sessionId: c.sessionId,
      key: c.key,
      slot: 1,
      token: 1,
      expiresAt: 1e12,
      seed: 5,
    });
  const scrape = async () => parseMetrics(await metrics.metrics());
  return { host, metrics, send, claims, grant, scrape };
}

describe('FleetMetrics', () => {
  test('sessions by lane, arm and outcome; running sessions; grades by lane and source; late grades', async () => {
    const f = watchedFleet();
    const [code, docs] = f
      .claims(f.send({ type: 'TICK', reason: 'start', seed: 1 }))
      .sort((a, b) => a.lane.localeCompare(b.lane));
    expect([code!.lane, docs!.lane]).toEqual(['code', 'docs']);
    const start = f.grant(code!).find((i) => i.type === 'startSession');
    expect(start).toMatchObject({ arm: 'sim:a' });
    f.send({ type: 'SESSION_STARTED', laneId: 'code', sessionId: code!.sessionId, pid: 4242, arm: 'sim:a' });
    // docs was granted too, but its agent never started: it ends without a SESSION_STARTED.
    f.grant(docs!);

    let m = await f.scrape();
    expect(valueOf(m, 'lanekeeper_sessions_running', { lane: 'code' })).toBe(1);
    expect(valueOf(m, 'lanekeeper_sessions_running', { lane: 'docs' })).toBe(0);
    expect(valueOf(m, 'lanekeeper_sessions_running', { lane: 'ops' })).toBe(0);
    expect(series(m, 'lanekeeper_sessions_total')).toEqual([]);

    f.send({
      type: 'SESSION_EXITED',
      laneId: 'code',
      sessionId: code!.sessionId,
      exitCode: 0,
      signal: null,
      outcome: 'productive',
      durationMs: 50,
      reason: null,
    });
    f.send({
      type: 'SESSION_GRADED',
      laneId: 'code',
      sessionId: code!.sessionId,
      grade: 0.85,
      source: 'session',
      dimensions: null,
      arm: 'sim:a',
    });
    f.send({
      type: 'SESSION_EXITED',
      laneId: 'docs',
      sessionId: docs!.sessionId,
      exitCode: null,
      signal: null,
      outcome: 'failed',
      durationMs: 0,
      reason: 'spawn failed',
    });
    f.send({
      type: 'SESSION_GRADED',
      laneId: 'docs',
      sessionId: docs!.sessionId,
      grade: null,
      source: 'none',
      dimensions: null,
      censored: 'never started',
    });
    f.send({
      type: 'SESSION_REGRADED',
      laneId: 'code',
      sessionId: code!.sessionId,
      grade: 0.3,
      dimensions: null,
      arm: 'sim:a',
    });

    m = await f.scrape();
    expect(m.lanekeeper_sessions_total!.type).toBe('counter');
    expect(series(m, 'lanekeeper_sessions_total')).toHaveLength(2);
    expect(valueOf(m, 'lanekeeper_sessions_total', { lane: 'code', arm: 'sim:a', outcome: 'productive' })).toBe(1);
    expect(valueOf(m, 'lanekeeper_sessions_total', { lane: 'docs', arm: 'sim:a', outcome: 'failed' })).toBe(1);
    expect(valueOf(m, 'lanekeeper_sessions_running', { lane: 'code' })).toBe(0);

    expect(m.lanekeeper_session_grade!.type).toBe('histogram');
    const grades = histogramOf(m, 'lanekeeper_session_grade', { lane: 'code', source: 'session' })!;
    expect(grades).toMatchObject({ count: 1, sum: 0.85 });
    expect(grades.buckets).toMatchObject({ '0.1': 0, '0.8': 0, '0.9': 1, '1': 1, '+Inf': 1 });
    // An ungraded session is not a grade of 0.
    expect(histogramOf(m, 'lanekeeper_session_grade', { lane: 'docs', source: 'none' })).toBeUndefined();
    expect(valueOf(m, 'lanekeeper_sessions_regraded_total', { lane: 'code' })).toBe(1);
  });

  test('claims granted, denied and lost by kind of key', async () => {
    const f = watchedFleet();
    const [code, docs] = f
      .claims(f.send({ type: 'TICK', reason: 'start', seed: 1 }))
      .sort((a, b) => a.lane.localeCompare(b.lane));
    f.grant(code!);
    f.send({
      type: 'CLAIM_DENIED',
      laneId: 'docs',
      sessionId: docs!.sessionId,
      key: docs!.key,
      holder: 'another-host',
      expiresAt: 1e12,
      reason: 'held',
    });
    f.send({ type: 'SESSION_STARTED', laneId: 'code', sessionId: code!.sessionId, pid: 1, arm: 'sim:a' });
    f.send({
      type: 'CLAIM_LOST',
      laneId: 'code',
      sessionId: code!.sessionId,
      key: 'task:fix-login',
      reason: 'expired',
    });

    const m = await f.scrape();
    expect(valueOf(m, 'lanekeeper_claims_granted_total', { lane: 'code', kind: 'lane' })).toBe(1);
    expect(valueOf(m, 'lanekeeper_claims_denied_total', { lane: 'docs', kind: 'lane' })).toBe(1);
    expect(valueOf(m, 'lanekeeper_claims_lost_total', { lane: 'code', kind: 'task' })).toBe(1);
    expect(series(m, 'lanekeeper_claims_granted_total', { lane: 'docs' })).toEqual([]);
  });

  test('tick decisions: ticks, lanes chosen, lanes skipped by kind of reason', async () => {
    const f = watchedFleet();
    const first = f.claims(f.send({ type: 'TICK', reason: 'start', seed: 1 }));
    // The second tick finds code and docs claiming and ops still disabled.
    f.send({ type: 'TICK', reason: 'timer', seed: 2 });
    const m = await f.scrape();
    expect(valueOf(m, 'lanekeeper_ticks_total', { source: 'builtin' })).toBe(2);
    expect(valueOf(m, 'lanekeeper_tick_lanes_chosen_total', { lane: 'code' })).toBe(1);
    expect(valueOf(m, 'lanekeeper_tick_lanes_chosen_total', { lane: 'docs' })).toBe(1);
    expect(first).toHaveLength(2);
    expect(valueOf(m, 'lanekeeper_tick_lanes_skipped_total', { lane: 'ops', reason: 'disabled' })).toBe(2);
    expect(valueOf(m, 'lanekeeper_tick_lanes_skipped_total', { lane: 'code', reason: 'claiming' })).toBe(1);
    expect(valueOf(m, 'lanekeeper_tick_lanes_skipped_total', { lane: 'docs', reason: 'claiming' })).toBe(1);
  });

  test('lane state: 1 for each slot’s current state, 0 for the others', async () => {
    const f = watchedFleet();
    f.send({ type: 'TICK', reason: 'start', seed: 1 });
    const m = await f.scrape();
    expect(m.lanekeeper_lane_state!.type).toBe('gauge');
    for (const lane of ['code', 'docs']) {
      expect(valueOf(m, 'lanekeeper_lane_state', { lane, lane_id: lane, state: 'claiming' })).toBe(1);
      expect(valueOf(m, 'lanekeeper_lane_state', { lane, lane_id: lane, state: 'idle' })).toBe(0);
    }
    expect(valueOf(m, 'lanekeeper_lane_state', { lane: 'ops', lane_id: 'ops', state: 'idle' })).toBe(1);
    expect(series(m, 'lanekeeper_lane_state', { lane_id: 'ops' })).toHaveLength(LANE_STATES.length);
    expect(series(m, 'lanekeeper_lane_state').reduce((n, s) => n + s.value, 0)).toBe(3);
  });

  test('every top-level state of the lane machine is exported', () => {
    expect([...LANE_STATES].sort()).toEqual(Object.keys(laneMachine.config.states!).sort());
  });

  test('journal size and database bytes are read at each scrape; process metrics only when asked for', async () => {
    let events = 12;
    let bytes = 4096;
    const f = watchedFleet({ journalSize: async () => events, databaseBytes: () => bytes });
    let m = await f.scrape();
    expect(valueOf(m, 'lanekeeper_journal_events')).toBe(12);
    expect(valueOf(m, 'lanekeeper_database_bytes')).toBe(4096);
    expect(m.process_cpu_user_seconds_total).toBeUndefined();
    [events, bytes] = [13, 8192];
    m = await f.scrape();
    expect(valueOf(m, 'lanekeeper_journal_events')).toBe(13);
    expect(valueOf(m, 'lanekeeper_database_bytes')).toBe(8192);

    const withProcess = await parseMetrics(await new FleetMetrics({ processMetrics: true }).metrics());
    expect(withProcess.process_cpu_user_seconds_total!.type).toBe('counter');
    expect(withProcess.lanekeeper_journal_events).toBeUndefined();
    expect(withProcess.lanekeeper_database_bytes).toBeUndefined();
  });

  test('database bytes of a SQLite state directory: the file with its write-ahead log', () => {
    const dir = tmpDir();
    const bytes = sqliteDatabaseBytes(dir);
    expect(bytes()).toBe(0);
    writeFileSync(path.join(dir, 'lanekeeper.db'), Buffer.alloc(4096));
    writeFileSync(path.join(dir, 'lanekeeper.db-wal'), Buffer.alloc(1000));
    expect(bytes()).toBe(5096);
  });

  test('two instances keep separate registries', async () => {
    const a = watchedFleet();
    const b = watchedFleet();
    a.send({ type: 'TICK', reason: 'start', seed: 1 });
    expect(valueOf(await a.scrape(), 'lanekeeper_ticks_total', { source: 'builtin' })).toBe(1);
    expect(series(await b.scrape(), 'lanekeeper_ticks_total')).toEqual([]);
  });

  test('label values stay few: claim keys by namespace, skip reasons by kind', () => {
    expect(
      ['lane:code', 'task:fix/login', 'github:o/r#12', 'artifact:blog:post', 'no namespace', 'Weird NS:x'].map(
        claimKind,
      ),
    ).toEqual(['lane', 'task', 'github', 'artifact', 'other', 'other']);
    expect(
      [
        'disabled',
        'cooldown',
        'width reached',
        'claim_blocked: lane:code is held elsewhere',
        'resource gate: load 3.10 per core > 2',
        'noop backoff: 3 noop sessions in a row, 50% of its ticks skipped',
        'score -0.12 ≤ 0 (only lanes worth running are taken)',
        'a lane that runs alone was chosen',
        'a lane that runs alone is running',
        'runs alone; others are running',
        'not named by the external selector',
        'Something New: 42',
      ].map(skipKind),
    ).toEqual([
      'disabled',
      'cooldown',
      'width_reached',
      'claim_blocked',
      'resource_gate',
      'noop_backoff',
      'score_not_positive',
      'exclusive_lane_chosen',
      'exclusive_lane_running',
      'runs_alone',
      'not_selected_externally',
      'other',
    ]);
  });
});

describe('metrics server', () => {
  const servers: MetricsServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });

  test('GET /metrics serves the registry as Prometheus text on loopback; other paths are 404', async () => {
    const f = watchedFleet({ journalSize: () => 3 });
    f.send({ type: 'TICK', reason: 'start', seed: 1 });
    const server = await startMetricsServer({ registry: f.metrics.registry, port: 0 });
    servers.push(server);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/metrics`);

    const res = await fetch(server.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const m = await parseMetrics(await res.text());
    expect(valueOf(m, 'lanekeeper_ticks_total', { source: 'builtin' })).toBe(1);
    expect(valueOf(m, 'lanekeeper_journal_events')).toBe(3);

    expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${server.port}/metrics/x`)).status).toBe(404);
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
  });

  test('a scrape that cannot be collected is a 500 with the reason, and is reported', async () => {
    const errors: unknown[] = [];
    const metrics = new FleetMetrics({
      journalSize: () => Promise.reject(new Error('the database is closed')),
    });
    const server = await startMetricsServer({ registry: metrics.registry, port: 0, onError: (e) => errors.push(e) });
    servers.push(server);
    const res = await fetch(server.url);
    expect(res.status).toBe(500);
    expect(await res.text()).toMatch(/the database is closed/);
    expect(errors).toHaveLength(1);
  });

  test('a port in use, an address not on this machine, a bad port: one clear error each', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    const registry = new FleetMetrics().registry;
    try {
      const inUse = startMetricsServer({ registry, port });
      await expect(inUse).rejects.toThrow(MetricsServerError);
      await expect(inUse).rejects.toThrow(`cannot serve metrics on 127.0.0.1:${port}: the port is already in use`);
    } finally {
      busy.close();
    }
    // 192.0.2.1 is reserved for documentation: never an address of this machine (binding sends nothing).
    await expect(startMetricsServer({ registry, port: 0, host: '192.0.2.1' })).rejects.toThrow(
      'cannot serve metrics on 192.0.2.1:0: the address is not one of this machine’s',
    );
    await expect(startMetricsServer({ registry, port: 70000 })).rejects.toThrow(
      'cannot serve metrics on 127.0.0.1:70000: the port must be a whole number from 0 to 65535',
    );
  });

  test('after close the port is free and nothing answers', async () => {
    const server = await startMetricsServer({ registry: new FleetMetrics().registry, port: 0 });
    expect((await fetch(server.url)).status).toBe(200);
    await server.close();
    await expect(fetch(server.url)).rejects.toThrow();
    const again = await startMetricsServer({ registry: new FleetMetrics().registry, port: server.port });
    servers.push(again);
    expect(again.port).toBe(server.port);
  });
});
