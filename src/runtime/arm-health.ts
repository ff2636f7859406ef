// Which arms may not run now, as the shell sees it from the sessions it supervised: an arm whose
// agent failed to start 3 times in a row rests for 60 minutes (a crash loop), and that rest is
// passed to the lanes with each lane-slot grant, so the choice stays replayable from the journal.
// Quota probes and the no-probe failure rule (policy/availability.ts) plug in here next.
import type { ArmConfig } from '../config/types.js';
import type { StampedEvent } from '../machines/events.js';
import type { Intent } from '../machines/intents.js';
import { armBlocks, type StartAttempt } from '../policy/availability.js';

/** Start attempts kept per arm: enough to see a loop of 3. */
const KEEP = 10;

export class ArmHealth {
  private readonly armOf = new Map<string, string>();
  private readonly started = new Set<string>();
  private readonly starts: Record<string, StartAttempt[]> = {};

  constructor(private readonly arms: readonly ArmConfig[]) {}

  /** Follows each session from its start intent to its exit. */
  observe(event: StampedEvent, intents: readonly Intent[]): void {
    for (const i of intents) if (i.type === 'startSession') this.armOf.set(i.sessionId, i.arm);
    if (event.type === 'SESSION_STARTED') {
      this.started.add(event.sessionId);
      this.note(this.armOf.get(event.sessionId) ?? event.arm, { at: event.now, failedToStart: false });
    } else if (event.type === 'SESSION_EXITED') {
      const arm = this.armOf.get(event.sessionId);
      // Stopped before it began (a drain) is no failure of the arm.
      if (arm && !this.started.has(event.sessionId) && event.outcome === 'failed') this.note(arm, { at: event.now, failedToStart: true });
      this.armOf.delete(event.sessionId);
      this.started.delete(event.sessionId);
    }
  }

  /** Arms that may not run at `now`, with the reason. */
  blocked(now: number): Record<string, string> {
    return armBlocks(
      this.arms.map((a) => ({ id: a.id, backend: a.backend })),
      // No quota reports yet, and no sessions for the no-probe rule: only crash loops block.
      { backends: Object.fromEntries(this.arms.map((a) => [a.backend, { report: null, sessions: [] }])), starts: this.starts },
      now,
    ).blocked;
  }

  private note(arm: string, attempt: StartAttempt): void {
    this.starts[arm] = [...(this.starts[arm] ?? []), attempt].slice(-KEEP);
  }
}
