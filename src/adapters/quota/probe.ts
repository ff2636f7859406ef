// Runs a backend's quota probe (a program printing one JSON object) and reads its report, never
// throwing: a probe that cannot start, fails, hangs, floods or prints nonsense is `ok: false` with
// the reason, which the caller caches and journals like a report. The run itself is
// adapters/process/program.ts (no shell, its own process group, a time limit, an output cap).
//
// The report:
//   {"available": true, "windows": [{"name": "5h", "utilization": 0.93, "resets_at": "2026-08-08T17:00:00Z"}]}
// - `available` (boolean) is required. `windows` may be left out (no windows). Fields neither
//   names are ignored, at the top and in windows (check-quota.py prints many).
// - `utilization` is a fraction: a finite number ≥ 0. Above 1 (Bob's reports overshoot, e.g. 1.02)
//   it is clamped to 1, up to 2; above 2 it is rejected as probably a percentage (93 for 93%),
//   which read as a fraction would wrongly say "exhausted".
// - `resets_at` is an ISO-8601 time (a time without an offset is read as UTC), or an epoch
//   number: below 1e12 it is seconds, else milliseconds (1e12 s is the year 33658, 1e12 ms is
//   2001, so no plausible time is ambiguous). Null or left out: unknown.
import { z } from 'zod';
import { describeValue, formatIssues, formatPath } from '../../config/problems.js';
import type { QuotaReport } from '../../policy/availability.js';
import { jsonObject, runProblem } from '../../policy/program-run.js';
import { runProgram } from '../process/program.js';

export type { QuotaReport, QuotaWindow } from '../../policy/availability.js';

/** Output beyond this many characters (stdout or stderr) stops the probe. */
export const QUOTA_PROBE_OUTPUT_CAP = 64 * 1024;
/** Utilization up to this is clamped to 1; beyond it, rejected. */
export const UTILIZATION_CLAMP_LIMIT = 2;
/** Epoch numbers below this are seconds, at or above it milliseconds. */
export const EPOCH_MS_FROM = 1e12;

export type QuotaProbeResult =
  { ok: true; report: QuotaReport; durationMs: number } | { ok: false; reason: string; durationMs: number };

export interface QuotaProbeOptions {
  timeoutMs: number;
  /** Added to this process's environment. */
  env?: Record<string, string>;
}

const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

const resetsAt = z
  .union([z.string(), z.number(), z.null()], {
    error: 'expected an ISO-8601 time, epoch seconds or milliseconds, or null',
  })
  .optional()
  .transform((v, ctx): number | null => {
    if (v === undefined || v === null) return null;
    const ms = resetsAtMs(v);
    if (ms === null) {
      ctx.addIssue({
        code: 'custom',
        message: `expected an ISO-8601 time or a non-negative epoch number, got ${describeValue(v)}`,
        input: v,
      });
      return z.NEVER;
    }
    return ms;
  });

const utilization = z
  .number()
  .min(0)
  .transform((u, ctx) => {
    if (u > UTILIZATION_CLAMP_LIMIT) {
      ctx.addIssue({ code: 'custom', message: `expected a fraction 0..1, got ${u} (a percentage?)`, input: u });
      return z.NEVER;
    }
    return Math.min(u, 1);
  });

const reportSchema = z.object({
  available: z.boolean(),
  windows: z
    .array(
      z.object({
        name: z.string().regex(/\S/, { message: 'expected a non-empty string' }),
        utilization,
        resets_at: resetsAt,
      }),
    )
    .optional(),
});

/** Epoch ms from a resets_at value, or null when it is not a time. */
export function resetsAtMs(v: string | number): number | null {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) return null;
    return v < EPOCH_MS_FROM ? v * 1000 : v;
  }
  const s = v.trim();
  const m = ISO.exec(s);
  if (!m) return null;
  // A date-time without an offset is local time to Date.parse; the probe's clock is not ours, so UTC.
  const hasTime = /[T ]\d/i.test(s);
  const ms = Date.parse(hasTime && m[1] === undefined ? `${s.replace(' ', 'T')}Z` : s.replace(' ', 'T'));
  return Number.isFinite(ms) ? ms : null;
}

/** Reads a probe's stdout. Pure. */
export function parseQuotaReport(stdout: string): { ok: true; report: QuotaReport } | { ok: false; reason: string } {
  const json = jsonObject(stdout, 'with "available" and "windows"');
  if (!json.ok) return json;
  const parsed = reportSchema.safeParse(json.data, { reportInput: true });
  if (!parsed.success) {
    // JSON can spell Infinity (1e999); zod calls it "not a number", and describeValue says null.
    const issues = parsed.error.issues.map((i) =>
      i.code === 'invalid_type' && typeof i.input === 'number' && !Number.isFinite(i.input)
        ? { ...i, code: 'custom' as const, message: `expected a finite number, got ${i.input}` }
        : i,
    );
    const text = formatIssues(issues as typeof parsed.error.issues)
      .slice(0, 3)
      .map((p) => `${formatPath(p.path)}: ${p.message}`)
      .join('; ');
    return { ok: false, reason: `not a quota report: ${text}` };
  }
  const windows = (parsed.data.windows ?? []).map((w) => ({
    name: w.name,
    utilization: w.utilization,
    resetsAt: w.resets_at,
  }));
  return { ok: true, report: { available: parsed.data.available, windows } };
}

export async function runQuotaProbe(argv: readonly string[], opts: QuotaProbeOptions): Promise<QuotaProbeResult> {
  const run = await runProgram(argv, {
    ...opts,
    outputCap: QUOTA_PROBE_OUTPUT_CAP,
    emptyCommand: 'the quota probe command is empty',
  });
  const failed = runProblem(run, { timeoutMs: opts.timeoutMs });
  if (failed) return { ok: false, reason: failed, durationMs: run.durationMs };
  const parsed = parseQuotaReport(run.stdout);
  return parsed.ok
    ? { ok: true, report: parsed.report, durationMs: run.durationMs }
    : { ok: false, reason: parsed.reason, durationMs: run.durationMs };
}
