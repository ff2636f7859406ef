// Claim contention on PostgreSQL: P processes race acquire+release cycles over K keys on one
// PostgreSQL store (the PostgreSQL twin of claims-contention.mjs).
//
//   node bench/claims-pg.mjs [--procs 8] [--keys 4] [--seconds 10] [--ttl 30000] [--url URL]
//
// The URL defaults to $LANEKEEPER_BENCH_PG_URL, then $LANEKEEPER_TEST_PG_URL; with neither, or
// when that server does not answer, it prints why and exits 0 (skipped), so `npm run bench` runs
// on machines without PostgreSQL. Needs the built code (npm run build). The store lives in a
// fresh schema, dropped afterwards (--keep keeps it).
//
// Each worker (one connection) loops for the given time: acquire a random key; if granted,
// release it at once with the token. It times every acquire call (the claim latency, granted or
// denied) and counts its own CPU time (the client's share of the cost). Double grants are looked
// for three ways afterwards: the lock records replayed in commit order (id), their hold intervals
// on the database clock, and the workers' own hold intervals on this machine's clock (from the
// grant's answer to sending the release, which lies inside the hold the database saw). Prints a
// table and one line of JSON. Figures on a shared machine are noisy. claims-pgbench.mjs runs the
// same statements without Node, for the server's ceiling.
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openPostgresStore } from '../dist/adapters/store/postgres/index.js';
import { claimFigures, printFigures } from './claim-summary.mjs';
import { benchPgUrl, unreachable } from './pg-server.mjs';

const { values: opts } = parseArgs({
  options: {
    procs: { type: 'string', default: '8' },
    keys: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '10' },
    ttl: { type: 'string', default: '30000' },
    url: { type: 'string' },
    child: { type: 'string' },
    schema: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const url = benchPgUrl(opts.url);

if (opts.child !== undefined) await child();
else await parent();

async function child() {
  const id = `w${opts.child}`;
  const keys = Array.from({ length: Number(opts.keys) }, (_, i) => `bench:k${i}`);
  const ttlMs = Number(opts.ttl);
  const store = await openPostgresStore(url, { schema: opts.schema, max: 1, mustExist: true });
  const latencies = [];
  // [key index, granted at, release sent at] in ms of the machine's monotonic clock, which all
  // processes on it share.
  const holds = [];
  let cycles = 0;
  let denied = 0;
  let refused = 0;
  const errors = [];
  const clock = () => Number(process.hrtime.bigint()) / 1e6;
  const go = await new Promise((resolve) => {
    process.once('message', resolve);
    process.send({ type: 'ready' });
  });
  const cpu0 = process.cpuUsage();
  while (Date.now() < go.end) {
    const k = Math.floor(Math.random() * keys.length);
    const key = keys[k];
    const t = performance.now();
    let r;
    try {
      r = await store.claims.acquire({ key, holder: id, ttlMs });
    } catch (err) {
      if (errors.length < 5) errors.push(String(err));
      continue;
    } finally {
      latencies.push(performance.now() - t);
    }
    if (!r.granted) {
      denied++;
      continue;
    }
    const grantedAt = clock();
    try {
      const sentAt = clock();
      const rel = await store.claims.release({ key, holder: id, token: r.token });
      holds.push(k, grantedAt, sentAt);
      if (rel.ok) cycles++;
      else refused++;
    } catch (err) {
      if (errors.length < 5) errors.push(String(err));
    }
  }
  const { user, system } = process.cpuUsage(cpu0);
  const cpuMs = (user + system) / 1000;
  await store.close();
  // Disconnect only once the (large) message is flushed, or it may be lost.
  process.send({ type: 'done', id, cycles, denied, refused, errors, latencies, holds, cpuMs }, () =>
    process.disconnect(),
  );
}

async function parent() {
  const reason = await unreachable(url);
  if (reason) {
    console.log(`claims on PostgreSQL: skipped: ${reason}`);
    console.log(JSON.stringify({ skipped: reason }));
    return;
  }
  const procs = Number(opts.procs);
  const keys = Number(opts.keys);
  const seconds = Number(opts.seconds);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const schema = `lk_bench_claims_${process.pid}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  try {
    // Create the tables once, before the workers race to open the store.
    await (await openPostgresStore(url, { schema, max: 1 })).close();
    const results = await runWorkers({ procs, keys, seconds, schema });
    report({ procs, keys, seconds, results, check: await checkHolds(admin, schema, results, keys) });
  } finally {
    if (!opts.keep) await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    else console.log(`kept schema ${schema}`);
    await admin.end();
  }
}

async function runWorkers({ procs, keys, seconds, schema }) {
  const children = [];
  const results = [];
  const readies = [];
  const exits = [];
  for (let i = 0; i < procs; i++) {
    const args = ['--child', String(i), '--schema', schema, '--keys', String(keys), '--ttl', opts.ttl, '--url', url];
    const c = fork(import.meta.filename, args, { stdio: 'inherit' });
    children.push(c);
    readies.push(new Promise((resolve) => c.once('message', resolve)));
    exits.push(new Promise((resolve) => c.once('exit', resolve)));
    c.on('message', (m) => m.type === 'done' && results.push(m));
  }
  const killAll = () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL'));
  process.once('SIGINT', () => (killAll(), process.exit(130)));
  await Promise.all(readies);
  const end = Date.now() + seconds * 1000;
  for (const c of children) c.send({ type: 'go', end });
  const watchdog = setTimeout(killAll, seconds * 1000 + 30_000);
  await Promise.all(exits);
  clearTimeout(watchdog);
  return results;
}

function report({ procs, keys, seconds, results, check }) {
  const summary = {
    store: 'postgres',
    ...claimFigures(results, { procs, keys, seconds }),
    // The workers' own CPU (this machine's, not the server's), per store call and per cycle.
    clientCpuUsPerCall: Math.round(
      (sum(results, 'cpuMs') * 1000) / Math.max(1, sum(results, 'cycles') * 2 + sum(results, 'denied')),
    ),
    clientCpuMsPerCycle: Math.round((sum(results, 'cpuMs') / Math.max(1, sum(results, 'cycles'))) * 1000) / 1000,
    errors: results.flatMap((r) => r.errors),
    doubleGrants: check.doubleGrants,
    grantsChecked: check.grants,
  };
  printFigures('claims on PostgreSQL', summary);
  console.log(
    `  client CPU          ${summary.clientCpuUsPerCall} µs per call, ${summary.clientCpuMsPerCycle} ms per cycle (denials included)`,
  );
  console.log(`  errors              ${summary.errors.length}`);
  console.log(
    `  double grants       ${summary.doubleGrants}  (${check.grants} grants checked by lock records, ${check.clientHolds} holds by the workers' clocks)`,
  );
  if (check.details.length) console.log(`  first overlaps: ${check.details.join('; ')}`);
  console.log(JSON.stringify(summary));
  if (results.length !== procs || summary.doubleGrants > 0 || summary.errors.length > 0) process.exitCode = 1;
}

function sum(results, field) {
  return results.reduce((n, r) => n + r[field], 0);
}

/** Double grants in the lock records (commit order and database-clock intervals) and in the workers' own hold intervals. */
async function checkHolds(admin, schema, results, keys) {
  const { rows } = await admin.query(
    `SELECT id, at, key, slots, holder, epoch, event FROM ${schema}.lock_events ORDER BY id`,
  );
  const open = new Map(); // key -> Map(epoch -> start at)
  const intervals = new Map(); // key -> [start, end][]
  let doubleGrants = 0;
  let grants = 0;
  const details = [];
  const note = (d) => details.length < 3 && details.push(d);
  for (const e of rows) {
    const epoch = Number(e.epoch);
    const atMs = Number(e.at);
    let held = open.get(e.key);
    if (!held) open.set(e.key, (held = new Map()));
    if (e.event === 'acquired') {
      grants++;
      if (held.size >= (e.slots ?? 1)) {
        doubleGrants++;
        note(`${e.key} epoch ${epoch} granted at id ${e.id} while ${[...held.keys()].join(',')} held`);
      }
      held.set(epoch, atMs);
    } else if ((e.event === 'released' || e.event === 'completed' || e.event === 'expired') && held.has(epoch)) {
      const list = intervals.get(e.key) ?? [];
      list.push([held.get(epoch), atMs]);
      intervals.set(e.key, list);
      held.delete(epoch);
    }
  }
  doubleGrants += overlaps(intervals, note, 'database clock');
  // The workers' holds: [granted, release sent] lies inside the database's hold.
  const client = new Map();
  let clientHolds = 0;
  for (const r of results) {
    for (let i = 0; i < r.holds.length; i += 3) {
      const key = `bench:k${r.holds[i]}`;
      const list = client.get(key) ?? [];
      list.push([r.holds[i + 1], r.holds[i + 2]]);
      client.set(key, list);
      clientHolds++;
    }
  }
  doubleGrants += overlaps(client, note, "workers' clocks");
  return { doubleGrants, grants, clientHolds, details, keys };
}

/** Holds of one slot that overlap: sorted by start, each must start no earlier than every earlier one ended. */
function overlaps(intervals, note, clock) {
  let n = 0;
  for (const [key, list] of intervals) {
    list.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let lastEnd = -Infinity;
    for (const [start, end] of list) {
      if (start < lastEnd) {
        n++;
        note(`${key} (${clock}): a hold from ${start} starts before an earlier one ends at ${lastEnd}`);
      }
      lastEnd = Math.max(lastEnd, end);
    }
  }
  return n;
}
