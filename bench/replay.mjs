// Replay speed and memory. Builds a journal of N events (default 1,000,000) the way the service
// would record it — six lanes driven through the real machines by a simulated shell (ticks,
// claims, session starts, exits and grades, wake-ups), each event with its intents, changed lane
// states and a checkpoint every 1000 events — in a real SQLite file; then replays it from the
// start in a child process (`lanekeeper replay --from-start --json`), in one piece and in one
// piece per core (--jobs), and reports events per second and the child's peak memory (max RSS,
// all threads). Targets: ≥ 100,000 events/s; < 300 MB at 1M. Then the replay a user runs by
// default, to the event before the last from the nearest checkpoint, as a whole process.
//
//   node bench/replay.mjs [--events 1000000] [--jobs 1,2] [--state DIR (replay a journal written before; KEEP=1 keeps it)]
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { arg, benchJournal } from './replay-journal.mjs';

const cores = os.availableParallelism();
// One piece, then as many pieces as the CLI's default (one per core, at most 8).
const jobsList = arg('jobs') ? arg('jobs').split(',').map(Number) : [...new Set([1, Math.min(cores, 8)])];
const { dir, events: target, builtS, done } = await benchJournal(1_000_000);

/** Runs `lanekeeper replay ARGS --json --state DIR` in its own process, so its peak memory (max RSS, all threads) is its own. */
function lanekeeperReplay(args) {
  const t1 = performance.now();
  const argv = ['node', 'lanekeeper', 'replay', ...args, '--json', '--state', dir];
  const child = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { main } = await import(${JSON.stringify(path.resolve('dist/cli/program.js'))}); process.exitCode = await main(${JSON.stringify(argv)}); process.stderr.write(JSON.stringify({ maxRSS: process.resourceUsage().maxRSS }) + '\\n');`,
    ],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  const wall = (performance.now() - t1) / 1000;
  const result = JSON.parse(child.stdout.trim().split('\n').pop());
  const peakMb = Math.round(JSON.parse(child.stderr.trim().split('\n').pop()).maxRSS / 1024);
  return { result, wall, peakMb };
}

/** The whole journal from its first event, in `jobs` pieces. */
function replay(jobs) {
  const { result, wall, peakMb } = lanekeeperReplay(['--from-start', '--jobs', String(jobs)]);
  return {
    jobs,
    events: result.events,
    divergences: result.divergences,
    notes: result.notes.length,
    replay_s: Number(wall.toFixed(2)),
    events_per_s: Math.round(result.events / wall),
    peak_mb: peakMb,
    end: result.end,
  };
}

const runs = jobsList.map(replay);
// What a user debugging runs by default: the state at an event (here the one before the last),
// from the nearest checkpoint before it. Its time is mostly finding where to begin, the
// process's start and the machines' code running cold, not the events folded.
const last = runs[0].end;
const nearest = lanekeeperReplay(['--until', String(last - 1)]);
const fromCheckpoint = {
  until: last - 1,
  events: nearest.result.events,
  divergences: nearest.result.divergences,
  begin: nearest.result.begin,
  replay_s: Number(nearest.wall.toFixed(2)),
};
done();
for (const r of runs)
  console.log(
    `jobs ${r.jobs}: ${r.events} events in ${r.replay_s} s = ${r.events_per_s}/s, peak ${r.peak_mb} MB, ${r.divergences} divergences`,
  );
console.log(
  `--until ${fromCheckpoint.until}: ${fromCheckpoint.events} events from the checkpoint at seq ${fromCheckpoint.begin.seq - 1} in ${fromCheckpoint.replay_s} s (whole process), ${fromCheckpoint.divergences} divergences`,
);
console.log(
  JSON.stringify({
    events: target,
    cores,
    built_s: Number(builtS.toFixed(1)),
    runs: runs.map(({ end: _end, ...r }) => r),
    from_checkpoint: fromCheckpoint,
  }),
);
