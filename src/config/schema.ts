// The shape of lanekeeper.yaml, checked with zod. Every key is known: an unknown key is an error,
// so a typo never silently falls back to a default. A section left out is parsed as `{}`
// (`prefault`), so each default is written once, on its own key. Durations are parsed to
// milliseconds here; defaults that depend on other keys are filled in by resolve.ts.
import { z } from 'zod';
import { NO_PROBE_BLOCK_MS, NO_PROBE_LOOKBACK_MS, QUOTA_CACHE_TTL_MS } from './quota-defaults.js';
import { PLACEHOLDERS } from './template.js';
import { checkDuration, KEY_BOUNDS, MAX_TIMER_MS } from './duration.js';

/**
 * A duration string ("180s", "65m", "2h") parsed to ms; `fallback` when the key is absent.
 * `minMs` keeps intervals and leases that must not be zero from being zero; `maxMs` caps one
 * that only makes sense within a window. A key a flag overrides takes its bounds from KEY_BOUNDS,
 * which the flag is checked against too.
 */
function duration(fallback: number, minMs = 0, maxMs = MAX_TIMER_MS) {
  return z
    .unknown()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return fallback;
      const r = checkDuration(value, { minMs, maxMs });
      if ('problem' in r) {
        ctx.addIssue({ code: 'custom', message: r.problem, input: value });
        return z.NEVER;
      }
      return r.ms;
    });
}

/** A duration with no default: null when the key is absent (the feature is off). */
function optionalDuration(bounds: { minMs: number; maxMs: number }) {
  return z
    .unknown()
    .optional()
    .transform((value, ctx): number | null => {
      if (value === undefined) return null;
      const r = checkDuration(value, bounds);
      if ('problem' in r) {
        ctx.addIssue({ code: 'custom', message: r.problem, input: value });
        return z.NEVER;
      }
      return r.ms;
    });
}

/** A key whose bounds a command-line flag shares (KEY_BOUNDS). */
const boundedDuration = (fallback: number, key: keyof typeof KEY_BOUNDS) =>
  duration(fallback, KEY_BOUNDS[key].minMs, KEY_BOUNDS[key].maxMs);

const NAME = /^[a-z0-9][a-z0-9_-]*$/;
const name = (what: string) =>
  z
    .string()
    .regex(NAME, { message: `${what} must be lowercase letters, digits, "-" or "_", starting with a letter or digit` });

const PLACEHOLDER = /\{([a-z_]+)\}/g;

/** Text that may hold {placeholders}: only the known ones are allowed. */
const templated = z.string().superRefine((text, ctx) => {
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (!(PLACEHOLDERS as readonly string[]).includes(m[1]!)) {
      ctx.addIssue({
        code: 'custom',
        message: `unknown placeholder {${m[1]}} (known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`,
      });
    }
  }
});

/** Text with only the placeholders known before any session exists: {node}, {state}. */
const runtimeTemplated = z.string().superRefine((text, ctx) => {
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m[1] !== 'node' && m[1] !== 'state')
      ctx.addIssue({ code: 'custom', message: `placeholder {${m[1]}} is not known here (known: {node}, {state})` });
  }
});

const share = z.number().min(0).max(1);

export const laneSchema = z.strictObject({
  name: name('a lane name'),
  enabled: z.boolean().optional().default(true),
  concurrency: z.number().int().min(1).max(64).optional().default(1),
  cooldown: duration(180_000),
  respawn: z
    .strictObject({
      threshold: share.optional().default(0.65),
      chain_limit: z.number().int().min(0).max(100).optional().default(1),
    })
    .prefault({}),
  timeout: duration(65 * 60_000, 1000),
  target_share: share.optional(),
  parallel: z.boolean().optional().default(true),
  arms: z.array(z.string()).min(1).optional(),
  min_tier: z.number().int().min(0).max(9).optional(),
  max_tier: z.number().int().min(0).max(9).optional(),
  prefer: z.enum(['top-tier', 'cheapest']).optional(),
  prompt: templated.optional(),
  cwd: templated.optional(),
  lock_file: templated.optional(),
});

const modelSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
    message: 'a model name must be letters, digits, ".", "-" or "_", starting with a letter or digit',
  }),
  tier: z.number().int().min(0).max(9).optional(),
  cost: z.number().min(0).optional(),
  /** A model version bump: the older model of the same backend whose evidence this one starts from. */
  replaces: z.string().min(1).optional(),
});

export const backendSchema = z.strictObject({
  name: name('a backend name'),
  command: z.array(templated).min(1),
  env: z.record(z.string(), templated).optional().default({}),
  cwd: templated.optional(),
  tier: z.number().int().min(0).max(9).optional().default(1),
  cost: z.number().min(0).optional().default(0),
  models: z.array(modelSchema).min(1),
  quota: z
    .strictObject({
      command: z.array(runtimeTemplated).min(1),
      every: duration(QUOTA_CACHE_TTL_MS, 10_000),
      timeout: duration(30_000, 100),
      short_timeout: duration(20 * 60_000, 1000),
    })
    .optional(),
  /**
   * Without a usable quota report, how long a failed session blocks the backend; 0s: never. At most
   * the 6 h lookback of that rule (policy/availability.ts): an older failure no longer counts.
   */
  rest_after_failure: duration(NO_PROBE_BLOCK_MS, 0, NO_PROBE_LOOKBACK_MS),
});

export const configSchema = z.strictObject({
  demo: z.boolean().optional().default(false),
  state_dir: z.string().min(1).optional(),
  /** A PostgreSQL URL to keep the store in instead of the state directory's SQLite file (resolve.ts checks it). */
  store: z.string().min(1).optional(),
  /** This host's name in a fleet that shares a PostgreSQL store (LANEKEEPER_HOST overrides; default: the machine's host name). */
  host: z.string().min(1).optional(),
  width: z.number().int().min(1).max(256).optional().default(3),
  /** Events between checkpoints of the actors (replay and restarts begin at the latest one). */
  checkpoint_every: z.number().int().min(10).max(1_000_000).optional().default(1000),
  schedule: z
    .strictObject({
      interval: boundedDuration(30 * 60_000, 'schedule.interval'),
      jitter: duration(120_000),
      tick_on_start: z.boolean().optional().default(true),
    })
    .prefault({}),
  sessions: z
    .strictObject({
      kill_grace: duration(30_000),
      drain_grace: duration(5 * 60_000),
      // After a crash: watch a session the dead runtime left running to its end, or stop it.
      on_restart: z.enum(['adopt', 'kill']).default('adopt'),
    })
    .prefault({}),
  claims: z
    .strictObject({
      lane_ttl: boundedDuration(120_000, 'claims.lane_ttl'),
      sweep_every: duration(30_000, 100),
    })
    .prefault({}),
  hooks: z
    .strictObject({
      before_session: z.array(templated).min(1).optional(),
      timeout: duration(5 * 60_000, 1000),
      wait: duration(10 * 60_000),
    })
    .prefault({}),
  selector: z
    .strictObject({
      model: z.enum(['npts', 'beta']).optional().default('npts'),
      forgetting: z
        .strictObject({
          per_pull: z.number().gt(0).max(1).optional(),
          idle: z.number().gt(0).max(1).optional(),
          stale_after: z
            .union([z.number().int().min(1), z.literal('never')], {
              error: 'expected a whole number of graded sessions (at least 1), or never',
            })
            .optional(),
          detector: z
            .union([z.boolean(), z.strictObject({ threshold: z.number().gt(0).max(100) })], {
              error: 'expected true, false, or { threshold: N }',
            })
            .optional(),
        })
        .optional()
        .default({}),
      share_weight: z.number().min(0).max(100).optional().default(1),
      monotony: z
        .strictObject({
          streak: z.number().int().min(2).optional().default(3),
          penalty: z.number().min(0).max(10).optional().default(0),
        })
        .prefault({}),
      neglect: z
        .strictObject({
          share: share.optional().default(0.05),
          window: duration(7 * 24 * 3_600_000, 60_000),
          min_sessions: z.number().int().min(1).optional().default(20),
          bonus: z.number().min(0).max(10).optional().default(0),
        })
        .prefault({}),
      signals: z
        .strictObject({ file: z.string().min(1), weight: z.number().min(0).max(10).optional().default(0.1) })
        .optional(),
      command: z.array(runtimeTemplated).min(1).optional(),
      timeout: duration(30_000, 100),
      allowlist: z.array(z.string()).optional().default([]),
      fill: z.enum(['builtin', 'none']).optional().default('builtin'),
    })
    .prefault({}),
  resources: z
    .strictObject({
      enabled: z.boolean().optional().default(true),
      skip_load: z.number().min(0).optional().default(0.9),
      width1_load: z.number().min(0).optional().default(0.75),
      width2_load: z.number().min(0).optional().default(0.6),
      min_memory: share.optional().default(0.2),
    })
    .prefault({}),
  grading: z
    .strictObject({
      command: z.array(runtimeTemplated).min(1).optional(),
      timeout: duration(2 * 60_000, 100),
      weights: z.record(z.string().min(1), z.number().min(0).max(1000)).optional(),
    })
    .prefault({}),
  tasks: z.strictObject({ dir: z.string().min(1) }).optional(),
  /**
   * Journal retention (off unless `keep` is set): events, effects and transitions older than the
   * oldest checkpoint kept are deleted, after being archived to `archive_dir` when it is set.
   */
  journal: z
    .strictObject({
      keep: optionalDuration(KEY_BOUNDS['journal.keep']),
      archive_dir: z.string().min(1).optional(),
    })
    .prefault({}),
  lanes: z.array(laneSchema).min(1),
  backends: z.array(backendSchema).min(1),
});

export type RawConfig = z.output<typeof configSchema>;
