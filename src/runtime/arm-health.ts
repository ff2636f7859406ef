// Which arms may not run now, as the shell sees it, passed to the lanes with each lane-slot grant
// so the choice stays replayable from the journal:
// - quota: a backend with a probe is asked at most every `quota.every` (10 min); a window at 90%
//   blocks it until that window resets, 70% shortens its sessions' time limit;
// - a backend without a probe (or whose probe failed) is blocked after a failed session for its
//   `rest_after_failure` (30 min by default; 0s: not at all);
// - an arm whose agent failed to start 3 times in a row rests for 60 min (a crash loop).
// The rules are pure (policy/availability.ts); this keeps the facts they need.
import { runQuotaProbe } from '../adapters/quota/probe.js';
import { expandTemplate } from '../config/template.js';
import type { ArmConfig } from '../config/types.js';
import type { BusEvent, StampedEvent } from '../machines/events.js';
import type { Intent } from '../machines/intents.js';
import type { SessionRow } from '../ports/store.js';
import { armBlocks, isFresh, type QuotaReport, type SessionEnd, type StartAttempt } from '../policy/availability.js';

/** Start attempts and session ends kept per arm or backend: enough for the rules' windows. */
const KEEP = 20;

export class ArmHealth {
  private readonly armOf = new Map<string, string>();
  private readonly started = new Set<string>();
  private readonly starts: Record<string, StartAttempt[]> = {};
  private readonly ends: Record<string, SessionEnd[]> = {};
  private readonly reports: Record<string, { report: QuotaReport | null; observedAt: number }> = {};
  /** The last verdict, and the time it was for: kept until a fact changes (observe, refresh, reconfigure). */
  private last: { now: number; verdict: ReturnType<ArmHealth['verdict']> } | null = null;

  constructor(
    private arms: readonly ArmConfig[],
    private readonly stateDir: string,
  ) {}

  /** A reload: the arms configured now. What was seen of each arm and backend is kept. */
  reconfigure(arms: readonly ArmConfig[]): void {
    this.arms = arms;
    this.last = null;
  }

  /**
   * What the sessions of earlier runs say, at a start: every start goes on from the last run, and
   * an arm's rest (a failed session of a backend without a quota report, a crash loop of failed
   * starts) is part of what it goes on with. Rebuilt from the session records (the last run may
   * have drained and checkpointed, so the journal after its checkpoint holds none of them), in the
   * order they happened, as observe() would have seen them.
   */
  restore(sessions: readonly Pick<SessionRow, 'arm' | 'pid' | 'started_at' | 'ended_at' | 'outcome'>[]): void {
    const facts: { at: number; arm: string; start?: StartAttempt; end?: SessionEnd }[] = [];
    for (const s of sessions) {
      if (s.ended_at === null || s.outcome === null) continue;
      // Started (a process ran): a start; never started and failed: a failed start (as observe()).
      if (s.pid !== null)
        facts.push({ at: s.started_at, arm: s.arm, start: { at: s.started_at, failedToStart: false } });
      else if (s.outcome === 'failed')
        facts.push({ at: s.ended_at, arm: s.arm, start: { at: s.ended_at, failedToStart: true } });
      facts.push({ at: s.ended_at, arm: s.arm, end: { at: s.ended_at, outcome: s.outcome } });
    }
    facts.sort((a, b) => a.at - b.at);
    for (const f of facts) {
      if (f.start) push(this.starts, f.arm, f.start);
      const backend = this.arms.find((a) => a.id === f.arm)?.backend;
      if (f.end && backend) push(this.ends, backend, f.end);
    }
    this.last = null;
  }

  /** Follows each session from its start intent to its exit. */
  observe(event: StampedEvent, intents: readonly Intent[]): void {
    for (const i of intents) if (i.type === 'startSession') this.armOf.set(i.sessionId, i.arm);
    if (event.type === 'SESSION_STARTED') {
      this.last = null;
      this.started.add(event.sessionId);
      push(this.starts, this.armOf.get(event.sessionId) ?? event.arm, { at: event.now, failedToStart: false });
    } else if (event.type === 'SESSION_EXITED') {
      this.last = null;
      const arm = this.armOf.get(event.sessionId);
      const backend = this.arms.find((a) => a.id === arm)?.backend;
      // Stopped before it began (a drain) is no failure of the arm.
      if (arm && !this.started.has(event.sessionId) && event.outcome === 'failed')
        push(this.starts, arm, { at: event.now, failedToStart: true });
      if (backend) push(this.ends, backend, { at: event.now, outcome: event.outcome });
      this.armOf.delete(event.sessionId);
      this.started.delete(event.sessionId);
    }
  }

  /**
   * Asks the backends whose quota report is stale; each probe is reported as an event.
   * `whileProbing` runs once the probes are under way, when there are any: time the main thread
   * would otherwise spend waiting for them.
   */
  async refresh(now: number, report: (event: BusEvent) => void, whileProbing?: () => void): Promise<void> {
    const stale = [...new Map(this.arms.filter((a) => a.quota).map((a) => [a.backend, a.quota!]))].filter(
      ([backend, quota]) => {
        const seen = this.reports[backend];
        return !(seen && isFresh(seen.observedAt, now, quota.everyMs));
      },
    );
    const probes = Promise.all(
      stale.map(async ([backend, quota]) => {
        const argv = quota.command.map((part) =>
          expandTemplate(part, { node: process.execPath, state: this.stateDir }),
        );
        const r = await runQuotaProbe(argv, { timeoutMs: quota.timeoutMs });
        // A probe that fails says nothing: the backend falls back to the no-probe rule, said so.
        this.reports[backend] = { report: r.ok ? r.report : null, observedAt: now };
        this.last = null;
        report({
          type: 'QUOTA_OBSERVED',
          backend,
          report: r.ok ? r.report : null,
          reason: r.ok ? null : `quota probe failed: ${r.reason}`,
        });
      }),
    );
    if (stale.length) whileProbing?.();
    await probes;
  }

  /**
   * Arms that may not run at `now`, with the reason, and arms whose sessions get the short limit.
   * Asked for every claim and every session: the claims of one tick, granted within the same
   * millisecond, share one answer.
   */
  verdict(now: number): { blocked: Record<string, string>; shortened: string[] } {
    if (this.last?.now === now) return this.last.verdict;
    const backends = Object.fromEntries(
      this.arms.map((a) => [
        a.backend,
        {
          report: this.reports[a.backend]?.report ?? null,
          sessions: this.ends[a.backend] ?? [],
          restAfterFailureMs: a.restAfterFailureMs,
        },
      ]),
    );
    const v = armBlocks(
      this.arms.map((a) => ({ id: a.id, backend: a.backend })),
      { backends, starts: this.starts },
      now,
    );
    const verdict = { blocked: v.blocked, shortened: v.shortened };
    this.last = { now, verdict };
    return verdict;
  }
}

function push<T>(into: Record<string, T[]>, key: string, item: T): void {
  into[key] = [...(into[key] ?? []), item].slice(-KEEP);
}
