// Executes the intents the machines produce, through the adapters, and reports results back to
// the bus as events. Every promise is tracked so shutdown can wait for the last write.
import type { Logger } from 'pino';
import type { Store } from '../adapters/store/ports.js';
import type { ResolvedConfig } from '../config/types.js';
import type { BusEvent, StampedEvent } from '../machines/events.js';
import type { Intent, RecordDecisionIntent } from '../machines/intents.js';
import { formatDuration } from '../config/duration.js';
import type { SessionSupervisor } from './sessions.js';

export interface EffectDeps {
  config: ResolvedConfig;
  store: Store;
  log: Logger;
  supervisor: SessionSupervisor;
  push: (event: BusEvent) => void;
}

export class EffectRunner {
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(private readonly deps: EffectDeps) {}

  run(intent: Intent, cause: StampedEvent): void {
    const { store, config, push, log } = this.deps;
    switch (intent.type) {
      case 'requestClaim':
        this.track(
          store.claims
            .acquire({ key: intent.key, holder: intent.sessionId, ttlMs: config.claims.laneTtlMs, slots: intent.slots })
            .then((r) =>
              push(
                r.granted
                  ? { type: 'CLAIM_GRANTED', laneId: intent.laneId, sessionId: intent.sessionId, key: r.key, slot: r.slot, token: r.token, expiresAt: r.expiresAt }
                  : {
                      type: 'CLAIM_DENIED',
                      laneId: intent.laneId,
                      sessionId: intent.sessionId,
                      key: r.key,
                      holder: r.holder,
                      expiresAt: r.expiresAt,
                      reason: r.state === 'completed' ? `${r.key} already completed by ${r.holder}` : `${r.key} held by ${r.holder}`,
                    },
              ),
            )
            .catch((err: Error) =>
              push({ type: 'CLAIM_DENIED', laneId: intent.laneId, sessionId: intent.sessionId, key: intent.key, holder: null, expiresAt: null, reason: `store error: ${err.message}` }),
            ),
        );
        break;
      case 'releaseClaim':
        this.track(
          store.claims.release({ key: intent.key, holder: intent.sessionId, token: intent.token }).then((r) => {
            if (!r.ok) log.warn({ key: intent.key, session: intent.sessionId }, `could not release ${intent.key}: ${r.reason}`);
          }),
        );
        break;
      case 'startSession':
        this.deps.supervisor.start(intent);
        break;
      case 'recordDecision':
        this.track(store.decisions.record({ seq: intent.seq, at: cause.now, kind: intent.kind, chosen: intent.chosen, detail: intent }));
        log.info(decisionLine(intent));
        break;
      case 'laneNote': {
        const lane = log.child({ lane: intent.laneId });
        const d = intent.detail;
        if (intent.note === 'cooldown') {
          const until = d.until as number;
          lane.info(`cooling down for ${formatDuration(Math.max(0, until - cause.now))}`);
        } else if (intent.note === 'respawn') {
          lane.info(`respawn: ${String(d.sessionId)} follows ${String(d.parent)} back to back (chain ${String(d.chain)}/${String(d.chainLimit)})`);
        } else if (intent.note === 'denied') {
          lane.info(`slot denied: ${String(d.reason)}`);
        } else if (intent.note === 'no_arm') {
          lane.warn(`no eligible arm; waiting until ${new Date(d.until as number).toISOString()}`);
        } else {
          lane.info(`slot given back: draining`);
        }
        break;
      }
    }
  }

  private track(p: Promise<unknown>): void {
    const tracked = p.catch((err: unknown) => this.deps.log.error({ err }, 'effect failed')).finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }

  async settled(): Promise<void> {
    while (this.inflight.size) await Promise.all([...this.inflight]);
  }
}

function decisionLine(d: RecordDecisionIntent): string {
  const skipped = d.skipped.length ? `; skipped ${d.skipped.map((s) => `${s.laneId} (${s.reason})`).join(', ')}` : '';
  if (d.kind === 'pivot') return `pivot after a denied slot → ${d.chosen.join(', ') || 'nothing'}${skipped}`;
  return `tick ${d.seq}: ${d.chosen.length ? `slots → ${d.chosen.join(', ')}` : 'no lane dispatched'}${skipped}`;
}
