// `status --json` and `stats --json` on a store the size of a long-lived service's: 1,000,000
// journal events and 100,000 sessions over a year (bench/status-store.mjs builds it in bulk, about
// half a minute). Target: under 200 ms each. Reports medians of:
//   - the command as a whole process, beside a bare `node -e 0` (interleaved, so both see the same
//     machine load; on the 2-core VM node's own start-up is most of it);
//   - the command in this process (its module already loaded once): opening the store, reading,
//     formatting, as `main()` runs it;
//   - the ceiling: the same rows read with better-sqlite3 directly (open, the minimal queries,
//     close), and the command's in-process time as a multiple of it.
//
//   node bench/status-stats.mjs [--runs 15] [--events 1000000] [--sessions 100000]
//        [--lock-events-per-session 3] [--state DIR (a store built before; KEEP=1 keeps a new one)]
//        [--cli dist/cli/main.js[,other/dist/cli/main.js]]
// --cli with two builds builds a store for each (with that build's schema) and runs them
// interleaved: the build before and this one, on the same machine at the same time.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { buildStatusStore } from './status-store.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const runs = Number(arg('runs', 15));
const events = Number(arg('events', 1_000_000));
const sessions = Number(arg('sessions', 100_000));
const lockEventsPerSession = Number(arg('lock-events-per-session', 3));
const clis = arg('cli', 'dist/cli/main.js')
  .split(',')
  .map((c) => path.resolve(c));
const given = arg('state');
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x) => Math.round(x * 10) / 10;
const DAY = 86_400_000;

// One store per build (a build refuses a store whose schema is newer than its own).
const stores = [];
for (const cli of clis) {
  const dir = given && clis.length === 1 ? given : mkdtempSync(path.join(os.tmpdir(), 'lk-bench-status-'));
  let built = null;
  if (!(given && clis.length === 1))
    built = await buildStatusStore(dir, {
      events,
      sessions,
      lockEventsPerSession,
      dist: path.resolve(path.dirname(cli), '..'),
    });
  const bytes = statSync(path.join(dir, 'lanekeeper.db')).size;
  stores.push({ cli, dir, built, bytes });
  console.log(
    `${cli}: store ${dir} (${Math.round(bytes / 1_048_576)} MB${built ? `, built in ${built.buildS.toFixed(1)} s: ${built.events} events, ${built.sessions} sessions, ${built.decisions} decisions, ${built.lockEvents} lock records` : ''})`,
  );
}

/** Wall time of a whole process, in ms. */
const timeProcess = (args) => {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  const ms = performance.now() - t;
  if (r.status !== 0 && args[0] !== '-e') throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return ms;
};

// Whole processes, interleaved. The first of each warms the page cache and is not counted.
const bare = [];
const proc = stores.map(() => ({ status: [], stats: [] }));
for (let i = -1; i < runs; i++) {
  const t = timeProcess(['-e', '0']);
  if (i >= 0) bare.push(t);
  for (const [k, s] of stores.entries())
    for (const cmd of ['status', 'stats']) {
      const ms = timeProcess([s.cli, cmd, '--json', '--state', s.dir]);
      if (i >= 0) proc[k][cmd].push(ms);
    }
}

// In this process: main() as the CLI runs it, its output swallowed, the builds interleaved. The
// first call of each loads the command's modules and is reported apart.
async function inProcess() {
  const mains = [];
  for (const s of stores) mains.push((await import(path.resolve(path.dirname(s.cli), 'program.js'))).main);
  const out = stores.map(() => ({ status: [], stats: [], first: {} }));
  const write = process.stdout.write;
  for (let i = -1; i < runs; i++)
    for (const [k, s] of stores.entries())
      for (const cmd of ['status', 'stats']) {
        process.stdout.write = () => true;
        const t = performance.now();
        let code;
        try {
          code = await mains[k](['node', 'lanekeeper', cmd, '--json', '--state', s.dir]);
        } finally {
          process.stdout.write = write;
        }
        const ms = performance.now() - t;
        if (code !== 0) throw new Error(`${cmd} exited ${code}`);
        if (i < 0) out[k].first[cmd] = ms;
        else out[k][cmd].push(ms);
      }
  return out;
}

// The ceiling: what status and stats must read, read directly (open, queries, close).
function ceiling(dir) {
  const now = Date.now();
  const since = now - DAY;
  const read = {
    status: (db) => {
      db.prepare('SELECT * FROM lanes ORDER BY lane, slot').all();
      db.prepare('SELECT * FROM sessions ORDER BY started_at DESC, id DESC LIMIT 200').all();
      db.prepare('SELECT detail FROM decisions ORDER BY seq DESC, rowid DESC LIMIT 20').all();
      db.prepare('SELECT * FROM claims ORDER BY key, slot').all();
      db.prepare('SELECT key, value FROM runtime_info').all();
      db.prepare('SELECT MAX(seq) FROM journal').get();
    },
    stats: (db) => {
      // The window's lock records: here the newest-first walk back, as the store reads them.
      const first = db
        .prepare('SELECT id FROM lock_events WHERE at < ? ORDER BY id DESC LIMIT 1')
        .pluck()
        .get(since - 7 * 3_600_000);
      db.prepare('SELECT * FROM lock_events WHERE id > ? AND at >= ? ORDER BY id').all(
        first ?? 0,
        since - 6 * 3_600_000,
      );
      db.prepare('SELECT * FROM sessions WHERE started_at >= ?').all(since);
      db.prepare('SELECT grade FROM sessions ORDER BY started_at DESC, id DESC LIMIT 200').all();
      db.prepare('SELECT detail FROM decisions WHERE at >= ?').all(since);
      db.prepare('SELECT * FROM lanes').all();
      db.prepare('SELECT * FROM orphans WHERE at >= ?').all(since);
      db.prepare('SELECT key, value FROM runtime_info').all();
    },
  };
  const out = { status: [], stats: [] };
  for (let i = -1; i < runs; i++)
    for (const cmd of ['status', 'stats']) {
      const t = performance.now();
      const db = new Database(path.join(dir, 'lanekeeper.db'), { readonly: true });
      read[cmd](db);
      db.close();
      if (i >= 0) out[cmd].push(performance.now() - t);
    }
  return out;
}

const result = {
  runs,
  events,
  sessions,
  lock_events_per_session: lockEventsPerSession,
  node_e0_median_ms: round(median(bare)),
  builds: [],
};
const inProcs = await inProcess();
for (const [k, s] of stores.entries()) {
  const inProc = inProcs[k];
  const ceil = ceiling(s.dir);
  const b = { cli: s.cli, store_mb: Math.round(s.bytes / 1_048_576) };
  for (const cmd of ['status', 'stats']) {
    b[cmd] = {
      process_median_ms: round(median(proc[k][cmd])),
      in_process_median_ms: round(median(inProc[cmd])),
      in_process_first_ms: round(inProc.first[cmd]),
      ceiling_median_ms: round(median(ceil[cmd])),
      in_process_over_ceiling: round(median(inProc[cmd]) / median(ceil[cmd])),
    };
  }
  result.builds.push(b);
  for (const cmd of ['status', 'stats']) {
    const r = b[cmd];
    console.log(
      `${cmd} --json${clis.length > 1 ? ` (${s.cli})` : ''}: whole process median ${r.process_median_ms} ms (node -e 0: ${result.node_e0_median_ms} ms; target < 200 ms); ` +
        `in process ${r.in_process_median_ms} ms (first call ${r.in_process_first_ms} ms); raw SQLite ceiling ${r.ceiling_median_ms} ms: ${r.in_process_over_ceiling}×`,
    );
  }
}
console.log(JSON.stringify(result));
for (const s of stores) {
  if (given && clis.length === 1) continue;
  if (process.env.KEEP) console.log(`kept ${s.dir}`);
  else rmSync(s.dir, { recursive: true, force: true });
}
