// From a tick to its 6th session started: six idle lanes, width 6, a trivial agent (Node.js, then
// /bin/true), `run --once`
// repeated; measured in the journal (the TICK's time to the last SESSION_STARTED's time). Prints
// p50 and max and one JSON line. Always exits 0.
//
//   node bench/tick-start.mjs [--runs 20]
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { trivialFleet } from './trivial-fleet.mjs';

const i = process.argv.indexOf('--runs');
const runs = i > 0 ? Number(process.argv[i + 1]) : 20;
const out = {};
// A Node.js agent (the CLI agents are Node programs: each start costs the machine a Node start-up)
// and /bin/true (what the scheduler itself costs).
for (const agent of ['node', 'shell']) {
const { dir, file } = trivialFleet({ prefix: 'lk-tick-start-', width: 6, lanes: ['a', 'b', 'c', 'd', 'e', 'f'], agent });
const spans = [];
for (let r = 0; r < runs; r++) {
  const state = path.join(dir, `state-${r}`);
  execFileSync(process.execPath, ['dist/cli/main.js', 'run', '--once', '--config', file, '--state', state], { stdio: 'ignore', env: { ...process.env, LANEKEEPER_LOG_LEVEL: 'warn' } });
  const db = new Database(path.join(state, 'lanekeeper.db'), { readonly: true });
  const tick = db.prepare("SELECT at FROM journal WHERE type = 'TICK' ORDER BY seq LIMIT 1").pluck().get();
  const starts = db.prepare("SELECT at FROM journal WHERE type = 'SESSION_STARTED' ORDER BY seq").pluck().all();
  db.close();
  if (starts.length === 6) spans.push(Math.max(...starts) - tick);
}
rmSync(dir, { recursive: true, force: true });
spans.sort((a, b) => a - b);
out[agent] = { runs: spans.length, p50_ms: spans[Math.floor(spans.length / 2)], max_ms: spans.at(-1) };
console.log(`tick to 6 sessions started over ${spans.length} runs, ${agent} agent: p50 ${out[agent].p50_ms} ms, max ${out[agent].max_ms} ms (target < 50 ms)`);
}
console.log(JSON.stringify(out));
