// Replay speed and memory. Builds a journal of N events (default 1,000,000) the way the service
// would record it — six lanes driven through the real machines by a simulated shell (ticks,
// claims, session starts, exits and grades, wake-ups), each event with its intents, changed lane
// states and a checkpoint every 1000 events — in a real SQLite file; then replays it from the
// start in a child process (`lanekeeper replay --from-start --json`) and reports events per
// second and the child's peak memory (max RSS). Targets: ≥ 100,000 events/s; < 300 MB at 1M.
//
//   node bench/replay.mjs [--events 1000000]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../dist/adapters/store/sqlite/index.js';
import { FleetHost, MACHINES_VERSION } from '../dist/runtime/host.js';
import { defaultSelection } from '../dist/runtime/selection.js';

const i = process.argv.indexOf('--events');
const target = i > 0 ? Number(process.argv[i + 1]) : 1_000_000;
const dir = mkdtempSync(path.join(os.tmpdir(), 'lk-bench-replay-'));
await openSqliteStore(dir).close(); // the schema
const db = new Database(path.join(dir, 'lanekeeper.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = OFF');
const ins = {
  event: db.prepare('INSERT INTO journal (seq, at, type, seed, payload) VALUES (?, ?, ?, ?, ?)'),
  effect: db.prepare('INSERT INTO effects (seq, idx, intent) VALUES (?, ?, ?)'),
  changed: db.prepare('INSERT INTO transitions (seq, lanes) VALUES (?, ?)'),
  checkpoint: db.prepare('INSERT INTO checkpoints (seq, version, snapshot) VALUES (?, ?, ?)'),
};

const names = ['code', 'triage', 'content', 'research', 'infrastructure', 'cleanup'];
const lanes = names.map((name, k) => ({
  name, enabled: true, concurrency: 1, cooldownMs: 60_000 * (k + 1), respawnThreshold: 0.65, chainLimit: 1, timeoutMs: 3_600_000,
  targetShare: k === 0 ? 0.3 : null, parallel: k !== 5, arms: ['fast:small', 'deep:large'], minTier: null, maxTier: null, prefer: null,
}));
const arms = [{ id: 'fast:small', backend: 'fast', model: 'small', tier: 1, cost: 1 }, { id: 'deep:large', backend: 'deep', model: 'large', tier: 3, cost: 5 }];
const fleet = { width: 3, lanes, arms, selection: defaultSelection(lanes) };
const host = new FleetHost(fleet);
let seq = 0;
let now = Date.UTC(2026, 0, 1);
let rand = 12345;
const rnd = () => ((rand = (Math.imul(rand, 1103515245) + 12345) >>> 0) / 2 ** 32);
const pending = [];
const record = (e) => {
  const event = { ...e, seq: ++seq, now };
  const { intents, changed } = host.step(event);
  const { type, seed, ...rest } = event;
  delete rest.seq;
  delete rest.now;
  ins.event.run(seq, now, type, seed ?? null, JSON.stringify(rest));
  intents.forEach((x, k) => ins.effect.run(seq, k, JSON.stringify(x)));
  ins.changed.run(seq, JSON.stringify(changed));
  if (seq % 1000 === 0) ins.checkpoint.run(seq, MACHINES_VERSION, JSON.stringify({ fleet, actors: host.persist() }));
  // The simulated shell answers the intents as the adapters would.
  for (const x of intents) {
    if (x.type === 'requestClaim') pending.push({ type: 'CLAIM_GRANTED', laneId: x.laneId, sessionId: x.sessionId, key: x.key, slot: 0, token: seq, expiresAt: now + 120_000, seed: (seq * 2654435761) >>> 0 });
    if (x.type === 'startSession') {
      const own = { laneId: x.laneId, sessionId: x.sessionId };
      const quality = 0.3 + (names.indexOf(x.lane) % 4) / 6;
      const grade = Math.min(1, Math.max(0, quality + (rnd() - 0.5) * 0.4));
      pending.push({ type: 'SESSION_STARTED', ...own, pid: 1000 + (seq % 30000), arm: x.arm });
      pending.push({ type: 'SESSION_EXITED', ...own, exitCode: 0, signal: null, outcome: grade > 0.5 ? 'productive' : 'noop', durationMs: 600_000, reason: null });
      pending.push({ type: 'SESSION_GRADED', ...own, grade: Number(grade.toFixed(3)), source: 'session', dimensions: null, arm: x.arm });
    }
  }
};
const t0 = performance.now();
const write = db.transaction((n) => {
  for (let k = 0; k < n && seq < target; k++) {
    if (pending.length) record(pending.shift());
    else {
      now += 60_000;
      record(seq % 7 === 0 ? { type: 'WAKE' } : { type: 'TICK', reason: 'timer', seed: (seq * 40503) >>> 0, inputs: { blocked: [] } });
    }
    now += 1000;
  }
});
record({ type: 'RUNTIME_STARTED', fleet, machines: MACHINES_VERSION, mode: 'service' });
while (seq < target) write(10_000);
host.stop();
db.close();
const buildS = (performance.now() - t0) / 1000;

const t1 = performance.now();
// The replay runs in its own process, so its peak memory is its own (maxRSS, KiB, on stderr).
const child = spawnSync(
  process.execPath,
  ['--input-type=module', '-e', `const { main } = await import(${JSON.stringify(path.resolve('dist/cli/program.js'))}); process.exitCode = await main(['node', 'lanekeeper', 'replay', '--from-start', '--json', '--state', ${JSON.stringify(dir)}]); process.stderr.write(JSON.stringify({ maxRSS: process.resourceUsage().maxRSS }) + '\\n');`],
  { encoding: 'utf8', maxBuffer: 1 << 26 },
);
const out = child.stdout;
const peakMb = Math.round(JSON.parse(child.stderr.trim().split('\n').pop()).maxRSS / 1024);
const wall = (performance.now() - t1) / 1000;
if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true }); else console.log(dir);
const result = JSON.parse(out.trim().split('\n').pop());
console.log(JSON.stringify({ events: result.events, divergences: result.divergences, built_s: Number(buildS.toFixed(1)), replay_s: Number(wall.toFixed(2)), events_per_s: Math.round(result.events / wall), peak_mb: peakMb }));
