// The selector's targets, measured with the simulator in dist/ (`lanekeeper simulate`): regret of
// the `lanekeeper` policy (the live reward model with its default forgetting) against the same
// model without forgetting (`npts-static`) and fractional-Beta Thompson sampling (`ts-beta`), and
// the wall time of 100,000 simulated sessions. Prints a table of figures and ratios against the
// targets, then one JSON line with everything (for bench/run.mjs). Always exits 0: a missed target
// is a figure to read, not a crash.
//
//   node bench/simulate.mjs [--sessions 5000] [--seeds 200] [--workers N]
//
// Seeds are split across worker threads; every (environment, policy) pair is one job and runs all
// its seeds, so the figures are the same whatever the number of workers.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { builtinEnvironment } from '../dist/sim/environments.js';
import { simulate } from '../dist/sim/simulate.js';

if (!isMainThread) {
  const { env, policy, sessions, seeds } = workerData;
  const [r] = simulate(builtinEnvironment(env, sessions), [policy], sessions, seeds);
  parentPort.postMessage(r);
} else {
  await main();
}

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function runJob(job) {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: job });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

async function pool(jobs, width) {
  const out = new Array(jobs.length);
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await runJob(jobs[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, lane));
  return out;
}

async function main() {
  const sessions = arg('sessions', 5000);
  const seeds = arg('seeds', 200);
  const workers = arg('workers', Math.max(1, Math.min(4, os.availableParallelism?.() ?? os.cpus().length)));

  // Timing first, alone: 100,000 sessions of the live model (stationary, 5,000 × 20 seeds).
  const t0 = performance.now();
  simulate(builtinEnvironment('stationary', 5000), ['lanekeeper'], 5000, 20);
  const timingS = (performance.now() - t0) / 1000;

  const jobs = [
    ...['lanekeeper', 'npts-static', 'ts-beta'].map((policy) => ({ env: 'stationary', policy })),
    ...['degrade', 'improve'].flatMap((env) => ['lanekeeper', 'npts-static'].map((policy) => ({ env, policy }))),
  ].map((j) => ({ ...j, sessions, seeds }));
  const t1 = performance.now();
  const results = await pool(jobs, workers);
  const get = (env, policy) => results.find((r) => r.env === env && r.policy === policy);

  const st = {
    lk: get('stationary', 'lanekeeper'),
    st: get('stationary', 'npts-static'),
    beta: get('stationary', 'ts-beta'),
  };
  const checks = [
    {
      check: 'stationary: regret vs ts-beta',
      lanekeeper: st.lk.regret,
      baseline: st.beta.regret,
      ratio: st.lk.regret / st.beta.regret,
      target: '≤ 0.35×',
      met: st.lk.regret <= 0.35 * st.beta.regret,
    },
    {
      check: 'stationary: regret vs npts-static',
      lanekeeper: st.lk.regret,
      baseline: st.st.regret,
      ratio: st.lk.regret / st.st.regret,
      target: '≤ 3×',
      met: st.lk.regret <= 3 * st.st.regret,
    },
  ];
  for (const env of ['degrade', 'improve']) {
    const lk = get(env, 'lanekeeper');
    const s = get(env, 'npts-static');
    checks.push({
      check: `${env}: regret after change vs npts-static`,
      lanekeeper: lk.regret_after_change,
      baseline: s.regret_after_change,
      ratio: lk.regret_after_change / s.regret_after_change,
      target: '≤ 0.25×',
      met: lk.regret_after_change <= 0.25 * s.regret_after_change,
    });
    checks.push({
      check: `${env}: t50 (decisions)`,
      lanekeeper: lk.t50,
      baseline: s.t50,
      ratio: null,
      target: '≤ 150',
      met: lk.t50 !== null && lk.t50 <= 150 && lk.t50_reached === 1,
    });
  }
  checks.push({
    check: '100,000 sessions (s wall)',
    lanekeeper: Number(timingS.toFixed(2)),
    baseline: null,
    ratio: null,
    target: '< 10 s',
    met: timingS < 10,
  });

  const f = (x) =>
    x === null || x === undefined
      ? '—'
      : typeof x === 'number'
        ? Number.isInteger(x)
          ? String(x)
          : x.toFixed(2)
        : String(x);
  console.log(
    `selector targets: ${sessions} sessions × ${seeds} seeds (${workers} worker${workers > 1 ? 's' : ''}, ${((performance.now() - t1) / 1000).toFixed(0)} s)`,
  );
  const rows = [
    ['check', 'lanekeeper', 'baseline', 'ratio', 'target', 'met'],
    ...checks.map((c) => [
      c.check,
      f(c.lanekeeper),
      f(c.baseline),
      c.ratio === null ? '' : `${c.ratio.toFixed(3)}×`,
      c.target,
      c.met ? 'yes' : 'NO',
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const [n, r] of rows.entries()) {
    console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
    if (n === 0) console.log(widths.map((w) => '─'.repeat(w)).join('  '));
  }
  console.log(JSON.stringify({ sessions, seeds, timing_s: timingS, checks, results }));
}
