// Benchmarks, run by `npm run bench` against the built code in dist/. Prints a table and writes
// bench/results/latest.json. Figures on shared machines are noisy: compare ratios, not absolutes.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { FleetHost } from '../dist/streams/fleet-host.js';
import { defaultSelection } from '../dist/runtime/selection.js';
import { planTick } from '../dist/policy/plan-tick.js';
import { openSqliteStore } from '../dist/adapters/store/sqlite/index.js';

const results = [];
const quantile = (xs, q) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

function lane(name) {
  return {
    name,
    enabled: true,
    concurrency: 1,
    cooldownMs: 1000,
    respawnThreshold: 0.65,
    chainLimit: 1,
    timeoutMs: 60000,
    targetShare: null,
    parallel: true,
    arms: ['a:x', 'b:y'],
    prompt: '',
    cwd: null,
    lockFile: null,
    minTier: null,
    maxTier: null,
    prefer: null,
  };
}

// 1. A tick decision for 15 lanes with 30 arms through the real machines, on one long-lived host
// as in the service: each tick dispatches up to 4 slots, whose sessions are then run to their
// grades (untimed) so the lanes learn, fill the share history and are idle again for the next tick.
{
  const lanes = Array.from({ length: 15 }, (_, i) => ({
    ...lane(`lane${i}`),
    cooldownMs: 0,
    chainLimit: 0,
    arms: [`a:m${i}`, `b:m${i}`],
    targetShare: i < 5 ? 0.1 : null,
  }));
  const host = new FleetHost({ width: 4, lanes, selection: defaultSelection(lanes) });
  let seq = 0;
  let now = 1000;
  const send = (e) => host.deliver({ ...e, seq: ++seq, now: (now += 10) });
  const times = [];
  // Garbage collections, to tell the decision's own cost from a young-generation pause that
  // happens to land in it (on a shared 2-core machine those pauses set the p99).
  const gcs = [];
  const gcWatch = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push([e.startTime, e.startTime + e.duration]);
  });
  gcWatch.observe({ entryTypes: ['gc'] });
  const spans = [];
  for (let i = -300; i < 3000; i++) {
    const t = performance.now();
    const intents = send({
      type: 'TICK',
      reason: 'timer',
      seed: (i * 2654435761) >>> 0,
      inputs: { resources: { load1: 0.2, cores: 2, memAvailable: 0.6 }, blocked: [] },
    });
    // The first 300 warm the JIT up.
    if (i >= 0) {
      times.push(performance.now() - t);
      spans.push([t, performance.now()]);
    }
    for (const c of intents.filter((x) => x.type === 'requestClaim')) {
      const own = { laneId: c.laneId, sessionId: c.sessionId };
      send({ type: 'CLAIM_GRANTED', ...own, key: c.key, slot: 0, token: seq, expiresAt: 0, seed: seq });
      send({ type: 'SESSION_STARTED', ...own, pid: 1, arm: 'a:m0' });
      send({
        type: 'SESSION_EXITED',
        ...own,
        exitCode: 0,
        signal: null,
        outcome: 'productive',
        durationMs: 1,
        reason: null,
      });
      send({
        type: 'SESSION_GRADED',
        ...own,
        grade: 0.3 + (Number(c.laneId.slice(4)) % 5) / 10,
        source: 'session',
        dimensions: null,
      });
    }
  }
  const restored = host.selectorMemory();
  host.stop();
  results.push({
    name: 'tick decision through the machines, 15 lanes × 2 arms (ms)',
    p50: quantile(times, 0.5),
    p99: quantile(times, 0.99),
    n: times.length,
  });
  // GC entries are delivered asynchronously: let them arrive before reading them.
  await new Promise((resolve) => setTimeout(resolve, 50));
  gcWatch.disconnect();
  const clear = times.filter((_, k) => !gcs.some(([a, b]) => a < spans[k][1] && b > spans[k][0]));
  results.push({
    name: `tick decision, the ${clear.length} of ${times.length} no garbage collection landed in (ms)`,
    p50: quantile(clear, 0.5),
    p99: quantile(clear, 0.99),
    n: clear.length,
  });
  // The planner alone (policy/plan-tick.ts): the draws, scores, order and fill.
  const view = lanes.map((l) => ({ laneId: l.name, lane: l.name, state: 'idle', enabled: true, parallel: true }));
  const settings = defaultSelection(lanes).plan;
  const plans = [];
  for (let i = -500; i < 5000; i++) {
    const t = performance.now();
    planTick({
      view,
      width: 4,
      seed: i,
      now,
      learning: restored.learning,
      fairness: restored.fairness,
      settings,
      tasks: null,
      inputs: {},
    });
    if (i >= 0) plans.push(performance.now() - t);
  }
  results.push({
    name: `tick decision, planner alone, 15 lanes, ${restored.fairness.history.length} starts of history (ms)`,
    p50: quantile(plans, 0.5),
    p99: quantile(plans, 0.99),
    n: plans.length,
  });
}

// 2. Journal appends on a real SQLite file (WAL), one transaction each.
{
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lk-bench-'));
  const store = openSqliteStore(dir);
  const n = 20000;
  const t = performance.now();
  for (let i = 1; i <= n; i++) await store.journal.append({ type: 'WAKE', seq: i, now: i });
  const ms = performance.now() - t;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  results.push({ name: 'journal appends (events/s)', value: Math.round((n / ms) * 1000), n });
}

// 3. Separate scripts: the claim CLI's wall time, and contended claims across processes.
const lastJson = (out) => JSON.parse(out.trim().split('\n').pop());
const here = import.meta.dirname;
{
  const cliRun = lastJson(
    execFileSync(process.execPath, [path.join(here, 'claim-cli.mjs'), '30'], { encoding: 'utf8' }),
  );
  results.push({
    name: '`lanekeeper claim` ÷ `node -e 0` (median wall)',
    value: Number(cliRun.ratio.toFixed(2)),
    detail: cliRun,
  });
  for (const procs of [1, 4, 16]) {
    const c = lastJson(
      execFileSync(
        process.execPath,
        [path.join(here, 'claims-contention.mjs'), '--procs', String(procs), '--seconds', '5'],
        { encoding: 'utf8' },
      ),
    );
    results.push({
      name: `claim+release, ${procs} proc${procs > 1 ? 's' : ''} × 8 keys (cycles/s)`,
      value: c.cyclesPerSec,
      detail: { p99_ms: c.claimP99Ms, max_ms: c.claimMaxMs, busy_errors: c.busyErrors, double_grants: c.doubleGrants },
    });
  }
}

for (const r of results) {
  const extra =
    r.detail?.p99_ms !== undefined
      ? `  (claim p99 ${r.detail.p99_ms} ms, max ${r.detail.max_ms} ms, busy errors ${r.detail.busy_errors}, double grants ${r.detail.double_grants})`
      : '';
  const figure = r.value !== undefined ? `${r.value}${extra}` : `p50 ${r.p50.toFixed(3)}  p99 ${r.p99.toFixed(3)}`;
  console.log(`${r.name.padEnd(46)} ${figure}`);
}
mkdirSync(path.join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(
  path.join(import.meta.dirname, 'results', 'latest.json'),
  JSON.stringify({ at: new Date().toISOString(), node: process.version, results }, null, 2),
);
