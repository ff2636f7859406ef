// Durations in configuration and on the command line are strings such as "180s", "65m" or "2h".
// Every one of them, a key in lanekeeper.yaml or a flag, passes checkDuration: one parse, one set
// of bounds, one wording. A flag that overrides a key takes that key's bounds (DURATION_FLAGS), so
// `--tick 0s` is refused exactly as `schedule: { interval: 0s }` is. This file imports nothing:
// the claim commands, which agents run often, load it without the configuration's schema.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Timers cannot wait longer than this (about 24.8 days); a longer one would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Inclusive bounds of a duration, in ms. */
export interface DurationBounds {
  readonly minMs: number;
  readonly maxMs: number;
}

/**
 * The bounds of the keys a flag overrides, written once: the schema checks the key with them and
 * the command line checks the flag with them.
 */
export const KEY_BOUNDS = {
  /** A tick interval of zero would tick as fast as the machine can journal. */
  'schedule.interval': { minMs: 1000, maxMs: MAX_TIMER_MS },
  /** Leases are renewed about every second (adapters/process/session-setup.ts): a shorter one would lapse between renewals. */
  'claims.lane_ttl': { minMs: 3000, maxMs: MAX_TIMER_MS },
  /**
   * How long the journal is kept (retention). Not a timer: a cut-off back from now, so it may be
   * longer than one; under an hour would prune what a restart or a replay is still likely to ask for.
   */
  'journal.keep': { minMs: 3_600_000, maxMs: 3650 * UNIT_MS.d! },
} as const satisfies Record<string, DurationBounds>;

/**
 * Every duration flag: the key it overrides (named in its problems), or bounds of its own when it
 * overrides none.
 */
export const DURATION_FLAGS = {
  '--tick': { key: 'schedule.interval', ...KEY_BOUNDS['schedule.interval'] },
  /** An agent's claim (claim, renew) is renewed on the lane slots' clock, so it has their bounds. */
  '--ttl': { key: null, ...KEY_BOUNDS['claims.lane_ttl'] },
  /** A run's length: a timer. */
  '--for': { key: null, minMs: 1000, maxMs: MAX_TIMER_MS },
  /** Time between redraws of status --watch: a timer. */
  '--interval': { key: null, minMs: 100, maxMs: MAX_TIMER_MS },
  /** A window back from now (stats, journal export): at least a second, at most ten years. */
  '--since': { key: null, minMs: 1000, maxMs: 3650 * UNIT_MS.d! },
  /** How much of the journal `journal prune` keeps. */
  '--keep': { key: 'journal.keep', ...KEY_BOUNDS['journal.keep'] },
} as const satisfies Record<string, DurationBounds & { key: keyof typeof KEY_BOUNDS | null }>;

export type DurationFlag = keyof typeof DURATION_FLAGS;

/** Milliseconds for a duration string, or null when the text is not one. */
export function parseDuration(text: unknown): number | null {
  if (typeof text !== 'string') return null;
  const m = DURATION.exec(text.trim());
  if (!m) return null;
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
}

/** The wording every unparsable duration gets, so config and CLI read the same. */
export function durationProblem(got: unknown): string {
  return `expected a duration like "180s", got ${JSON.stringify(got)}`;
}

/** The milliseconds of a duration within its bounds, or the one-line problem with it. */
export function checkDuration(value: unknown, bounds: DurationBounds): { ms: number } | { problem: string } {
  const ms = parseDuration(value);
  if (ms === null) return { problem: durationProblem(value) };
  if (ms < bounds.minMs)
    return { problem: `expected at least ${boundText(bounds.minMs)}, got ${JSON.stringify(value)}` };
  if (ms > bounds.maxMs)
    return { problem: `expected at most ${boundText(bounds.maxMs)}, got ${JSON.stringify(value)}` };
  return { ms };
}

/**
 * A flag's duration, or its problem as a user reads it: `--tick (schedule.interval): expected at
 * least 1s, got "0s"` — the key named, so it is plain that both share one rule.
 */
export function checkDurationFlag(flag: DurationFlag, value: string): { ms: number } | { problem: string } {
  const rule = DURATION_FLAGS[flag];
  const r = checkDuration(value, rule);
  return 'problem' in r ? { problem: `${flag}${rule.key ? ` (${rule.key})` : ''}: ${r.problem}` } : r;
}

/** A bound as the messages say it: "24 days" for the timer limit, "10d" for whole days, else formatDuration. */
function boundText(ms: number): string {
  if (ms === MAX_TIMER_MS) return '24 days';
  if (ms >= UNIT_MS.d! && ms % UNIT_MS.d! === 0) return `${ms / UNIT_MS.d!}d`;
  return formatDuration(ms);
}

/** A short human form: 950ms, 12.5s, 3m 5s, 2h 10m. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  // Rounded as a whole first, so 59m 59.6s reads 1h, never "59m 60s" (nor 1h 59m 40s "1h 60m").
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) {
    const m = Math.floor(seconds / 60);
    const s = seconds % 60;
    return s ? `${m}m ${s}s` : `${m}m`;
  }
  const minutes = Math.round(ms / 60_000);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m ? `${h}h ${m}m` : `${h}h`;
}
