// lanekeeper stats [--since 24h] [--state DIR] [--json]
import { existsSync } from 'node:fs';
import { DEFAULT_CONFIG_FILE } from '../config/config-file.js';
import type { LaneSupply } from '../policy/task-tiers.js';
import { formatDuration } from '../config/duration.js';
import { fleetStats } from '../format/fleet-stats.js';
import { lockStats } from '../format/lock-stats.js';
import { iso, out } from './io.js';
import { HISTORY, livenessJson, readLiveness } from './liveness.js';
import { readRunState } from '../adapters/instance/run-state.js';
import { openReaderStore } from './reader-store.js';

/** Holds older than this before the window are not looked for (agent claims last an hour by default). */
const LOOKBACK_MS = 6 * 3_600_000;

export async function statsCommand(opts: {
  state?: string;
  config?: string;
  since: number;
  json?: boolean;
}): Promise<void> {
  const { store, dir, host } = await openReaderStore(opts, process.env);
  try {
    const now = Date.now();
    const since = now - opts.since;
    const records = await store.claims.lockRecords({ since: since - LOOKBACK_MS });
    const locks = lockStats(records, since);
    const sessions = await store.sessions.list({ since });
    // Read once for both: the recent grades, and the newest HISTORY that liveness judges.
    const newest = await store.sessions.list({ limit: Math.max(200, HISTORY) });
    const recent = newest
      .slice(0, 200)
      .map((s) => s.grade)
      .filter((g): g is number => g !== null);
    const decisions = await store.decisions.list({ since, limit: -1 });
    const lanes = await store.lanes.list();
    const fleet = fleetStats({ sessions, decisions, lanes, recentGrades: recent });
    const orphans = (await store.claims.orphans({ since })).length;
    const supply = await readSupply(opts);
    const live = await readLiveness(store, now, {
      lanes,
      sessions: newest,
      run: await readRunState(store, dir, lanes, host),
    });
    const report = {
      since: iso(since),
      peak_concurrency: locks.peak_concurrency,
      total_acquisitions: locks.total_acquisitions,
      same_lock_violations: locks.same_lock_violations,
      ...fleet,
      orphaned_results: orphans,
      ...(supply ? { supply } : {}),
      ...(locks.violations.length ? { violations: locks.violations } : {}),
      liveness: livenessJson(live),
    };
    if (opts.json) {
      out(JSON.stringify(report));
      return;
    }
    out(
      statsText({ report, fleet, locks, live, supply, sessions: sessions.length, window: opts.since, now }).join('\n'),
    );
  } finally {
    await store.close();
  }
}

/** `stats` as text: the window, liveness, totals, outcomes, a line per lane, supply, violations. */
function statsText(r: {
  report: { since: string | null; orphaned_results: number };
  fleet: ReturnType<typeof fleetStats>;
  locks: ReturnType<typeof lockStats>;
  live: Awaited<ReturnType<typeof readLiveness>>;
  supply: Record<string, LaneSupply> | null;
  sessions: number;
  window: number;
  now: number;
}): string[] {
  const { report, fleet, locks, live, supply, sessions, window, now } = r;
  const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);
  const lines = [
    `since ${report.since} (${formatDuration(window)})`,
    ...(live.stalled
      ? live.reasons.map((r) => `STALLED: ${r}`)
      : [`liveness: ok; last session started ${ago(live.lastStart, now)}, last non-failed ${ago(live.lastOk, now)}`]),
    `sessions ${sessions}; peak concurrency ${locks.peak_concurrency}; lock acquisitions ${locks.total_acquisitions}; same-lock violations ${locks.same_lock_violations}`,
    `ticks ${fleet.ticks.count}: spawned ${fleet.ticks.spawned}, lane slots skipped ${fleet.ticks.skipped}, ticks skipped by the resource gate ${fleet.ticks.gated}`,
    `outcomes: ${
      Object.entries(fleet.outcomes)
        .filter(([, n]) => n)
        .map(([o, n]) => `${o} ${n}`)
        .join(', ') || 'none'
    }; noop rate ${pct(fleet.noop_rate)}`,
    `grade mean, last 20: ${fleet.grade_mean_last20 === null ? '–' : fleet.grade_mean_last20.toFixed(2)}; orphaned results ${report.orphaned_results}`,
    '',
    ...fleet.lanes.map(
      (l) =>
        `${l.lane.padEnd(16)} ${String(l.sessions).padStart(4)} sessions  share ${pct(l.share).padStart(6)}  target ${pct(l.target).padStart(6)}  ${l.over_allocation === null ? '' : `×${l.over_allocation.toFixed(2)} of target`}`,
    ),
  ];
  if (supply)
    lines.push(
      '',
      'task supply (active / ready / waiting / backlog):',
      ...Object.entries(supply).map(
        ([lane, s]) => `  ${lane.padEnd(16)} ${s.active} / ${s.ready} / ${s.waiting} / ${s.backlog}`,
      ),
    );
  if (locks.violations.length)
    lines.push(
      '',
      'VIOLATIONS:',
      ...locks.violations.map((v) => `  ${v.key}: ${v.holder} got token ${v.epoch} while ${v.open.join(', ')} held it`),
    );
  return lines;
}

/** "12m ago", "under a minute ago", or "never" (within the sessions read). */
function ago(at: number | null, now: number): string {
  if (at === null) return 'never';
  const minutes = Math.floor((now - at) / 60_000);
  return minutes < 1 ? 'under a minute ago' : `${formatDuration(minutes * 60_000)} ago`;
}

/**
 * Tasks per lane and state, when the configuration (given, or ./lanekeeper.yaml) has a task
 * directory. The configuration's and the task files' readers (zod, yaml) are loaded only then:
 * they are most of what `stats` would load otherwise.
 */
async function readSupply(opts: { config?: string }): Promise<Record<string, LaneSupply> | null> {
  if (!opts.config && !existsSync(DEFAULT_CONFIG_FILE)) return null;
  const { loadConfig } = await import('../config/load.js');
  const config = loadConfig({ file: opts.config, env: process.env });
  if (!config.tasks) return null;
  const { readTasks } = await import('../adapters/tasks/read.js');
  const { supply } = await import('../policy/task-tiers.js');
  const lanes = config.lanes.map((l) => l.name);
  return supply((await readTasks(config.tasks.dir, lanes)).tasks, lanes);
}
