// From a tick to its 6th session started: six idle lanes, width 6, a trivial agent (Node.js, then
// /bin/true), `run --once` repeated; measured in the journal (the TICK's time to the last
// SESSION_STARTED's time). Prints p50, p99 and max, where the time goes (tick to the last slot
// granted, to the first session started, the median gap between starts), the time from the
// runtime's start (RUNTIME_STARTED) to the 6th start, where work merely moved to before the tick
// would show, and one JSON line. Always exits 0.
//
//   node bench/tick-start.mjs [--runs 20] [--agent node|shell] [--cli dist/cli/main.js[,other/main.js…]]
//                             [--node-args "--cpu-prof --cpu-prof-dir=/tmp/prof"]
//
// --cli with several builds runs them interleaved (one run of each in turn), so a noisy machine
// weighs on all of them alike: the way to compare a change against its baseline. --node-args go
// to the lanekeeper process (a profiler, say).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { trivialFleet } from './trivial-fleet.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const runs = Number(arg('runs', 20));
const agents = arg('agent') ? [arg('agent')] : ['node', 'shell'];
const clis = arg('cli', 'dist/cli/main.js').split(',');
const nodeArgs = arg('node-args', '').split(' ').filter(Boolean);

/** The nearest-rank percentile of sorted numbers. */
const pct = (sorted, p) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
const median = (xs) =>
  pct(
    [...xs].sort((a, b) => a - b),
    50,
  );

const out = {};
// A Node.js agent (the CLI agents are Node programs: each start costs the machine a Node start-up)
// and /bin/true (what the scheduler itself costs).
for (const agent of agents) {
  const { dir, file } = trivialFleet({
    prefix: 'lk-tick-start-',
    width: 6,
    lanes: ['a', 'b', 'c', 'd', 'e', 'f'],
    agent,
  });
  const seen = clis.map(() => ({ spans: [], grants: [], first: [], gaps: [], fromRun: [] }));
  for (let r = 0; r < runs; r++) {
    for (const [c, cli] of clis.entries()) {
      const state = path.join(dir, `state-${r}-${c}`);
      execFileSync(process.execPath, [...nodeArgs, cli, 'run', '--once', '--config', file, '--state', state], {
        stdio: 'ignore',
        env: { ...process.env, LANEKEEPER_LOG_LEVEL: 'warn' },
      });
      const db = new Database(path.join(state, 'lanekeeper.db'), { readonly: true });
      const tick = db.prepare("SELECT at FROM journal WHERE type = 'TICK' ORDER BY seq LIMIT 1").pluck().get();
      const run = db
        .prepare("SELECT at FROM journal WHERE type = 'RUNTIME_STARTED' ORDER BY seq LIMIT 1")
        .pluck()
        .get();
      const grants = db.prepare("SELECT at FROM journal WHERE type = 'CLAIM_GRANTED' ORDER BY seq").pluck().all();
      const starts = db.prepare("SELECT at FROM journal WHERE type = 'SESSION_STARTED' ORDER BY seq").pluck().all();
      db.close();
      if (starts.length !== 6) continue;
      const s = seen[c];
      s.spans.push(Math.max(...starts) - tick);
      s.grants.push(Math.max(...grants) - tick);
      s.first.push(starts[0] - tick);
      s.gaps.push(...starts.slice(1).map((t, i) => t - starts[i]));
      s.fromRun.push(Math.max(...starts) - run);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  for (const [c, cli] of clis.entries()) {
    const { spans, grants, first, gaps, fromRun } = seen[c];
    spans.sort((a, b) => a - b);
    const result = {
      runs: spans.length,
      p50_ms: pct(spans, 50),
      p99_ms: pct(spans, 99),
      max_ms: spans.at(-1),
      grants_p50_ms: median(grants),
      first_start_p50_ms: median(first),
      gap_p50_ms: median(gaps),
      from_runtime_start_p50_ms: median(fromRun),
    };
    const key = clis.length > 1 ? `${agent} ${cli}` : agent;
    out[key] = result;
    console.log(
      `tick to 6 sessions started over ${result.runs} runs, ${agent} agent${clis.length > 1 ? ` (${cli})` : ''}: p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms, max ${result.max_ms} ms (target < 50 ms); ` +
        `slots granted after ${result.grants_p50_ms} ms, first start after ${result.first_start_p50_ms} ms, then one every ${result.gap_p50_ms} ms; ` +
        `the 6th ${result.from_runtime_start_p50_ms} ms after the runtime started (p50s)`,
    );
  }
}
console.log(JSON.stringify(out));
