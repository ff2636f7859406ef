// The wall time agents feel: `lanekeeper claim` as a whole process, beside a bare `node -e 0`,
// interleaved so both see the same machine load. Prints medians and their ratio (target < 1.5×).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const CLI = path.resolve(import.meta.dirname, '../dist/cli/main.js');
const runs = Number(process.argv[2] ?? 30);
const state = mkdtempSync(path.join(os.tmpdir(), 'lk-bench-cli-'));
// A store made by the runtime's own code, as an agent would find it.
execFileSync(process.execPath, [
  '--input-type=module',
  '-e',
  `import { openSqliteStore } from ${JSON.stringify(path.resolve(import.meta.dirname, '../dist/adapters/store/sqlite/index.js'))}; await openSqliteStore(${JSON.stringify(state)}).close();`,
]);

const time = (args) => {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LANEKEEPER_STATE: state },
  });
  const ms = performance.now() - t;
  if (r.status !== 0 && args[0] !== '-e') throw new Error(`claim failed: ${r.stderr}`);
  return ms;
};
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const bare = [];
const claim = [];
for (let i = 0; i < runs; i++) {
  bare.push(time(['-e', '0']));
  claim.push(time([CLI, 'claim', `task:bench-${i}`, '--holder', 'bench']));
}
rmSync(state, { recursive: true, force: true });
const result = {
  runs,
  node_e0_median_ms: median(bare),
  claim_median_ms: median(claim),
  ratio: median(claim) / median(bare),
};
console.log(
  `lanekeeper claim, whole process: median ${result.claim_median_ms.toFixed(1)} ms; node -e 0: ${result.node_e0_median_ms.toFixed(1)} ms; ratio ${result.ratio.toFixed(2)}× (target < 1.5×)`,
);
console.log(JSON.stringify(result));
