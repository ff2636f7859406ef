// Claim contention: P processes race acquire+release cycles over K keys on one SQLite file.
//
//   node bench/claims-contention.mjs [--procs 4] [--keys 8] [--seconds 5] [--ttl 30000]
//
// Needs the built code (npm run build). Each worker loops for the given time: acquire a random
// key; if granted, release it at once with the token. It times every acquire call (the claim
// latency, granted or denied) and counts SQLITE_BUSY errors that get past the store's retries.
// Afterwards the parent reads lock_events back and checks that no key ever had two holders.
// Prints a table and one line of JSON. Figures on shared machines are noisy.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../dist/adapters/store/sqlite/index.js';
import { claimFigures, printFigures, round } from './claim-summary.mjs';

const { values: opts } = parseArgs({
  options: {
    procs: { type: 'string', default: '4' },
    keys: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '5' },
    ttl: { type: 'string', default: '30000' },
    child: { type: 'string' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});

const isBusy = (err) =>
  typeof err?.code === 'string' && (err.code.startsWith('SQLITE_BUSY') || err.code.startsWith('SQLITE_LOCKED'));

if (opts.child !== undefined) await child();
else await parent();

async function child() {
  const id = `w${opts.child}`;
  const keys = Array.from({ length: Number(opts.keys) }, (_, i) => `bench:k${i}`);
  const ttlMs = Number(opts.ttl);
  const store = openSqliteStore(opts.dir);
  const latencies = [];
  let cycles = 0;
  let denied = 0;
  let busy = 0;
  let refused = 0;
  const errors = [];
  const go = await new Promise((resolve) => {
    process.once('message', resolve);
    process.send({ type: 'ready' });
  });
  const end = go.end;
  while (Date.now() < end) {
    const key = keys[Math.floor(Math.random() * keys.length)];
    const t = performance.now();
    let r;
    try {
      r = await store.claims.acquire({ key, holder: id, ttlMs });
    } catch (err) {
      if (isBusy(err)) busy++;
      else if (errors.length < 5) errors.push(String(err));
      continue;
    } finally {
      latencies.push(performance.now() - t);
    }
    if (!r.granted) {
      denied++;
      continue;
    }
    try {
      const rel = await store.claims.release({ key, holder: id, token: r.token });
      if (rel.ok) cycles++;
      else refused++;
    } catch (err) {
      if (isBusy(err)) busy++;
      else if (errors.length < 5) errors.push(String(err));
    }
  }
  await store.close();
  // Disconnect only once the (large) message is flushed, or it may be lost.
  process.send({ type: 'done', id, cycles, denied, busy, refused, errors, latencies }, () => process.disconnect());
}

async function parent() {
  const procs = Number(opts.procs);
  const keys = Number(opts.keys);
  const seconds = Number(opts.seconds);
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'lk-bench-claims-'));
  // Create and migrate the database once, before the workers race to open it.
  await openSqliteStore(dir).close();

  const children = [];
  const results = [];
  const readies = [];
  const exits = [];
  for (let i = 0; i < procs; i++) {
    const c = fork(
      import.meta.filename,
      ['--child', String(i), '--dir', dir, '--keys', String(keys), '--ttl', opts.ttl],
      { stdio: 'inherit' },
    );
    children.push(c);
    readies.push(new Promise((resolve) => c.once('message', resolve)));
    exits.push(new Promise((resolve) => c.once('exit', resolve)));
    c.on('message', (m) => m.type === 'done' && results.push(m));
  }
  const killAll = () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL'));
  process.once('SIGINT', () => (killAll(), process.exit(130)));
  await Promise.all(readies);
  const start = Date.now();
  const end = start + seconds * 1000;
  for (const c of children) c.send({ type: 'go', end });
  const watchdog = setTimeout(killAll, seconds * 1000 + 30_000);
  await Promise.all(exits);
  clearTimeout(watchdog);
  const elapsed = (Math.max(end, Date.now()) - start) / 1000;

  const sum = (f) => results.reduce((n, r) => n + r[f], 0);
  const check = checkHolds(path.join(dir, 'lanekeeper.db'));

  const summary = {
    ...claimFigures(results, { procs, keys, seconds }),
    busyErrors: sum('busy'),
    otherErrors: results.flatMap((r) => r.errors),
    doubleGrants: check.doubleGrants,
    grantsChecked: check.grants,
    elapsedSec: round(elapsed),
  };
  printFigures('claims contention', summary);
  console.log(`  busy errors         ${summary.busyErrors}`);
  console.log(`  double grants       ${summary.doubleGrants}  (${check.grants} grants checked)`);
  if (check.details.length) console.log(`  first overlaps: ${check.details.join('; ')}`);
  console.log(JSON.stringify(summary));
  if (!opts.keep && opts.dir === undefined) rmSync(dir, { recursive: true, force: true });
  if (results.length !== procs || summary.doubleGrants > 0) process.exitCode = 1;
}

/**
 * Replays lock_events in commit order (id): a hold opens at 'acquired' and closes at the first
 * 'released', 'completed' or 'expired' of its epoch. A grant while the key already has as many
 * open holds as slots is a double grant. The holds' [at, end] intervals are checked too.
 */
function checkHolds(file) {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const events = db.prepare('SELECT id, at, key, slots, holder, epoch, event FROM lock_events ORDER BY id').all();
  db.close();
  const open = new Map(); // key -> Map(epoch -> start at)
  const intervals = new Map(); // key -> [start, end][]
  let doubleGrants = 0;
  let grants = 0;
  const details = [];
  for (const e of events) {
    let held = open.get(e.key);
    if (!held) open.set(e.key, (held = new Map()));
    if (e.event === 'acquired') {
      grants++;
      if (held.size >= (e.slots ?? 1)) {
        doubleGrants++;
        if (details.length < 3)
          details.push(`${e.key} epoch ${e.epoch} granted at id ${e.id} while ${[...held.keys()].join(',')} held`);
      }
      held.set(e.epoch, e.at);
    } else if ((e.event === 'released' || e.event === 'completed' || e.event === 'expired') && held.has(e.epoch)) {
      const list = intervals.get(e.key) ?? [];
      list.push([held.get(e.epoch), e.at]);
      intervals.set(e.key, list);
      held.delete(e.epoch);
    }
  }
  for (const [key, list] of intervals) {
    // Slots are 1 here: sorted by start, each hold must start no earlier than every earlier one ended.
    list.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let lastEnd = -Infinity;
    for (const [start, end] of list) {
      if (start < lastEnd) {
        doubleGrants++;
        if (details.length < 3)
          details.push(`${key}: a hold from ${start} starts before an earlier one ends at ${lastEnd}`);
      }
      lastEnd = Math.max(lastEnd, end);
    }
  }
  return { doubleGrants, grants, details };
}
