// Where a replay's time goes. Builds a journal of N events (default 200,000) like bench/replay.mjs,
// replays it from the start in one piece, once as it is and once under V8's sampling profiler, and
// sums the profile's samples by who spent them: XState's interpreter, the garbage collector,
// reading the journal from the store, replay's comparing, and lanekeeper's machines and policies.
// What XState and the collector take is the part no change to lanekeeper's own code can remove
// (most of the garbage is XState's snapshots), so it bounds what one piece can reach on this
// machine: the last line says how far, from the speed without the profiler.
//
//   node bench/replay-profile.mjs [--events 200000] [--state DIR (a journal written before)]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { benchJournal } from './replay-journal.mjs';

const { dir, done } = await benchJournal(200_000);
const profiles = mkdtempSync(path.join(os.tmpdir(), 'lk-bench-cpuprof-'));

/** Replays the journal from the start in one piece, with `flags` for node; the result and the seconds it took. */
function replay(flags) {
  const t0 = performance.now();
  const child = spawnSync(
    process.execPath,
    [...flags, path.resolve('dist/cli/main.js'), 'replay', '--from-start', '--json', '--jobs', '1', '--state', dir],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  return { result: JSON.parse(child.stdout), wall: (performance.now() - t0) / 1000 };
}
const plain = replay([]);
replay(['--cpu-prof', '--cpu-prof-dir', profiles, '--cpu-prof-interval', '500']);
const profile = JSON.parse(readFileSync(path.join(profiles, readdirSync(profiles)[0]), 'utf8'));
rmSync(profiles, { recursive: true, force: true });
done();

/** Who spent a sample's own time, from the function it was in. */
function owner({ url, functionName }) {
  if (functionName === '(garbage collector)') return 'garbage collector';
  if (url.includes('/node_modules/xstate/')) return 'XState';
  if (
    url.includes('/node_modules/better-sqlite3/') ||
    url.includes('/dist/adapters/store/') ||
    url.includes('/dist/streams/journal-source')
  )
    return 'reading the journal';
  if (url.includes('/dist/streams/replay')) return "replay's comparing";
  if (url.includes('/dist/machines/') || url.includes('/dist/policy/') || url.includes('/dist/runtime/'))
    return "lanekeeper's machines and policies";
  return 'start-up and the rest';
}
const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
const time = new Map();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  const who = owner(byNode.get(id).callFrame);
  time.set(who, (time.get(who) ?? 0) + dt);
  total += dt;
});
const share = Object.fromEntries(
  [...time].sort((a, b) => b[1] - a[1]).map(([who, t]) => [who, Number((t / total).toFixed(3))]),
);
const { result, wall } = plain;
const rate = result.events / wall;
// If everything but XState and the collector cost nothing (and the collector's work stayed).
const floor = (share.XState ?? 0) + (share['garbage collector'] ?? 0);
for (const [who, s] of Object.entries(share)) console.log(`${(s * 100).toFixed(1).padStart(5)}%  ${who}`);
console.log(
  `${result.events} events in ${wall.toFixed(1)} s = ${Math.round(rate)}/s; XState and the collector alone would allow about ${Math.round(rate / floor)}/s in one piece`,
);
console.log(
  JSON.stringify({
    events: result.events,
    divergences: result.divergences,
    seconds: Number(wall.toFixed(2)),
    events_per_s: Math.round(rate),
    share,
    ceiling_events_per_s: Math.round(rate / floor),
  }),
);
