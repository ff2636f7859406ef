// Which arms (backend:model) may run a session now, from facts the adapters gathered: the last
// quota report of each backend, the endings of its sessions, and each arm's start attempts.
// Hard constraints sit outside the learner: the selector draws only among the eligible arms
// (algorithms-and-claims §1.6). Pure: time comes in as `now` (epoch milliseconds).
//
// The rules (issue 5, item 2), exactly:
// - Quota. A window counts while its reset is unknown (null) or still ahead (resetsAt > now); a
//   window whose reset is at or before `now` has reset and no longer counts. A counted window at
//   utilization ≥ exhaustedAt (0.9) makes the backend ineligible until that reset (the latest
//   reset when several are exhausted; unknown if any of them has no reset time). `available: false`
//   makes it ineligible too; then `until` is the exhausted windows' reset if any, else the earliest
//   future reset of any window, else null (unknown: the caller re-probes when its cache expires).
//   A counted window at ≥ shortenAt (0.7) leaves it eligible with a shorter session timeout.
// - No usable report (the backend names no probe, or its probe failed or has not run yet): the
//   backend's latest ended session decides. If it failed, the backend is blocked until
//   failure + blockMs (the backend's `rest_after_failure`, 30 min by default; 0 turns the rule
//   off), provided the failure is within lookbackMs (6 h) — the lookback caps the block, so with
//   the defaults only the 30 min matter. A later session that did not fail clears it. So a broken
//   probe never blocks a fleet on its own, but it loses its shield too.
// - Crash loop. When the arm's last `failures` (3) start attempts all failed to start, the arm
//   cools down until the newest of them + cooldownMs (60 min). A successful start resets the
//   count; a fourth failed start right after a cooldown starts another one.
// Every block ends at its `until`: blocked iff now < until.
import { NO_PROBE_BLOCK_MS, NO_PROBE_LOOKBACK_MS, QUOTA_CACHE_TTL_MS } from '../config/quota-defaults.js';

export interface QuotaWindow {
  name: string;
  /** Fraction of the window used, 0..1. */
  utilization: number;
  /** When the window resets (epoch ms), or null when the probe did not say. */
  resetsAt: number | null;
}

/** A quota probe's report, as adapters/quota/probe.ts reads it. */
export interface QuotaReport {
  available: boolean;
  windows: QuotaWindow[];
}

export interface QuotaThresholds {
  /** Utilization at or above which a window is exhausted: not eligible until its reset. */
  exhaustedAt: number;
  /** Utilization at or above which sessions get the shorter timeout. */
  shortenAt: number;
}

export const DEFAULT_QUOTA_THRESHOLDS: Readonly<QuotaThresholds> = { exhaustedAt: 0.9, shortenAt: 0.7 };

export interface QuotaVerdict {
  eligible: boolean;
  /** When not eligible: when it may be again (epoch ms), or null when unknown. Null when eligible. */
  until: number | null;
  /** Eligible, but with the shorter session timeout. */
  shorten: boolean;
  reason: string;
}

export interface Block {
  blocked: boolean;
  /** When blocked: the moment the block ends (epoch ms). Null when not blocked. */
  until: number | null;
  reason: string;
}

const MINUTE = 60_000;

export { QUOTA_CACHE_TTL_MS } from '../config/quota-defaults.js';
/** How long a lane with no eligible arm waits before it tries again. */
export const NO_ARM_RETRY_MS = 10 * MINUTE;

/** A time as the journal and status show it. */
export function isoTime(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}

/** "93%", "89.5%": two decimals at most, so a figure just under a threshold does not read as on it. */
export function percent(u: number): string {
  return `${Number((u * 100).toFixed(2))}%`;
}

function windowNote(w: QuotaWindow): string {
  return `window ${JSON.stringify(w.name)} at ${percent(w.utilization)}`;
}

export function quotaVerdict(
  report: QuotaReport | null,
  now: number,
  opts: QuotaThresholds = DEFAULT_QUOTA_THRESHOLDS,
): QuotaVerdict {
  if (report === null) return { eligible: true, until: null, shorten: false, reason: 'no quota report' };
  const counted = report.windows.filter((w) => w.resetsAt === null || w.resetsAt > now);
  const exhausted = counted.filter((w) => w.utilization >= opts.exhaustedAt);

  if (!report.available || exhausted.length > 0) {
    let until: number | null;
    if (exhausted.length > 0) {
      until = exhausted.some((w) => w.resetsAt === null)
        ? null
        : Math.max(...exhausted.map((w) => w.resetsAt as number));
    } else {
      const resets = counted.flatMap((w) => (w.resetsAt === null ? [] : [w.resetsAt]));
      until = resets.length ? Math.min(...resets) : null;
    }
    const notes = exhausted.map(
      (w) => `${windowNote(w)} ${w.resetsAt === null ? '(reset time unknown)' : `until ${isoTime(w.resetsAt)}`}`,
    );
    if (!report.available)
      notes.unshift(
        `probe reports unavailable${exhausted.length === 0 ? (until === null ? ' (reset time unknown)' : `; retry at the next reset, ${isoTime(until)}`) : ''}`,
      );
    return { eligible: false, until, shorten: false, reason: `quota exhausted: ${notes.join('; ')}` };
  }

  const high = counted.filter((w) => w.utilization >= opts.shortenAt);
  if (high.length > 0) {
    return {
      eligible: true,
      until: null,
      shorten: true,
      reason: `quota low: ${high.map(windowNote).join('; ')} (≥ ${percent(opts.shortenAt)}): shorter session timeout`,
    };
  }
  const top = counted.reduce<QuotaWindow | null>((a, w) => (a === null || w.utilization > a.utilization ? w : a), null);
  return {
    eligible: true,
    until: null,
    shorten: false,
    reason: top ? `quota ok (highest: ${windowNote(top)})` : 'quota ok',
  };
}

/**
 * A cached probe result (a report or a failure) observed at `observedAt` is fresh while it is
 * younger than ttlMs: 0 ≤ now − observedAt < ttlMs. One observed "in the future" (the clock went
 * back) is stale, so the probe just runs again.
 */
export function isFresh(observedAt: number, now: number, ttlMs: number = QUOTA_CACHE_TTL_MS): boolean {
  const age = now - observedAt;
  return age >= 0 && age < ttlMs;
}

/** A session that ended on a backend: `at` is when it ended, `outcome` as in policy/outcome.ts. */
export interface SessionEnd {
  at: number;
  outcome: string;
}

export interface NoProbeOptions {
  lookbackMs: number;
  blockMs: number;
  /** Outcomes that count as a failed session. */
  failedOutcomes: readonly string[];
}

export const DEFAULT_NO_PROBE: Readonly<NoProbeOptions> = {
  lookbackMs: NO_PROBE_LOOKBACK_MS,
  blockMs: NO_PROBE_BLOCK_MS,
  failedOutcomes: ['failed'],
};

/**
 * The rule for a backend without a quota report. `sessions` are its ended sessions in any order
 * (any outcome; the latest by `at` decides, ties going to the later entry). Blocked iff that
 * session failed and now < at + min(blockMs, lookbackMs). blockMs 0: never blocked.
 */
export function noProbeBlock(sessions: readonly SessionEnd[], now: number, opts: Partial<NoProbeOptions> = {}): Block {
  const o = { ...DEFAULT_NO_PROBE, ...opts };
  let last: SessionEnd | null = null;
  for (const s of sessions) if (last === null || s.at >= last.at) last = s;
  if (last === null) return { blocked: false, until: null, reason: 'no sessions on record' };
  if (!o.failedOutcomes.includes(last.outcome))
    return { blocked: false, until: null, reason: `last session ${last.outcome} at ${isoTime(last.at)}` };
  if (o.blockMs <= 0)
    return {
      blocked: false,
      until: null,
      reason: `last session failed at ${isoTime(last.at)}; no rest after a failure`,
    };
  const until = last.at + Math.min(o.blockMs, o.lookbackMs);
  if (now >= until)
    return {
      blocked: false,
      until: null,
      reason: `last session failed at ${isoTime(last.at)}; its block ended at ${isoTime(until)}`,
    };
  return {
    blocked: true,
    until,
    reason: `no quota report; last session failed at ${isoTime(last.at)}, blocked until ${isoTime(until)}`,
  };
}

export interface StartAttempt {
  at: number;
  /** The agent could not start (spawn error, authentication broke before any work). */
  failedToStart: boolean;
}

export interface CrashLoopOptions {
  failures: number;
  cooldownMs: number;
}

export const DEFAULT_CRASH_LOOP: Readonly<CrashLoopOptions> = { failures: 3, cooldownMs: 60 * MINUTE };

/** `starts` are one arm's start attempts, oldest first. */
export function crashLoop(starts: readonly StartAttempt[], now: number, opts: Partial<CrashLoopOptions> = {}): Block {
  const o = { ...DEFAULT_CRASH_LOOP, ...opts };
  let streak = 0;
  for (let i = starts.length - 1; i >= 0 && starts[i]!.failedToStart; i--) streak++;
  const newest = starts[starts.length - 1];
  if (streak === 0 || newest === undefined) return { blocked: false, until: null, reason: 'no failed starts in a row' };
  if (streak < o.failures)
    return {
      blocked: false,
      until: null,
      reason: `${streak} failed start${streak === 1 ? '' : 's'} in a row (cooldown at ${o.failures})`,
    };
  const until = newest.at + o.cooldownMs;
  if (now >= until)
    return {
      blocked: false,
      until: null,
      reason: `${streak} failed starts in a row; the cooldown ended at ${isoTime(until)}`,
    };
  return {
    blocked: true,
    until,
    reason: `crash loop: ${streak} failed starts in a row, cooling down until ${isoTime(until)}`,
  };
}

export interface ArmRef {
  /** "backend:model" */
  id: string;
  backend: string;
}

export interface BackendFacts {
  /** The last usable quota report; null when the backend has no probe, or its probe failed or has not run yet. */
  report: QuotaReport | null;
  /** Its ended sessions, for the rule without a report. */
  sessions: readonly SessionEnd[];
  /** Its own rest after a failed session (config `rest_after_failure`), instead of noProbe.blockMs. */
  restAfterFailureMs?: number;
}

export interface AvailabilityFacts {
  /** By backend name; a backend not listed has no report and no sessions. */
  backends: Readonly<Record<string, BackendFacts>>;
  /** Start attempts by arm id, oldest first; an arm not listed has none. */
  starts: Readonly<Record<string, readonly StartAttempt[]>>;
}

export interface AvailabilityOptions {
  quota: QuotaThresholds;
  noProbe: NoProbeOptions;
  crashLoop: CrashLoopOptions;
}

export const DEFAULT_AVAILABILITY: Readonly<AvailabilityOptions> = {
  quota: DEFAULT_QUOTA_THRESHOLDS,
  noProbe: DEFAULT_NO_PROBE,
  crashLoop: DEFAULT_CRASH_LOOP,
};

export interface ArmBlocks {
  /** Arm ids that may run, in input order. */
  eligible: string[];
  /** Eligible arms whose sessions get the shorter timeout, in input order. */
  shortened: string[];
  /** Blocked arm id → every reason, joined by "; ". */
  blocked: Record<string, string>;
  /** Blocked arm id → when all its blocks end, or null when one of them has no known end. */
  blockedUntil: Record<string, number | null>;
  /** The earliest known end among the blocked arms (the lane's retry deadline); null when none is known. */
  until: number | null;
  /** Why each eligible arm's quota is what it is (for the journal and status). */
  quota: Record<string, string>;
}

export function armBlocks(
  arms: readonly ArmRef[],
  facts: AvailabilityFacts,
  now: number,
  opts: AvailabilityOptions = DEFAULT_AVAILABILITY,
): ArmBlocks {
  const out: ArmBlocks = { eligible: [], shortened: [], blocked: {}, blockedUntil: {}, until: null, quota: {} };
  for (const arm of arms) {
    const backend = facts.backends[arm.backend] ?? { report: null, sessions: [] };
    const reasons: string[] = [];
    const untils: (number | null)[] = [];
    let shorten = false;
    if (backend.report !== null) {
      const v = quotaVerdict(backend.report, now, opts.quota);
      if (!v.eligible) {
        reasons.push(v.reason);
        untils.push(v.until);
      } else {
        shorten = v.shorten;
        out.quota[arm.id] = v.reason;
      }
    } else {
      const noProbe =
        backend.restAfterFailureMs === undefined
          ? opts.noProbe
          : { ...opts.noProbe, blockMs: backend.restAfterFailureMs };
      const b = noProbeBlock(backend.sessions, now, noProbe);
      if (b.blocked) {
        reasons.push(b.reason);
        untils.push(b.until);
      } else out.quota[arm.id] = 'no quota report';
    }
    const c = crashLoop(facts.starts[arm.id] ?? [], now, opts.crashLoop);
    if (c.blocked) {
      reasons.push(c.reason);
      untils.push(c.until);
    }
    if (reasons.length === 0) {
      out.eligible.push(arm.id);
      if (shorten) out.shortened.push(arm.id);
      continue;
    }
    delete out.quota[arm.id];
    out.blocked[arm.id] = reasons.join('; ');
    // Eligible again when every block has ended: the latest end, unknown if any end is.
    const until = untils.some((u) => u === null) ? null : Math.max(...(untils as number[]));
    out.blockedUntil[arm.id] = until;
    if (until !== null && (out.until === null || until < out.until)) out.until = until;
  }
  return out;
}

/**
 * When a lane that found no eligible arm tries again: after retryMs (10 min), or sooner when a
 * block is known to end sooner (`until` from armBlocks).
 */
export function retryAt(until: number | null, now: number, retryMs: number = NO_ARM_RETRY_MS): number {
  const fallback = now + retryMs;
  return until !== null && until > now && until < fallback ? until : fallback;
}
