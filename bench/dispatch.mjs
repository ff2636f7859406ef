// Dispatch gap in operator mode: from a session's exit to the next session's start, over many
// sessions of a trivial agent (width 1, one lane, no cooldown, no respawn), measured from the
// store's session records (ended_at of one, started_at of the next; started_at is taken just
// before the process is spawned). Prints p50 and p99 and one JSON line. Always exits 0.
//
//   node bench/dispatch.mjs [--sessions 1000]
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { openSqliteStore } from '../dist/adapters/store/sqlite/index.js';
import { trivialFleet } from './trivial-fleet.mjs';

const i = process.argv.indexOf('--sessions');
const sessions = i > 0 ? Number(process.argv[i + 1]) : 1000;
const { dir, file } = trivialFleet({ prefix: 'lk-dispatch-', width: 1, lanes: ['code'] });
const state = path.join(dir, 'state');
const t = Date.now();
execFileSync(process.execPath, ['dist/cli/main.js', 'run', '--operator', '--sessions', String(sessions), '--config', file, '--state', state], { stdio: 'ignore', env: { ...process.env, LANEKEEPER_LOG_LEVEL: 'warn' } });
const wall = (Date.now() - t) / 1000;
const store = openSqliteStore(state, { mustExist: true });
const rows = (await store.sessions.list()).sort((a, b) => a.started_at - b.started_at);
await store.close();
rmSync(dir, { recursive: true, force: true });
const gaps = rows.slice(1).map((r, k) => r.started_at - rows[k].ended_at).sort((a, b) => a - b);
const q = (p) => gaps[Math.min(gaps.length - 1, Math.floor(p * gaps.length))];
const out = { sessions: rows.length, wall_s: wall, gap_p50_ms: q(0.5), gap_p99_ms: q(0.99), gap_max_ms: gaps.at(-1) };
console.log(`operator dispatch gap over ${rows.length} sessions: p50 ${out.gap_p50_ms} ms, p99 ${out.gap_p99_ms} ms, max ${out.gap_max_ms} ms (target p99 < 20 ms); ${wall.toFixed(1)} s wall`);
console.log(JSON.stringify(out));
