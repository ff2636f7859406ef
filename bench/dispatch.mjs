// Dispatch gap: from a session's exit to the next session's start, over many sessions of a
// trivial agent, measured from the store: the ended_at of one session's record, and the time of
// the next one's SESSION_STARTED in the journal (stamped once its process is spawned; the record's
// started_at is taken before its set-up, so it would leave the set-up out). Two ways to follow a session:
//   operator: `run --operator --sessions N`, width 1, one lane, no cooldown, no respawn;
//   respawn:  `run`, one lane with cooldown 0 whose every session earns a respawn (chains of 100,
//             the most a lane allows; a tick every second starts the next chain). Only respawns
//             count: the gap from a session's exit to its child's start.
// Prints p50 and p99 for each and one JSON line. Always exits 0.
//
//   node bench/dispatch.mjs [--sessions 1000] [--mode operator|respawn|both] [--agent node|shell]
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { trivialFleet } from './trivial-fleet.mjs';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const sessions = Number(arg('sessions', 1000));
const mode = arg('mode', 'both');
const agent = arg('agent', 'node');
const env = { ...process.env, LANEKEEPER_LOG_LEVEL: 'warn' };
const q = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];

function gapsOf(state, where) {
  const db = new Database(path.join(state, 'lanekeeper.db'), { readonly: true });
  const rows = db
    .prepare(
      `SELECT s.id, s.parent, s.dispatch, j.at AS started_at, s.ended_at FROM sessions s
       JOIN journal j ON j.type = 'SESSION_STARTED' AND json_extract(j.payload, '$.sessionId') = s.id ORDER BY j.seq`,
    )
    .all();
  db.close();
  const byId = new Map(rows.map((r) => [r.id, r]));
  return where(rows, byId).sort((a, b) => a - b);
}

const out = { agent };
if (mode === 'operator' || mode === 'both') {
  const { dir, file } = trivialFleet({ prefix: 'lk-dispatch-', width: 1, lanes: ['code'], agent });
  const state = path.join(dir, 'state');
  const t = Date.now();
  execFileSync(
    process.execPath,
    ['dist/cli/main.js', 'run', '--operator', '--sessions', String(sessions), '--config', file, '--state', state],
    { stdio: 'ignore', env },
  );
  const wall = (Date.now() - t) / 1000;
  const gaps = gapsOf(state, (rows) => rows.slice(1).map((r, k) => r.started_at - rows[k].ended_at));
  rmSync(dir, { recursive: true, force: true });
  out.operator = {
    sessions: gaps.length + 1,
    wall_s: wall,
    gap_p50_ms: q(gaps, 0.5),
    gap_p99_ms: q(gaps, 0.99),
    gap_max_ms: gaps.at(-1),
  };
  console.log(
    `operator dispatch gap over ${gaps.length + 1} sessions (${agent} agent): p50 ${q(gaps, 0.5)} ms, p99 ${q(gaps, 0.99)} ms, max ${gaps.at(-1)} ms (target p99 < 20 ms); ${wall.toFixed(1)} s wall`,
  );
}
if (mode === 'respawn' || mode === 'both') {
  const { dir, file } = trivialFleet({
    prefix: 'lk-respawn-',
    width: 1,
    lanes: ['code'],
    agent,
    lane: 'cooldown: 0s, respawn: { threshold: 0.5, chain_limit: 100 }',
    graded: true,
    interval: '1s',
  });
  const state = path.join(dir, 'state');
  const t = Date.now();
  const child = spawn(process.execPath, ['dist/cli/main.js', 'run', '--config', file, '--state', state], {
    stdio: 'ignore',
    env,
  });
  // Poll the store until enough respawns ran, then drain.
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    if (child.exitCode !== null) throw new Error(`lanekeeper run exited early (${child.exitCode}); state in ${state}`);
    try {
      const db = new Database(path.join(state, 'lanekeeper.db'), { readonly: true, timeout: 1000 });
      const n = db
        .prepare("SELECT COUNT(*) FROM sessions WHERE dispatch = 'respawn' AND ended_at IS NOT NULL")
        .pluck()
        .get();
      db.close();
      if (n >= sessions) break;
    } catch (err) {
      // The database may not exist yet; anything else is a failure.
      if (!/unable to open|no such table|directory does not exist/.test(String(err))) throw err;
    }
  }
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
  const wall = (Date.now() - t) / 1000;
  const gaps = gapsOf(state, (rows, byId) =>
    rows
      .filter((r) => r.dispatch === 'respawn' && byId.get(r.parent)?.ended_at != null)
      .map((r) => r.started_at - byId.get(r.parent).ended_at),
  );
  rmSync(dir, { recursive: true, force: true });
  out.respawn = {
    respawns: gaps.length,
    wall_s: wall,
    gap_p50_ms: q(gaps, 0.5),
    gap_p99_ms: q(gaps, 0.99),
    gap_max_ms: gaps.at(-1),
  };
  console.log(
    `respawn gap (cooldown 0) over ${gaps.length} respawns (${agent} agent): p50 ${q(gaps, 0.5)} ms, p99 ${q(gaps, 0.99)} ms, max ${gaps.at(-1)} ms (target p99 < 20 ms); ${wall.toFixed(1)} s wall`,
  );
}
console.log(JSON.stringify(out));
