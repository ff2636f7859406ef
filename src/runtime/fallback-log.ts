// What the log has already told of the selector's fallbacks. A selector whose payload keeps naming
// a lane that is not configured would otherwise write the same line every tick: under one payload
// each fallback is logged the first time it appears, and later ticks under the same payload only
// count it ("1 fallback as logged at tick 12"). Another payload (another verdict, or another
// contract violation) starts afresh, so news is never held back. The memory is the shell's own:
// the machines, the journal and the recorded decisions keep every fallback of every tick.
import { fallbacksInFull, type Fallback } from '../format/decision.js';
import type { TickInputs } from '../policy/plan-tick.js';

export interface FallbackNews {
  /** Fallbacks not logged before under this payload. */
  fresh: Fallback[];
  /** How many of the tick's fallbacks were logged before, and the ticks that logged them (first and last). */
  repeated: number;
  since: number | null;
  until: number | null;
  /**
   * Whether a fresh one is worth a warning: the selector broke its contract or named a lane that
   * is not configured, the allowlist stood in, or the signals file could not be read. A named lane
   * that is busy, or a slot filled from the built-in ranking, is the normal course of a tick.
   */
  warn: boolean;
}

const WARN_STEPS = new Set(['builtin', 'allowlist', 'signals']);
const key = (f: Fallback) => `${f.step}\0${f.reason}`;

export class FallbackLog {
  private payload: string | null = null;
  /** Fallbacks logged under the current payload, and the tick that logged each. */
  private readonly told = new Map<string, number>();

  /** The fallbacks of tick `seq`, decided from `inputs`: which to log now. */
  note(seq: number, fallbacks: readonly Fallback[], inputs: TickInputs | undefined): FallbackNews {
    const payload = JSON.stringify(inputs?.external ?? null);
    if (payload !== this.payload) {
      this.payload = payload;
      this.told.clear();
    }
    const external = inputs?.external;
    const unknown = new Set(
      external?.ok ? (external.ignored ?? []).map((i) => key({ step: i.step, reason: i.reason })) : [],
    );
    const fresh: Fallback[] = [];
    let repeated = 0;
    let since: number | null = null;
    let until: number | null = null;
    for (const f of fallbacks) {
      const at = this.told.get(key(f)) ?? seq;
      this.told.set(key(f), at);
      if (at === seq) fresh.push(f);
      else {
        repeated++;
        since = Math.min(since ?? at, at);
        until = Math.max(until ?? at, at);
      }
    }
    return { fresh, repeated, since, until, warn: fresh.some((f) => WARN_STEPS.has(f.step) || unknown.has(key(f))) };
  }
}

/** The fallbacks part of a tick's log line: the fresh ones in full, the rest counted. */
export function loggedFallbacks(news: FallbackNews): string {
  const parts = [];
  if (news.fresh.length) parts.push(fallbacksInFull(news.fresh));
  const when =
    news.since === news.until
      ? `at the tick at event ${news.since}`
      : `at the ticks at events ${news.since}–${news.until}`;
  if (news.repeated)
    parts.push(`${news.repeated} fallback${news.repeated === 1 ? '' : 's'} as logged ${when} (same selector payload)`);
  return parts.join('; ');
}
