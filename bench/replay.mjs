// Replay speed and memory. Builds a journal of N events (default 1,000,000) the way the service
// would record it — six lanes driven through the real machines by a simulated shell (ticks,
// claims, session starts, exits and grades, wake-ups), each event with its intents, changed lane
// states and a checkpoint every 1000 events — in a real SQLite file; then replays it from the
// start in a child process (`lanekeeper replay --from-start --json`), in one piece and in one
// piece per core (--jobs), and reports events per second and the child's peak memory (max RSS,
// all threads). Targets: ≥ 100,000 events/s; < 300 MB at 1M.
//
//   node bench/replay.mjs [--events 1000000] [--jobs 1,2] [--state DIR (replay a journal written before; KEEP=1 keeps it)]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeSyntheticJournal } from '../scripts/synthetic-journal.mjs';

const arg = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const target = Number(arg('events') ?? 1_000_000);
const cores = os.availableParallelism();
// One piece, then as many pieces as the CLI's default (one per core, at most 8).
const jobsList = arg('jobs') ? arg('jobs').split(',').map(Number) : [...new Set([1, Math.min(cores, 8)])];
const dir = arg('state') ?? mkdtempSync(path.join(os.tmpdir(), 'lk-bench-replay-'));
const t0 = performance.now();
if (!arg('state')) await writeSyntheticJournal(dir, target);
const buildS = (performance.now() - t0) / 1000;

/** Replays the journal in its own process, so its peak memory (max RSS, all threads) is its own. */
function replay(jobs) {
  const t1 = performance.now();
  const argv = ['node', 'lanekeeper', 'replay', '--from-start', '--json', '--jobs', String(jobs), '--state', dir];
  const child = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `const { main } = await import(${JSON.stringify(path.resolve('dist/cli/program.js'))}); process.exitCode = await main(${JSON.stringify(argv)}); process.stderr.write(JSON.stringify({ maxRSS: process.resourceUsage().maxRSS }) + '\\n');`],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  const wall = (performance.now() - t1) / 1000;
  const result = JSON.parse(child.stdout.trim().split('\n').pop());
  const peakMb = Math.round(JSON.parse(child.stderr.trim().split('\n').pop()).maxRSS / 1024);
  return { jobs, events: result.events, divergences: result.divergences, notes: result.notes.length, replay_s: Number(wall.toFixed(2)), events_per_s: Math.round(result.events / wall), peak_mb: peakMb };
}

const runs = jobsList.map(replay);
if (!process.env.KEEP && !arg('state')) rmSync(dir, { recursive: true, force: true });
else console.log(dir);
for (const r of runs) console.log(`jobs ${r.jobs}: ${r.events} events in ${r.replay_s} s = ${r.events_per_s}/s, peak ${r.peak_mb} MB, ${r.divergences} divergences`);
console.log(JSON.stringify({ events: target, cores, built_s: Number(buildS.toFixed(1)), runs }));
