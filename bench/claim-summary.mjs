// What the claims benchmarks (SQLite: claims-contention.mjs, PostgreSQL: claims-pg.mjs) report
// alike: the workers' results pooled into throughput and claim latency, and the lines that print it.

export function round(x) {
  return Math.round(x * 1000) / 1000;
}

/** The common figures of a run: cycles per second, denials, refused releases, claim latency. */
export function claimFigures(results, { procs, keys, seconds }) {
  const latencies = new Float64Array(results.reduce((n, r) => n + r.latencies.length, 0));
  let at = 0;
  for (const r of results) for (const l of r.latencies) latencies[at++] = l;
  latencies.sort();
  const q = (p) =>
    latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : NaN;
  const sum = (f) => results.reduce((n, r) => n + r[f], 0);
  const cycles = sum('cycles');
  return {
    procs,
    keys,
    seconds,
    workersReported: results.length,
    cycles,
    cyclesPerSec: Math.round(cycles / seconds),
    claims: latencies.length,
    denied: sum('denied'),
    refusedReleases: sum('refused'),
    claimP50Ms: round(q(0.5)),
    claimP99Ms: round(q(0.99)),
    claimMaxMs: round(latencies.length ? latencies[latencies.length - 1] : NaN),
  };
}

/** The first lines of the report: the setup, throughput, latency. */
export function printFigures(title, s) {
  console.log(`${title}: ${s.procs} processes, ${s.keys} keys, ${s.seconds} s`);
  console.log(`  cycles/s            ${s.cyclesPerSec}  (${s.cycles} acquire+release cycles, ${s.denied} denials)`);
  console.log(`  claim latency (ms)  p50 ${s.claimP50Ms}  p99 ${s.claimP99Ms}  max ${s.claimMaxMs}`);
}
