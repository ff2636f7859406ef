// Executes the intents the machines produce, through the adapters, and reports results back to
// the bus as events. Every promise is tracked so shutdown can wait for the last write.
import type { Logger } from 'pino';
import type { SelectorMemory, Store } from '../ports/store.js';
import type { ResolvedConfig } from '../config/types.js';
import type { BusEvent, StampedEvent } from '../machines/events.js';
import type {
  Intent,
  LaneNoteIntent,
  RecordDecisionIntent,
  ReleaseClaimIntent,
  RequestClaimIntent,
  SaveLearningIntent,
} from '../machines/intents.js';
import path from 'node:path';
import { holdFlock } from '../adapters/flock/hold.js';
import { expandTemplate } from '../config/template.js';
import { formatDuration } from '../config/duration.js';
import { decisionLine } from '../format/decision.js';
import { FallbackLog, loggedFallbacks } from './fallback-log.js';
import { isoSeconds } from '../format/time.js';
import type { SessionSupervisor } from '../adapters/process/supervisor.js';
import { isLaneKey } from '../policy/task-tiers.js';
import { emptyLearning } from '../policy/learning.js';

export interface EffectDeps {
  config: ResolvedConfig;
  store: Store;
  log: Logger;
  supervisor: SessionSupervisor;
  push: (event: BusEvent) => void;
  /** The selector's learning as of the event being handled (read when a saveLearning runs). */
  memory: () => SelectorMemory;
  /** Arms that may not run now (crash loops, …), passed to the lane with its slot. */
  blockedArms?: () => Record<string, string>;
}

export class EffectRunner {
  private readonly inflight = new Set<Promise<unknown>>();
  /** flock holds on lanes' lock files, by session id. */
  private readonly flocks = new Map<string, () => Promise<void>>();
  /**
   * Claim and release effects of one lane run in order: a respawn's claim (cooldown 0) must not
   * race the release of the slot (and lock file) of the session before it.
   */
  private readonly laneChains = new Map<string, Promise<unknown>>();
  /** Grades folded into a shared store, one after another (a tick waits for them first). */
  private learningChain: Promise<unknown> = Promise.resolve();
  /** Which fallbacks the log has told under the current selector payload. */
  private readonly fallbacks = new FallbackLog();

  constructor(private readonly deps: EffectDeps) {}

  run(intent: Intent, cause: StampedEvent): void {
    const { push, log } = this.deps;
    switch (intent.type) {
      case 'requestClaim':
        this.inLane(intent.laneId, () =>
          this.claimLane(intent).catch((err: Error) => push(denied(intent, null, null, `store error: ${err.message}`))),
        );
        break;
      case 'releaseClaim':
        this.inLane(intent.laneId, () => this.releaseClaim(intent));
        break;
      case 'startSession':
        this.deps.supervisor.start(intent);
        break;
      case 'stopSession':
        log.child({ lane: intent.laneId }).warn(`stopping ${intent.sessionId}: ${intent.reason}`);
        this.deps.supervisor.stop(intent.sessionId, intent.reason);
        break;
      case 'recordDecision':
        this.recordDecision(intent, cause);
        break;
      case 'saveLearning':
        this.saveLearning(intent, cause);
        break;
      case 'laneNote':
        logLaneNote(log.child({ lane: intent.laneId }), intent, cause.now);
        break;
    }
  }

  /** The lane's lock file first (flock), then the claim, with its fencing token. */
  private async releaseClaim(intent: ReleaseClaimIntent): Promise<void> {
    const { store, log } = this.deps;
    if (isLaneKey(intent.key)) {
      await this.flocks.get(intent.sessionId)?.();
      this.flocks.delete(intent.sessionId);
    }
    const r = await store.claims.release({ key: intent.key, holder: intent.sessionId, token: intent.token });
    if (!r.ok) log.warn({ key: intent.key, session: intent.sessionId }, `could not release ${intent.key}: ${r.reason}`);
    // Its lease ran out first and nobody took it since: nothing to give back.
    else if (r.expiredAt !== undefined)
      log.info(
        { key: intent.key, session: intent.sessionId },
        `${intent.key} had expired at ${isoSeconds(r.expiredAt)}; nothing to release`,
      );
  }

  /** Stored for `status` and `stats`, and logged in a line (a fallback told once per payload). */
  private recordDecision(intent: RecordDecisionIntent, cause: StampedEvent): void {
    const { store, log } = this.deps;
    this.track(
      store.decisions.record({
        seq: intent.seq,
        at: cause.now,
        kind: intent.kind,
        chosen: intent.chosen.map((c) => c.laneId),
        detail: intent,
      }),
    );
    const news =
      intent.kind === 'tick'
        ? this.fallbacks.note(intent.seq, intent.fallbacks, cause.type === 'TICK' ? cause.inputs : undefined)
        : null;
    const line = decisionLine(intent, news ? { fallbacks: () => loggedFallbacks(news) } : {});
    if ((intent.kind === 'tick' && intent.gate.action === 'skip') || news?.warn) log.warn(line);
    else log.info(line);
  }

  private saveLearning(intent: SaveLearningIntent, cause: StampedEvent): void {
    const { store } = this.deps;
    if (!store.shared) return this.track(store.learning.save(this.deps.memory(), cause.now));
    if (cause.type !== 'SESSION_GRADED' && cause.type !== 'SESSION_REGRADED') return;
    // Hosts share the posteriors: this grade is folded into them, atomically, in order.
    const update = {
      session: cause.sessionId,
      lane: intent.lane,
      arm: cause.arm ?? null,
      grade: cause.grade!,
      regrade: cause.type === 'SESSION_REGRADED',
    };
    // Nothing stored yet: begin from nothing learned, with this selector's settings.
    const m = this.deps.memory();
    const fresh = {
      learning: emptyLearning(m.learning.model, m.learning.forgetting),
      arms: emptyLearning(m.learning.model, m.arms?.forgetting ?? m.learning.forgetting),
      fairness: m.fairness,
      graded: [],
    };
    this.learningChain = this.learningChain
      .catch(() => {})
      .then(() => store.learning.applyGrade(update, fresh, cause.now));
    this.track(this.learningChain);
  }

  /** The lane slot from the store, then the lane's lock_file (if any) with flock. */
  private async claimLane(intent: RequestClaimIntent): Promise<void> {
    const { store, config, push } = this.deps;
    const r = await store.claims.acquire({
      key: intent.key,
      holder: intent.sessionId,
      ttlMs: config.claims.laneTtlMs,
      slots: intent.slots,
    });
    if (!r.granted) {
      push(
        denied(
          intent,
          r.holder,
          r.expiresAt,
          r.state === 'completed' ? `${r.key} already completed by ${r.holder}` : `${r.key} held by ${r.holder}`,
        ),
      );
      return;
    }
    const lockFile = isLaneKey(intent.key) ? config.lanes.find((l) => l.name === intent.lane)?.lockFile : null;
    if (lockFile) {
      const file = path.resolve(
        config.stateDir,
        expandTemplate(lockFile, { lane: intent.lane, state: config.stateDir }),
      );
      const hold = await holdFlock(file).catch((err: Error) => ({
        ok: false as const,
        reason: `flock on ${file} failed: ${err.message}`,
      }));
      if (!hold.ok) {
        await store.claims.release({ key: r.key, holder: intent.sessionId, token: r.token, result: 'lock_file busy' });
        push(denied(intent, null, null, hold.reason));
        return;
      }
      this.flocks.set(intent.sessionId, hold.release);
    }
    const blocked = isLaneKey(intent.key) ? (this.deps.blockedArms?.() ?? {}) : {};
    push({
      type: 'CLAIM_GRANTED',
      laneId: intent.laneId,
      sessionId: intent.sessionId,
      key: r.key,
      slot: r.slot,
      token: r.token,
      expiresAt: r.expiresAt,
      ...(Object.keys(blocked).length ? { blockedArms: blocked } : {}),
    });
  }

  private inLane(laneId: string, run: () => Promise<unknown>): void {
    // A failure earlier in the chain is logged by track(); it must not stop what comes after.
    const next = (this.laneChains.get(laneId) ?? Promise.resolve()).catch(() => {}).then(run);
    this.laneChains.set(laneId, next);
    this.track(next);
  }

  private track(p: Promise<unknown>): void {
    const tracked = p
      .catch((err: unknown) => this.deps.log.error({ err }, 'effect failed'))
      .finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }

  /** Resolves once every grade handed over so far is in the shared store. */
  async learningSettled(): Promise<void> {
    await this.learningChain.catch(() => {});
  }

  async settled(): Promise<void> {
    while (this.inflight.size) await Promise.all([...this.inflight]);
    for (const release of this.flocks.values()) await release();
    this.flocks.clear();
  }
}

function denied(intent: RequestClaimIntent, holder: string | null, expiresAt: number | null, reason: string): BusEvent {
  return {
    type: 'CLAIM_DENIED',
    laneId: intent.laneId,
    sessionId: intent.sessionId,
    key: intent.key,
    holder,
    expiresAt,
    reason,
  };
}

/** Arms left out of a choice, with why: "a:x (tier 3 above max_tier 2), b:y (…)". */
function excludedText(excluded: Readonly<Record<string, string>>): string {
  const entries = Object.entries(excluded);
  return entries.length ? entries.map(([arm, why]) => `${arm}: ${why}`).join('; ') : 'the lane names none';
}

/** A lane's note (cooldown, respawn, denial, no arm, the arm it runs on, draining) as a log line. */
function logLaneNote(lane: Logger, intent: LaneNoteIntent, now: number): void {
  if (intent.note === 'cooldown') {
    lane.info(`cooling down for ${formatDuration(Math.max(0, (intent.detail.until ?? now) - now))}`);
  } else if (intent.note === 'respawn') {
    const d = intent.detail;
    lane.info(
      `respawn: ${d.sessionId} follows ${d.parent} back to back (chain ${d.chain}/${d.chainLimit})${d.why ? `; ${d.why}` : ''}`,
    );
  } else if (intent.note === 'denied') {
    lane.info(`slot denied: ${intent.detail.reason}`);
  } else if (intent.note === 'no_arm') {
    const until = intent.detail.until === null ? 'a retry' : new Date(intent.detail.until).toISOString();
    lane.warn(`no eligible arm (${excludedText(intent.detail.excluded)}); waiting until ${until}`);
  } else if (intent.note === 'arm') {
    const d = intent.detail;
    const excluded = Object.keys(d.excluded).length ? `; left out: ${excludedText(d.excluded)}` : '';
    lane.debug(
      `${d.sessionId} runs on ${d.arm} (draw ${Number(d.sample).toFixed(2)} from its ${d.source} posterior${excluded})`,
    );
  } else {
    lane.info(`slot given back: draining`);
  }
}
