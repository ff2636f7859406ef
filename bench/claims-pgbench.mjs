// The ceiling of claims on PostgreSQL without Node: pgbench (C, one connection per client) runs
// the store's own one-slot statements (ACQUIRE_ONE, FINISH_ONE from the built claims-sql.js) the
// way claims-pg.mjs's workers do: C clients race for a random one of K keys, and a grant is
// released at once with its token. Then the bound for K keys: K clients with a key each (no
// denials, no races; a key's cycles follow one another, so contention can only add to this).
// Next to them, clients committing a one-row INSERT: what this machine allows in durable commits,
// whatever the statement (a cycle needs two: the grant and the release, one after the other).
//
//   node bench/claims-pgbench.mjs [--clients 8] [--keys 4] [--seconds 10] [--url URL] [--async]
//
// --async runs everything a second time with synchronous_commit=off, to show how much of the
// ceiling is waiting for the WAL to reach the disk. That is a measurement only: the store never
// commits a claim that way (a grant lost in a crash after it was answered could be granted twice).
// An attempt the statement left undecided (a racing writer) counts as an attempt, as the store's
// own next ask would. The URL defaults as in claims-pg.mjs; without PostgreSQL or pgbench it
// prints why and exits 0. Works in a fresh schema, dropped afterwards. Figures on a shared machine
// are noisy: compare runs made one after the other.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openPostgresStore } from '../dist/adapters/store/postgres/index.js';
import * as sql from '../dist/adapters/store/postgres/claims-sql.js';
import { benchPgUrl, unreachable } from './pg-server.mjs';

const { values: opts } = parseArgs({
  options: {
    clients: { type: 'string', default: '8' },
    keys: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '10' },
    url: { type: 'string' },
    async: { type: 'boolean', default: false },
  },
});
const url = benchPgUrl(opts.url);
const clients = Number(opts.clients);
const keys = Number(opts.keys);
const seconds = Number(opts.seconds);

const skip = await whyNot();
if (skip) {
  console.log(`claims ceiling (pgbench): skipped: ${skip}`);
  console.log(JSON.stringify({ skipped: skip }));
} else await main();

async function whyNot() {
  if (spawnSync('pgbench', ['--version']).error) return 'pgbench is not on PATH';
  return unreachable(url);
}

/**
 * The statements with pgbench variables for their parameters. pgbench reads `:name` anywhere, even
 * inside string literals, so the key is built with chr(58) instead of a literal colon.
 */
function cycleScript(ownKey) {
  const key = "('bench' || chr(58) || 'k' || :k::int)";
  const holder = "('w' || :client_id::int)";
  const bind = (text, params) => text.replace(/\$(\d+)/g, (_, n) => params[n]);
  const oneLine = (text) =>
    text
      .replace(/--[^\n]*\n/g, '\n')
      .replace(/\s+/g, ' ')
      .trim();
  // One row is enough for \gset (the rows after the first repeat the grant), and no grant reads as token 0.
  const acquire =
    bind(sql.ACQUIRE_ONE, { 1: key, 2: holder, 3: '30000', 4: '0' }).replace(
      'g.epoch AS token',
      'COALESCE(g.epoch, 0) AS token',
    ) + ' LIMIT 1';
  const release = bind(sql.FINISH_ONE, { 1: key, 2: holder, 3: ':token', 4: 'NULL', 5: "'released'" });
  if (!acquire.includes('COALESCE(g.epoch, 0)'))
    throw new Error('ACQUIRE_ONE no longer names its token column g.epoch AS token: update this bench');
  return [
    ownKey ? '\\set k :client_id' : `\\set k random(0, ${keys - 1})`,
    oneLine(acquire),
    '\\gset',
    '\\if :token > 0',
    oneLine(release),
    '\\gset',
    '\\endif',
    '',
  ].join('\n');
}

async function main() {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const schema = `lk_bench_pgbench_${process.pid}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lk-pgbench-'));
  const files = {
    cycle: path.join(dir, 'cycle.sql'),
    own: path.join(dir, 'own.sql'),
    commit: path.join(dir, 'commit.sql'),
  };
  writeFileSync(files.cycle, cycleScript(false));
  writeFileSync(files.own, cycleScript(true));
  writeFileSync(files.commit, 'INSERT INTO commits VALUES (1)\n');
  await admin.query(`CREATE SCHEMA ${schema}`);
  try {
    await (await openPostgresStore(url, { schema, max: 1 })).close();
    await admin.query(`CREATE TABLE ${schema}.commits (x int)`);
    const out = {};
    for (const durable of opts.async ? [true, false] : [true]) {
      const mode = durable ? 'durable' : 'async';
      const cycles = async (file, n) => {
        await admin.query(`TRUNCATE ${schema}.lock_events`);
        const claimsPerSec = Math.round(pgbench(file, schema, durable, n));
        const { rows } = await admin.query(
          `SELECT count(*)::int AS n FROM ${schema}.lock_events WHERE event = 'released'`,
        );
        return { cyclesPerSec: Math.round(rows[0].n / seconds), claimsPerSec };
      };
      out[mode] = {
        contended: await cycles(files.cycle, clients),
        keyPerClient: await cycles(files.own, keys),
        commitsPerSec: {
          [keys]: Math.round(pgbench(files.commit, schema, durable, keys)),
          [clients]: Math.round(pgbench(files.commit, schema, durable, clients)),
        },
      };
    }
    console.log(`claims ceiling (pgbench): ${seconds} s each`);
    for (const [mode, r] of Object.entries(out)) {
      console.log(`  ${mode}`);
      const line = (label, figures) => console.log(`    ${label.padEnd(34)}${figures}`);
      line(
        `${clients} clients racing for ${keys} keys`,
        `cycles/s ${r.contended.cyclesPerSec}  (claims/s ${r.contended.claimsPerSec})`,
      );
      line(`${keys} clients, a key each`, `cycles/s ${r.keyPerClient.cyclesPerSec}`);
      line(
        'one-row commits',
        Object.entries(r.commitsPerSec)
          .map(([n, v]) => `${v}/s (${n} clients)`)
          .join(', '),
      );
    }
    console.log(JSON.stringify({ clients, keys, seconds, ...out }));
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs one script with n clients; returns its transactions per second. */
function pgbench(file, schema, durable, n) {
  const args = [
    '-n',
    '-M',
    'prepared',
    '-c',
    String(n),
    '-j',
    String(Math.min(n, os.availableParallelism())),
    '-T',
    String(seconds),
    '-f',
    file,
    url,
  ];
  const options = `-c search_path=${schema}${durable ? '' : ' -c synchronous_commit=off'}`;
  const text = execFileSync('pgbench', args, {
    env: { ...process.env, PGOPTIONS: options },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tps = /^tps = ([\d.]+)/m.exec(text);
  if (!tps || /aborted/.test(text)) throw new Error(`pgbench did not finish:\n${text}`);
  return Number(tps[1]);
}
