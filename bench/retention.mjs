// Journal retention on a year of history (bench/status-store.mjs: 1,000,000 events, 100,000
// sessions), keeping 90 days: how long the prune takes (with its archive), how much the file gives
// back, and what a writer beside it waits: another process, as `lanekeeper claim` or the runtime
// would be, writes a row every 5 ms and reports its slowest write. The store is made by this build,
// so it vacuums incrementally; `--old-file` makes it as a lanekeeper before retention did, so the
// prune rewrites it once (VACUUM), and shows what the writer waits then.
//
//   node bench/retention.mjs [--events 1000000] [--sessions 100000] [--keep-days 90] [--old-file] [--no-archive]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../dist/adapters/store/sqlite/index.js';
import { pruneJournal } from '../dist/streams/retention.js';
import { buildStatusStore } from './status-store.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const events = Number(arg('events', 1_000_000));
const sessions = Number(arg('sessions', 100_000));
const keepDays = Number(arg('keep-days', 90));
const oldFile = process.argv.includes('--old-file');
const archive = !process.argv.includes('--no-archive');
const DAY = 86_400_000;

const dir = mkdtempSync(path.join(os.tmpdir(), 'lk-bench-retention-'));
const state = path.join(dir, 'state');
mkdirSync(state);
if (oldFile) {
  // WAL mode set before anything else: auto_vacuum stays off, as in a store made before retention.
  const db = new Database(path.join(state, 'lanekeeper.db'));
  db.pragma('journal_mode = WAL');
  db.close();
}
const now = Date.now();
const built = await buildStatusStore(state, { events, sessions, now });
// The bulk build's checkpoints carry no machines version of this build: make them this build's,
// as a running lanekeeper's would be.
{
  const { MACHINES_VERSION } = await import('../dist/streams/fleet-host.js');
  const db = new Database(path.join(state, 'lanekeeper.db'));
  db.prepare('UPDATE checkpoints SET version = ?').run(MACHINES_VERSION);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}
const before = statSync(path.join(state, 'lanekeeper.db')).size;

// The writer beside it, as `lanekeeper claim` or the runtime writes: through the store (its busy
// retries, its WAL settings), a small write every 5 ms; its slowest, and when the slow ones were.
const writer = spawn(
  process.execPath,
  [
    '--input-type=module',
    '-e',
    `
    const { openSqliteStore } = await import(${JSON.stringify(path.resolve(import.meta.dirname, '../dist/adapters/store/sqlite/index.js'))});
    const store = openSqliteStore(${JSON.stringify(state)});
    let max = 0, n = 0, stop = false;
    const slow = [];
    process.on('message', () => { stop = true; });
    while (!stop) {
      const t = performance.now();
      await store.runtimeInfo.set('next_tick', String(t));
      const ms = performance.now() - t;
      max = Math.max(max, ms); n++;
      if (ms > 100) slow.push([Math.round(performance.timeOrigin + t), Math.round(ms)]);
      await new Promise((r) => setTimeout(r, 5));
    }
    process.send({ max, n, slow });
    process.exit(0);
    `,
  ],
  { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
);
await new Promise((r) => setTimeout(r, 300));

const store = openSqliteStore(state);
const pruneStart = Date.now();
const t0 = performance.now();
const report = await pruneJournal({
  store,
  keepMs: keepDays * DAY,
  archiveDir: archive ? path.join(dir, 'archive') : null,
  now,
});
const pruneS = (performance.now() - t0) / 1000;
await store.close();
writer.send('stop');
const writes = await new Promise((r) => writer.once('message', r));
const after = statSync(path.join(state, 'lanekeeper.db')).size;
const archived = archive ? readdirSync(path.join(dir, 'archive')) : [];
const archiveBytes = archived.reduce((n, f) => n + statSync(path.join(dir, 'archive', f)).size, 0);

const result = {
  events,
  sessions,
  keep_days: keepDays,
  old_file: oldFile,
  build_s: Number(built.buildS.toFixed(1)),
  status: report.status,
  deleted_events: report.deleted?.events ?? 0,
  vacuum: report.deleted?.vacuum ?? null,
  prune_s: Number(pruneS.toFixed(1)),
  events_per_s: Math.round((report.deleted?.events ?? 0) / pruneS),
  file_mb_before: Math.round(before / 1_048_576),
  file_mb_after: Math.round(after / 1_048_576),
  archive_mb: Math.round(archiveBytes / 1_048_576),
  writer_max_wait_ms: Number(writes.max.toFixed(1)),
  writer_writes: writes.n,
  writer_writes_over_100ms: writes.slow.length,
  // When the slow writes were, in s from the prune's start, and how long each took (ms).
  writer_slow: writes.slow.map(([at, ms]) => [Number(((at - pruneStart) / 1000).toFixed(1)), ms]),
};
console.log(report.message);
console.log(
  `pruned ${result.deleted_events} events in ${result.prune_s} s (${result.events_per_s}/s${archive ? `, archive ${result.archive_mb} MB` : ''}); ` +
    `file ${result.file_mb_before} MB → ${result.file_mb_after} MB (${result.vacuum}); ` +
    `a writer beside it: slowest write ${result.writer_max_wait_ms} ms of ${result.writer_writes}, ${result.writer_writes_over_100ms} over 100 ms`,
);
console.log(JSON.stringify(result));
rmSync(dir, { recursive: true, force: true });
